//! Torture: the real `logrotate` binary rotates the log every few hundred milliseconds while a
//! writer appends numbered lines at a high rate, in `create` mode and in `copytruncate` mode.
//!
//! What must hold at the end, with every rotated copy kept (`rotate 1000`, no compression):
//! - `create`: every line present in any file (the live one and every copy) was shipped exactly
//!   once, and nothing shipped is garbled or partial.
//! - `copytruncate` with a glob that matches the copies (`app.log*`): the same. The only lines
//!   lost are the ones written between logrotate's copy and its truncate, which are in no file
//!   at all (no tailer can read them); the test reports how many there were.
//! - `copytruncate` with a glob that does not match the copies (`*.log`): nothing shipped twice,
//!   nothing garbled, the live file's final content shipped in full, and every line missing from
//!   the output is in a copy, after the point skiff had read when the truncation came (each
//!   copy's missing lines are a suffix of it).
//!
//! Short mode: ~3 s of writing at 40,000 lines/s; `SKIFF_TORTURE=long`: 20 s at 100,000 lines/s.

mod support;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::compare::{assert_exactly_once, counts};
use support::es::indexed_messages;
use support::es_server::{EsServer, EsServerOptions, Faults};
use support::inproc::InProc;
use support::skiff::{run_once, Exit, Skiff};
use support::torture::{is_root, pick, seed};
use support::wait::wait_until;
use support::workspace::{file_lines, files_with_prefix, Workspace};
use support::writers::{append, checked_lines, parse_checked_line, truncate, Reopen, Writer};

const T: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Create,
    CopyTruncate,
}

