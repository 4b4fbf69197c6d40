//! Hot reload the way the kubelet updates a ConfigMap volume, while the app writes: no line lost
//! or repeated, the new settings in effect, an invalid config refused without harm; and SIGHUP.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::compare::message_of;
use support::skiff::Skiff;
use support::wait::wait_until;
use support::workspace::Workspace;
use support::writers::{append, numbered, open_append, Writer};

/// A ConfigMap volume: `skiff.toml -> ..data/skiff.toml`, `..data -> ..<timestamp>`.
struct ConfigMapVolume {
    dir: PathBuf,
    current: PathBuf,
    generation: u32,
}

impl ConfigMapVolume {
    fn new(dir: &Path, text: &str) -> ConfigMapVolume {
        std::fs::create_dir_all(dir).unwrap();
        let mut v = ConfigMapVolume {
            dir: dir.to_path_buf(),
            current: PathBuf::new(),
            generation: 0,
        };
        let first = v.write_generation(text);
        std::os::unix::fs::symlink(first.file_name().unwrap(), dir.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/skiff.toml", dir.join("skiff.toml")).unwrap();
        v.current = first;
        v
    }

    fn write_generation(&mut self, text: &str) -> PathBuf {
        self.generation += 1;
        let gen = self
            .dir
            .join(format!("..2026_11_26_06_00_0{}.123456789", self.generation));
        std::fs::create_dir(&gen).unwrap();
        std::fs::write(gen.join("skiff.toml"), text).unwrap();
        gen
    }

    /// What the kubelet does: new timestamped directory, a temporary symlink to it renamed over
    /// `..data`, the old directory removed.
    fn update(&mut self, text: &str) {
        let gen = self.write_generation(text);
        let tmp = self.dir.join("..data_tmp");
        std::os::unix::fs::symlink(gen.file_name().unwrap(), &tmp).unwrap();
        std::fs::rename(&tmp, self.dir.join("..data")).unwrap();
        std::fs::remove_dir_all(&self.current).unwrap();
        self.current = gen;
    }

    fn path(&self) -> PathBuf {
        self.dir.join("skiff.toml")
    }
}

fn config_text(ws: &Workspace, encoding: &str) -> String {
    format!(
        r#"
data_dir = "{dir}/data"
shutdown_timeout = "10s"

[api]
address = "127.0.0.1:0"

[sources.app]
type = "file"
include = ["{dir}/logs/*.log"]

[sinks.out]
type = "console"
inputs = ["app"]
encoding = "{encoding}"
"#,
        dir = ws.dir().display()
    )
}

#[test]
fn configmap_swap_while_writing_loses_and_repeats_nothing() {
    const TOTAL: usize = 6000;
    let ws = Workspace::new();
    let mut volume = ConfigMapVolume::new(&ws.path("config"), &config_text(&ws, "json"));
    let mut skiff = Skiff::start(&volume.path(), &[]);
    assert!(wait_until(Duration::from_secs(10), || {
        skiff.get("/ready").status == 200
    }));
    // About 2,500 lines a second, 5 per write.
    let w = Writer::numbered(ws.log("app.log"), "line", TOTAL as u64, 2500, 5);

    // A valid new config, mid-stream: the console switches from JSON to text.
    skiff.wait_for_lines(500, Duration::from_secs(20));
    volume.update(&config_text(&ws, "text"));
    skiff.wait_for_metric("skiff_config_reloads_total", &[], 1.0);
    let at_reload = w.next_seq();
    assert!(
        at_reload < TOTAL as u64,
        "the reload happened while writing"
    );
    assert_eq!(skiff.get("/ready").status, 200);

    // An invalid one: refused, counted, the running pipeline untouched and ready throughout.
    let seen = skiff.line_count();
    skiff.wait_for_lines(seen + 300, Duration::from_secs(20));
    volume.update("[sources.app]\ntype = \"file\"\ninclude = 42\n");
    let mut ready_codes = Vec::new();
    assert!(wait_until(Duration::from_secs(20), || {
        ready_codes.push(skiff.get("/ready").status);
        let failures = skiff
            .scrape()
            .get("skiff_config_reload_failures_total", &[])
            .unwrap_or(0.0);
        failures == 1.0
    }));
    assert!(ready_codes.iter().all(|c| *c == 200), "{ready_codes:?}");
    assert!(
        skiff.stderr().contains("Config reload refused"),
        "{}",
        skiff.stderr()
    );
    assert_eq!(
        skiff.scrape().get("skiff_config_reloads_total", &[]),
        Some(1.0)
    );

    assert_eq!(w.join(), TOTAL as u64);
    skiff.wait_for_lines(TOTAL, Duration::from_secs(30));
    assert_eq!(skiff.get("/ready").status, 200);
    let exit = skiff.terminate(Duration::from_secs(15));
    assert_eq!(exit.code, 0, "{}", exit.stderr);

    // Every line exactly once, in order; JSON before the reload, text after.
    let lines = exit.lines;
    let messages: Vec<String> = lines.iter().map(|l| message_of(l)).collect();
    assert_eq!(messages, numbered("line", 0..TOTAL));
    let json = lines.iter().take_while(|l| l.starts_with('{')).count();
    assert!(json >= 500, "{json} JSON lines before the reload");
    assert!(
        lines[json..].iter().all(|l| !l.starts_with('{')),
        "text only after the reload"
    );
    assert!(json < TOTAL, "the new encoding is in effect");
}

#[test]
fn sighup_reloads_and_new_sinks_take_effect() {
    let ws = Workspace::new();
    let path = ws.write("skiff.toml", config_text(&ws, "text"));
    let log = ws.log("app.log");
    append(&log, &numbered("line", 0..10));
    let mut skiff = Skiff::start(&path, &[]);
    skiff.wait_for_lines(10, Duration::from_secs(10));

    // An unchanged file is not reloaded on file events, but SIGHUP forces a reload. A line
    // being written during the reload stays in the file and is shipped whole, once.
    let mut f = open_append(&log);
    f.write_all(b"line-000000").unwrap();
    skiff.signal("HUP");
    skiff.wait_for_metric("skiff_config_reloads_total", &[], 1.0);
    f.write_all(b"10\n").unwrap();
    skiff.wait_for_lines(11, Duration::from_secs(10));

    // A second sink appears with the new config (edited in place, no SIGHUP needed).
    let text = format!(
        "{}\n[sinks.count]\ntype = \"blackhole\"\ninputs = [\"app\"]\n",
        config_text(&ws, "text")
    );
    std::fs::write(&path, text).unwrap();
    skiff.wait_for_metric("skiff_config_reloads_total", &[], 2.0);
    append(&log, &numbered("line", 11..15));
    skiff.wait_for_lines(15, Duration::from_secs(10));
    skiff.wait_for_metric(
        "skiff_component_received_events_total",
        &[("component", "count")],
        4.0,
    );
    let exit = skiff.terminate(Duration::from_secs(10));
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    assert_eq!(exit.lines, numbered("line", 0..15));
}

#[test]
fn reading_the_config_does_not_trigger_another_read() {
    let ws = Workspace::new();
    let text = format!(
        "{}\n[log]\nlevel = \"info,skiff::reload=debug\"\n",
        config_text(&ws, "text")
    );
    let path = ws.write("skiff.toml", text);
    let skiff = Skiff::start(&path, &[]);
    skiff.wait_for_log("Config file unchanged.", Duration::from_secs(10));
    // Reading the file makes inotify access events; they must not start the next check (that
    // loop cost CPU every 200 ms on an idle pod). Absence can only be seen by waiting a while.
    std::thread::sleep(Duration::from_millis(1500));
    let checks = skiff.stderr().matches("Config file unchanged.").count();
    assert_eq!(checks, 1, "{}", skiff.stderr());
    assert_eq!(skiff.get("/ready").status, 200);
}