/// Writes a logrotate config for `log` (mode 0644: logrotate silently ignores a config that
/// others may write) and returns its path.
fn logrotate_config(ws: &Workspace, log: &Path, mode: Mode) -> PathBuf {
    let su = if is_root() { "    su root root\n" } else { "" };
    let how = match mode {
        Mode::Create => "create",
        Mode::CopyTruncate => "copytruncate",
    };
    let text = format!(
        "{}\n{{\n{su}    rotate 1000\n    {how}\n    missingok\n    nocompress\n}}\n",
        log.display()
    );
    let path = ws.write("logrotate.conf", text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    path
}

fn logrotate(conf: &Path, state: &Path) {
    let out = Command::new("logrotate")
        .arg("-s")
        .arg(state)
        .arg("-f")
        .arg(conf)
        .output()
        .unwrap_or_else(|e| panic!("cannot run logrotate (.ci/run installs it): {e}"));
    assert!(
        out.status.success(),
        "logrotate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Everything one run produced.
struct Outcome {
    /// Lines `0..written` were written.
    written: u64,
    /// How many times logrotate ran.
    rotations: usize,
    /// The rotated copies with the lines each holds (in name order: newest first).
    copies: Vec<(PathBuf, Vec<String>)>,
    /// The lines of the live file at the end.
    live: Vec<String>,
    shipped: Vec<String>,
    seed: u64,
    /// skiff's log.
    stderr: String,
}

impl Outcome {
    /// Which files hold `line`, for failure messages.
    fn whereabouts(&self, line: Option<&str>) -> String {
        let Some(line) = line else {
            return String::new();
        };
        let mut places = Vec::new();
        for (path, lines) in &self.copies {
            if let Some(i) = lines.iter().position(|l| l == line) {
                places.push(format!("{} line {i} of {}", path.display(), lines.len()));
            }
        }
        if self.live.iter().any(|l| l == line) {
            places.push("the live file".into());
        }
        format!("; {line:?} is in {places:?}")
    }

    fn saved_log(&self) -> String {
        save_log(self.seed, &self.stderr)
    }

    fn present(&self) -> Vec<String> {
        let mut all: Vec<String> = self.copies.iter().flat_map(|(_, l)| l.clone()).collect();
        all.extend(self.live.iter().cloned());
        all
    }

    /// Checks that every line present in a file was shipped, and nothing twice. Returns how many
    /// shipped lines are in no file: with copytruncate, lines skiff read from the live file
    /// between logrotate's copy and its truncate (they are written lines, shipped once).
    fn assert_present_shipped_once(&self, mode: Mode) -> usize {
        let shipped = counts(&self.shipped);
        let present = self.present();
        let in_files = counts(&present);
        let missing: Vec<&String> = present.iter().filter(|l| !shipped.contains(l)).collect();
        let repeated: Vec<(&str, usize)> = shipped.iter().filter(|(_, n)| *n > 1).collect();
        let extra: Vec<&str> = shipped
            .iter()
            .map(|(l, _)| l)
            .filter(|l| !in_files.contains(l))
            .collect();
        assert!(
            missing.is_empty() && repeated.is_empty() && (mode == Mode::CopyTruncate || extra.is_empty()),
            "seed {}, {} rotations: {} lines present in files not shipped (e.g. {:?}), {} shipped more than once (e.g. {:?}), {} shipped but in no file (e.g. {:?}); {}",
            self.seed,
            self.rotations,
            missing.len(),
            missing.first(),
            repeated.len(),
            repeated.first(),
            extra.len(),
            extra.first(),
            self.saved_log() + &self.whereabouts(repeated.first().map(|(l, _)| *l))
        );
        extra.len()
    }

    /// Checks that every shipped line is a written line, or the unterminated tail of a file
    /// (logrotate's copy can catch a write half done; skiff then ships the half it holds).
    fn assert_nothing_garbled(&self) {
        let tails: HashSet<&str> = self
            .copies
            .iter()
            .filter_map(|(p, l)| unterminated_tail(p).then(|| l.last()).flatten())
            .map(String::as_str)
            .collect();
        let bad: Vec<&String> = self
            .shipped
            .iter()
            .filter(|l| parse_checked_line(l).is_none_or(|s| s >= self.written))
            .filter(|l| !tails.contains(l.as_str()))
            .collect();
        assert!(
            bad.is_empty(),
            "seed {}: {} garbled or unknown lines shipped, e.g. {:?}; {}",
            self.seed,
            bad.len(),
            bad.iter().take(3).collect::<Vec<_>>(),
            self.saved_log()
        );
    }
}

fn unterminated_tail(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|d| d.last().is_some_and(|&b| b != b'\n'))
}

/// Where skiff ships.
#[derive(Clone, Copy)]
enum Out<'a> {
    Stdout,
    /// The test Elasticsearch, with deterministic ids and `create` actions.
    Es(&'a EsServer),
}

fn es_config(ws: &Workspace, glob: &str, url: &str) -> PathBuf {
    ws.es_config(
        glob,
        &[url.to_owned()],
        "",
        "batch = { max_events = 2000, timeout = \"50ms\" }\nretry = { initial_backoff = \"10ms\", max_backoff = \"200ms\" }",
    )
}

/// Runs skiff on `glob` while logrotate rotates `app.log` in `mode`.
fn run(mode: Mode, glob: &str, seed: u64, out: Out) -> Outcome {
    let ws = Workspace::new();
    let logs = ws.logs();
    let live = logs.join("app.log");
    std::fs::write(&live, b"").unwrap();
    let conf = logrotate_config(&ws, &live, mode);
    let state = ws.path("logrotate.state");
    let config = match out {
        Out::Stdout => ws.console_config(glob, ""),
        Out::Es(server) => es_config(&ws, glob, &server.url()),
    };
    let mut skiff = Skiff::start(&config, &[]);
    skiff.wait_for_log("Source started.", T);
    let count = || match out {
        Out::Stdout => skiff.line_count(),
        Out::Es(server) => server.total_docs(),
    };
    let shipped_now = || match out {
        Out::Stdout => skiff.lines(),
        Out::Es(server) => indexed_messages(server),
    };

    let mut rng = fastrand::Rng::with_seed(seed);
    let (rate, secs) = match out {
        Out::Stdout => pick((40_000, 3), (100_000, 20)),
        // The test server keeps every document in memory.
        Out::Es(_) => pick((40_000, 3), (50_000, 10)),
    };
    let reopen = match mode {
        Mode::Create => Reopen::WhenInodeChanges,
        Mode::CopyTruncate => Reopen::Never,
    };
    let writer = Writer::start(live.clone(), rate, 100, reopen);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut rotations = 0;
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(rng.u64(150..400)));
        logrotate(&conf, &state);
        rotations += 1;
    }
    let written = writer.stop();
    let copies: Vec<(PathBuf, Vec<String>)> = files_with_prefix(&logs, "app.log.")
        .into_iter()
        .map(|p| {
            let l = file_lines(&p);
            (p, l)
        })
        .collect();
    assert_eq!(
        copies.len(),
        rotations,
        "every logrotate run must rotate (seed {seed})"
    );
    let live_lines = file_lines(&live);

    // Wait until the output holds what skiff can know about, then stop it (the drain reads open
    // files to their end, but discovers nothing new). A copy that caught a write half done ends
    // with a piece of a line: skiff ships it only when it stops (the copy is still matched).
    let complete = |(p, l): &(PathBuf, Vec<String>)| {
        let n = l.len() - usize::from(unterminated_tail(p));
        l[..n].to_vec()
    };
    let mut must_arrive: HashSet<String> = live_lines.iter().cloned().collect();
    if !(glob == "*.log" && mode == Mode::CopyTruncate) {
        must_arrive.extend(copies.iter().flat_map(complete));
    }
    // The live file's last piece, if unterminated, also waits for the stop.
    if unterminated_tail(&live) {
        if let Some(last) = live_lines.last() {
            must_arrive.remove(last);
        }
    }
    // Counting first keeps the output collector from waiting on a lock held for a full copy.
    let arrived = wait_until(T, || {
        count() >= must_arrive.len() && {
            let got = shipped_now();
            let got = counts(&got);
            must_arrive.iter().all(|l| got.contains(l))
        }
    });
    if !arrived {
        let got = shipped_now();
        let got = counts(&got);
        let mut missing: Vec<&String> = must_arrive.iter().filter(|l| !got.contains(l)).collect();
        missing.sort();
        let place = missing.first().map(|m| {
            copies
                .iter()
                .find_map(|(p, l)| {
                    l.iter()
                        .position(|x| x == *m)
                        .map(|i| format!("{} line {i} of {}", p.display(), l.len()))
                })
                .unwrap_or_else(|| "the live file".into())
        });
        panic!(
            "seed {seed}: {} lines did not arrive (first {:?}, in {:?}); {} shipped; {}",
            missing.len(),
            missing.first(),
            place,
            count(),
            save_log(seed, &skiff.stderr())
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let Exit {
        code,
        lines: printed,
        stderr,
    } = skiff.terminate(T);
    assert_eq!(code, 0, "seed {seed}: {}", tail(&stderr));
    assert!(!stderr.contains("panicked"), "{stderr}");
    let shipped = match out {
        Out::Stdout => printed,
        Out::Es(server) => {
            assert_eq!(
                server.duplicates(),
                0,
                "seed {seed}: an id was written twice"
            );
            indexed_messages(server)
        }
    };
    Outcome {
        written,
        rotations,
        copies,
        live: live_lines,
        shipped,
        seed,
        stderr,
    }
}

/// Saves skiff's log for a failure message; returns where it is.
fn save_log(seed: u64, log: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "skiff-torture-seed{seed}-{}.log",
        std::process::id()
    ));
    match std::fs::write(&path, log) {
        Ok(()) => format!("skiff's log: {}", path.display()),
        Err(e) => format!("skiff's log could not be saved: {e}"),
    }
}

/// The last lines of a long log, for failure messages.
fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[test]
fn logrotate_create_ships_every_line_exactly_once() {
    for (glob, default_seed) in [("*.log", 11), ("app.log*", 12)] {
        let o = run(Mode::Create, glob, seed(default_seed), Out::Stdout);
        // With `create`, every written line is in some file: the test's own sanity check.
        assert_eq!(
            o.present().len() as u64,
            o.written,
            "create keeps every line"
        );
        o.assert_nothing_garbled();
        o.assert_present_shipped_once(Mode::Create);
        eprintln!(
            "create, glob {glob}: {} lines, {} rotations, every line shipped once",
            o.written, o.rotations
        );
    }
}

#[test]
fn logrotate_copytruncate_with_copies_matched_loses_only_the_copy_window() {
    let o = run(Mode::CopyTruncate, "app.log*", seed(13), Out::Stdout);
    o.assert_nothing_garbled();
    let caught = o.assert_present_shipped_once(Mode::CopyTruncate);
    let in_files: HashSet<u64> = o
        .present()
        .iter()
        .filter_map(|l| parse_checked_line(l))
        .collect();
    let window = o.written - in_files.len() as u64;
    eprintln!(
        "copytruncate, copies matched: {} lines written, {} rotations; every line in a file shipped once; {window} lines in no file (written between copy and truncate), {caught} of them read before the truncate and shipped",
        o.written, o.rotations
    );
}

#[test]
fn logrotate_copytruncate_without_copies_loses_only_what_the_copies_hold() {
    let seed = seed(14);
    let o = run(Mode::CopyTruncate, "*.log", seed, Out::Stdout);
    o.assert_nothing_garbled();
    let shipped = counts(&o.shipped);
    let repeated: Vec<_> = shipped.iter().filter(|(_, n)| *n > 1).collect();
    assert!(
        repeated.is_empty(),
        "seed {seed}: {} lines shipped twice, e.g. {:?}",
        repeated.len(),
        repeated.first()
    );
    let missing_live: Vec<&String> = o.live.iter().filter(|l| !shipped.contains(l)).collect();
    assert!(
        missing_live.is_empty(),
        "seed {seed}: {} lines of the live file not shipped, e.g. {:?}",
        missing_live.len(),
        missing_live.first()
    );
    // In each copy, skiff read a prefix before the truncation: what it did not ship is the rest.
    let mut lost_in_copies = 0;
    for (path, lines) in &o.copies {
        let first_missing = lines.iter().position(|l| !shipped.contains(l));
        if let Some(i) = first_missing {
            let shipped_after: Vec<&String> =
                lines[i..].iter().filter(|l| shipped.contains(l)).collect();
            assert!(
                shipped_after.is_empty(),
                "seed {seed}: {}: line {:?} is missing but {} later lines were shipped (e.g. {:?})",
                path.display(),
                lines[i],
                shipped_after.len(),
                shipped_after.first()
            );
            lost_in_copies += lines.len() - i;
        }
    }
    eprintln!(
        "copytruncate, copies not matched: {} lines written, {} rotations, {} shipped, {lost_in_copies} only in copies after skiff's read position",
        o.written,
        o.rotations,
        o.shipped.len()
    );
}

/// A test Elasticsearch that refuses some documents with 429 and answers slowly, so that
/// documents are sent again and must be recognised by their ids.
fn busy_server() -> EsServer {
    EsServer::start(EsServerOptions {
        faults: Faults {
            item_429_prob: 0.05,
            delay: Duration::from_millis(5),
            ..Default::default()
        },
        ..Default::default()
    })
}

#[test]
fn logrotate_create_into_elasticsearch_indexes_every_line_once() {
    let server = busy_server();
    let o = run(Mode::Create, "*.log", seed(15), Out::Es(&server));
    o.assert_nothing_garbled();
    o.assert_present_shipped_once(Mode::Create);
    eprintln!(
        "create into Elasticsearch: {} lines, {} rotations, each indexed once",
        o.written, o.rotations
    );
}

#[test]
fn logrotate_copytruncate_into_elasticsearch_indexes_every_line_once() {
    let server = busy_server();
    let o = run(Mode::CopyTruncate, "app.log*", seed(16), Out::Es(&server));
    o.assert_nothing_garbled();
    o.assert_present_shipped_once(Mode::CopyTruncate);
    eprintln!(
        "copytruncate into Elasticsearch: {} lines, {} rotations, every line in a file indexed once",
        o.written, o.rotations
    );
}

// logrotate's races, replayed step by step so that each one happens every time.

/// copytruncate creates the copy empty, then fills it. A copy seen while it is still too short
/// to fingerprint must not be taken for a new file and read from its start: that would ship
/// every line of the original twice.
#[test]
fn a_copy_seen_while_logrotate_writes_it_is_not_read_twice() {
    let ws = Workspace::new();
    let live = ws.log("app.log");
    let lines = checked_lines(0..1000);
    append(&live, &lines);
    let mut skiff = Skiff::start(&ws.console_config("app.log*", ""), &[]);
    skiff.wait_for_lines(1000, T);
    let content = std::fs::read(&live).unwrap();
    let copy = ws.logs().join("app.log.1");
    std::fs::write(&copy, b"").unwrap();
    std::thread::sleep(Duration::from_millis(300)); // several scans see it empty
    std::fs::write(&copy, &content[..100]).unwrap();
    std::thread::sleep(Duration::from_millis(300)); // and then shorter than a fingerprint
    std::fs::write(&copy, &content).unwrap();
    truncate(&live);
    let after = checked_lines(1000..1010);
    append(&live, &after);
    skiff.wait_for_lines(1010, T);
    std::thread::sleep(Duration::from_millis(500));
    let Exit {
        code,
        lines: shipped,
        stderr,
    } = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    let expected = checked_lines(0..1010);
    assert_exactly_once(&shipped, &expected, &format!("stderr:\n{stderr}"));
}

/// A truncation that happens while skiff is not looking (stopped here; in production, blocked
/// behind a slow sink) and is followed by more writes than skiff had read leaves the file longer
/// than skiff's position. Its first bytes changed: skiff must see the truncation, not read on
/// from its old position into the middle of new lines.
#[test]
fn a_truncation_hidden_by_new_writes_is_still_seen() {
    let ws = Workspace::new();
    let live = ws.log("app.log");
    let old = checked_lines(0..20_000);
    append(&live, &old);
    let mut skiff = Skiff::start(&ws.console_config("*.log", ""), &[]);
    skiff.wait_for_lines(old.len(), T);
    skiff.signal("STOP");
    std::fs::copy(&live, ws.logs().join("app.log.1")).unwrap();
    truncate(&live);
    let new = checked_lines(20_000..60_000);
    append(&live, &new);
    skiff.signal("CONT");
    let all = checked_lines(0..60_000);
    let arrived = wait_until(Duration::from_secs(20), || skiff.line_count() >= all.len());
    std::thread::sleep(Duration::from_millis(300));
    let Exit {
        code,
        lines: shipped,
        stderr,
    } = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    assert!(arrived, "only {} lines arrived\n{stderr}", shipped.len());
    assert_exactly_once(&shipped, &all, &format!("stderr:\n{stderr}"));
    assert!(stderr.contains("File was truncated"), "{stderr}");
}

/// skiff can read lines that logrotate's copy missed (written between its copy and its
/// truncate). The copy then ends before the original's checkpoint: after a restart it must be
/// known as already delivered, not taken for a truncated file and read again from its start.
#[test]
fn a_copy_shorter_than_what_was_read_is_not_read_again_after_a_restart() {
    let ws = Workspace::new();
    let live = ws.log("app.log");
    let config = ws.console_config("app.log*", "checkpoint_interval = \"50ms\"");
    append(&live, &checked_lines(0..1000));
    let mut skiff = Skiff::start(&config, &[]);
    skiff.wait_for_lines(1000, T);
    std::fs::copy(&live, ws.logs().join("app.log.1")).unwrap();
    append(&live, &checked_lines(1000..1010));
    skiff.wait_for_lines(1010, T);
    truncate(&live);
    append(&live, &checked_lines(1010..1020));
    skiff.wait_for_lines(1020, T);
    std::thread::sleep(Duration::from_millis(300));
    let Exit {
        code,
        lines: mut shipped,
        stderr,
    } = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    let out = run_once(&config, &[]);
    let (again, stderr) = (out.lines(), out.stderr);
    assert_eq!(out.code, 0, "{stderr}");
    assert!(
        again.is_empty(),
        "{} lines shipped again\n{stderr}",
        again.len()
    );
    shipped.extend(again);
    let expected = checked_lines(0..1020);
    assert_exactly_once(&shipped, &expected, "");
}

/// With a glob that does not match rotated names, a file is seen only while it has the live
/// name. When the sink cannot keep up, that can be shorter than the time skiff waits for room
/// downstream: skiff must keep discovering (and holding open) new files while it waits, or a
/// file created and rotated away in that time is never read.
#[test]
fn a_file_rotated_away_while_downstream_is_full_is_still_read() {
    let ws = Workspace::new();
    let logs = ws.logs();
    let live = logs.join("app.log");
    let toml = format!(
        "data_dir = \"{d}/data\"\n[api]\nenabled = false\n[sources.held]\ntype = \"file\"\ninclude = [\"{d}/logs/*.log\"]\nglob_interval = \"50ms\"\nrotate_wait = \"200ms\"\nread_buffer = \"16KiB\"\n",
        d = ws.dir().display()
    );
    let mut expected = checked_lines(0..50_000);
    append(&live, &expected);
    let run = InProc::start_held(&toml);
    std::thread::sleep(Duration::from_millis(300)); // the channel fills; the source waits
    let mut next = 50_000;
    for rotation in 1..=3 {
        std::fs::rename(&live, logs.join(format!("app.log.{rotation}"))).unwrap();
        let lines = checked_lines(next..next + 1000);
        append(&live, &lines);
        expected.extend(lines);
        next += 1000;
        std::thread::sleep(Duration::from_millis(300)); // several scan intervals
    }
    run.release();
    assert!(
        wait_until(T, || run.count() >= expected.len()),
        "{} of {} lines",
        run.count(),
        expected.len()
    );
    let (result, shipped) = run.stop();
    assert!(result.is_ok(), "{result:?}");
    assert_exactly_once(&shipped, &expected, "");
}
