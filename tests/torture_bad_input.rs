//! Torture: bad input and a bad environment. Binary garbage, NUL bytes, a 100 MiB line, paths
//! that are directories, files replaced by directories, unreadable files and directories, symlink
//! loops, corrupt checkpoints, a data directory that turns read-only.
//!
//! For each: skiff keeps running, says on stderr what is wrong, counts it
//! (`skiff_source_file_errors_total`, `skiff_source_line_problems_total`,
//! `skiff_checkpoint_write_failures_total`), and loses no data it can read.
//!
//! Permission checks need a user that permissions apply to: when the tests run as root, skiff is
//! started as uid 65534 through `setpriv`; otherwise as the test's own user.

mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use support::compare::{assert_exactly_once, json_messages};
use support::inproc::InProc;
use support::skiff::{command, command_via, run_once, Exit, Skiff, Stdout};
use support::torture::{is_root, pick, seed};
use support::wait::wait_until;
use support::workspace::Workspace;
use support::writers::{append, numbered, open_append};

const T: Duration = Duration::from_secs(30);

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A config with JSON output (so that every byte of a message is visible) over `logs/GLOB`.
fn json_config(ws: &Workspace, glob: &str, source_extra: &str) -> std::path::PathBuf {
    ws.config(&format!(
        r#"
data_dir = "{{dir}}/data"
shutdown_timeout = "10s"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{{dir}}/logs/{glob}"]
glob_interval = "100ms"
rotate_wait = "500ms"
{source_extra}
[sinks.out]
type = "console"
inputs = ["app"]
"#
    ))
}

/// What skiff must make of `data` as lines: split at `\n`, a trailing `\r` dropped, invalid
/// UTF-8 replaced; a final unterminated piece is a line too (emitted at shutdown).
fn expected_lines(data: &[u8]) -> Vec<String> {
    let mut pieces: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    pieces
        .into_iter()
        .map(|p| String::from_utf8_lossy(p.strip_suffix(b"\r").unwrap_or(p)).into_owned())
        .collect()
}

#[test]
fn binary_garbage_and_nul_bytes_arrive_byte_for_byte() {
    let seed = seed(31);
    let mut rng = fastrand::Rng::with_seed(seed);
    let ws = Workspace::new();
    let log = ws.log("garbage.log");
    let mut skiff = Skiff::start(&json_config(&ws, "*.log", "read_buffer = \"4KiB\""), &[]);
    skiff.wait_for_log("Source started.", T);
    // Random bytes, NULs and CRs over-represented, lines of random length; written in random
    // chunks so that reads split lines, CRLFs and multi-byte characters anywhere.
    let mut data = Vec::new();
    let alphabet: &[u8] = b"\0\0\0\r\xff\xfe\xc3\xa9\xe2\x82\xacab \t\"\\";
    for _ in 0..pick(2_000, 50_000) {
        for _ in 0..rng.usize(0..300) {
            let b = if rng.bool() {
                rng.u8(..)
            } else {
                alphabet[rng.usize(..alphabet.len())]
            };
            data.push(if b == b'\n' { b'\0' } else { b });
        }
        data.push(b'\n');
    }
    data.extend_from_slice(b"unterminated \xff\x00 end");
    let mut f = std::fs::File::create(&log).unwrap();
    let mut at = 0;
    while at < data.len() {
        let n = rng.usize(1..20_000).min(data.len() - at);
        f.write_all(&data[at..at + n]).unwrap();
        at += n;
    }
    let expected = expected_lines(&data);
    skiff.wait_for_lines(expected.len() - 1, T);
    std::thread::sleep(Duration::from_millis(200));
    let Exit {
        code,
        lines,
        stderr,
    } = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    let got = json_messages(&lines);
    assert_eq!(got.len(), expected.len(), "seed {seed}");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "seed {seed}: line {i} differs");
    }
}

/// Peak resident memory of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kb * 1024
}

#[test]
fn a_100_mib_line_is_cut_without_being_held_and_following_goes_on() {
    let ws = Workspace::new();
    let log = ws.log("app.log");
    let config = json_config(&ws, "*.log", "max_line_bytes = \"64KiB\"");
    let mut skiff = Skiff::start(&config, &[]);
    append(&log, &["before".to_owned()]);
    skiff.wait_for_lines(1, T);
    // 100 MiB without a newline, written while skiff follows the file.
    let mut f = open_append(&log);
    let mib = vec![b'x'; 1 << 20];
    for _ in 0..100 {
        f.write_all(&mib).unwrap();
    }
    f.write_all(b"\n").unwrap();
    append(&log, &numbered("after", 0..100));
    skiff.wait_for_lines(102, Duration::from_secs(120));
    let peak = peak_rss(skiff.pid());
    // Then skiff still follows the file.
    append(&log, &numbered("later", 0..10));
    skiff.wait_for_lines(112, T);
    let Exit {
        code,
        lines,
        stderr,
    } = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    let got = json_messages(&lines);
    assert_eq!(got[0], "before");
    assert_eq!(got[1].len(), 64 * 1024, "cut at max_line_bytes");
    assert!(got[1].bytes().all(|b| b == b'x'));
    let event: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(event["_skiff_truncated"], true);
    let mut rest = numbered("after", 0..100);
    rest.extend(numbered("later", 0..10));
    assert_eq!(got[2..], rest[..]);
    assert!(
        stderr.contains("Line longer than max_line_bytes was cut"),
        "{stderr}"
    );
    // Debug builds idle at ~15 MiB; holding the line would take 100 MiB more.
    eprintln!(
        "peak memory while reading a 100 MiB line: {} MiB",
        peak >> 20
    );
    assert!(
        peak < 48 << 20,
        "peak memory {} MiB while reading a 100 MiB line",
        peak >> 20
    );
}

#[test]
fn directories_where_files_are_expected_are_reported_and_skipped() {
    let ws = Workspace::new();
    let logs = ws.logs();
    std::fs::create_dir(logs.join("archive.log")).unwrap();
    let log = logs.join("app.log");
    append(&log, &numbered("first", 0..10));
    let mut skiff = Skiff::start(&ws.console_config("*.log", ""), &[]);
    skiff.wait_for_lines(10, T);
    skiff.wait_for_log("Matched path is not a regular file; ignoring it.", T);
    // The app still holds its log open when the path is replaced by a directory.
    let mut held = open_append(&log);
    std::fs::remove_file(&log).unwrap();
    std::fs::create_dir(&log).unwrap();
    for l in numbered("through-handle", 0..10) {
        writeln!(held, "{l}").unwrap();
    }
    skiff.wait_for_lines(20, T);
    append(&logs.join("other.log"), &numbered("other", 0..10));
    skiff.wait_for_lines(30, T);
    let Exit {
        code,
        lines,
        stderr,
    } = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    let mut expected = numbered("first", 0..10);
    expected.extend(numbered("through-handle", 0..10));
    expected.extend(numbered("other", 0..10));
    assert_exactly_once(&lines, &expected, "");
    for dir in ["archive.log", "app.log"] {
        let warned = stderr.lines().any(|l| {
            l.contains("Matched path is not a regular file")
                && l.contains(dir)
                && l.contains("a directory")
        });
        assert!(warned, "no warning about {dir}\n{stderr}");
    }
}

/// Prepares `ws` for a skiff that does not run as root: it can reach the temp dir and write
/// its data dir.
fn open_up(ws: &Workspace) {
    chmod(ws.dir(), 0o755);
    if is_root() {
        std::os::unix::fs::chown(ws.data(), Some(65534), Some(65534)).unwrap();
    }
}

/// Starts skiff as a user that permissions apply to (see the module doc).
fn start_unprivileged(config: &Path, extra: &[&str]) -> Skiff {
    let mut cmd = if is_root() {
        command_via(&[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ])
    } else {
        command()
    };
    cmd.arg("run").arg("--config").arg(config).args(extra);
    Skiff::spawn(cmd, Stdout::Collect)
}

#[test]
fn unreadable_files_and_directories_are_reported_then_read_once_readable() {
    let ws = Workspace::new();
    open_up(&ws);
    let logs = ws.logs();
    append(&logs.join("open.log"), &numbered("open", 0..10));
    let secret = logs.join("secret.log");
    append(&secret, &numbered("secret", 0..10));
    chmod(&secret, 0o000);
    let closed_dir = logs.join("team");
    std::fs::create_dir(&closed_dir).unwrap();
    append(&closed_dir.join("team.log"), &numbered("team", 0..10));
    chmod(&closed_dir, 0o000);
    let config = ws.config(
        r#"
data_dir = "{dir}/data"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{dir}/logs/*.log", "{dir}/logs/*/*.log"]
glob_interval = "100ms"
[sinks.out]
type = "console"
inputs = ["app"]
encoding = "text"
"#,
    );
    let mut skiff = start_unprivileged(&config, &[]);
    skiff.wait_for_lines(10, T);
    skiff.wait_for_log("Cannot open file; will retry on the next scan.", T);
    skiff.wait_for_log("Cannot read directory while scanning", T);
    let stderr = skiff.stderr();
    assert!(stderr.contains("Permission denied"), "{stderr}");
    assert!(
        stderr.contains("secret.log") && stderr.contains("team"),
        "{stderr}"
    );
    // Fixed: picked up by the next scan, nothing lost.
    chmod(&secret, 0o644);
    chmod(&closed_dir, 0o755);
    skiff.wait_for_lines(30, T);
    let Exit {
        code,
        lines,
        stderr,
    } = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    let mut expected = numbered("open", 0..10);
    expected.extend(numbered("secret", 0..10));
    expected.extend(numbered("team", 0..10));
    assert_exactly_once(&lines, &expected, "");
    let warnings = stderr.matches("Cannot open file").count();
    assert_eq!(warnings, 1, "warned once, not on every scan:\n{stderr}");
}

#[test]
fn symlink_loops_in_the_glob_dir_do_not_stop_skiff() {
    use std::os::unix::fs::symlink;
    let ws = Workspace::new();
    let logs = ws.logs();
    for sub in ["a", "b"] {
        std::fs::create_dir(logs.join(sub)).unwrap();
        symlink("..", logs.join(sub).join("up")).unwrap();
    }
    symlink("self.log", logs.join("self.log")).unwrap();
    symlink("pong.log", logs.join("ping.log")).unwrap();
    symlink("ping.log", logs.join("pong.log")).unwrap();
    append(&logs.join("app.log"), &numbered("top", 0..5));
    append(&logs.join("a/deep.log"), &numbered("deep", 0..5));
    let config = ws.config(
        r#"
data_dir = "{dir}/data"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{dir}/logs/**/*.log"]
glob_interval = "100ms"
[sinks.out]
type = "console"
inputs = ["app"]
encoding = "text"
"#,
    );
    let mut skiff = Skiff::start(&config, &[]);
    skiff.wait_for_lines(10, T);
    append(&logs.join("app.log"), &numbered("top", 5..10));
    skiff.wait_for_lines(15, T);
    let Exit {
        code,
        lines,
        stderr,
    } = skiff.terminate(Duration::from_secs(10));
    assert_eq!(code, 0, "{stderr}");
    let mut expected = numbered("top", 0..10);
    expected.extend(numbered("deep", 0..5));
    assert_exactly_once(&lines, &expected, "");
    for name in ["self.log", "ping.log", "pong.log"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(name) && l.contains("Too many levels of symbolic links")),
            "no warning about {name}\n{stderr}"
        );
    }
}

#[test]
fn a_corrupt_checkpoint_is_set_aside_and_files_are_read_again() {
    let corruptions: [(&str, &[u8]); 4] = [
        ("garbage", b"\x00\xff not json at all"),
        ("cut short", b"{\"version\":1,\"files\":[{\"id\":1,"),
        ("future version", b"{\"version\":99,\"files\":[]}"),
        ("empty", b""),
    ];
    for (what, bytes) in corruptions {
        let ws = Workspace::new();
        let log = ws.log("app.log");
        let config = ws.console_config("*.log", "");
        append(&log, &numbered("a", 0..100));
        let out = run_once(&config, &[]);
        let (code, first) = (out.code, out.lines());
        assert_eq!((code, first.len()), (0, 100));
        let cp = ws.path("data/checkpoints/app.json");
        std::fs::write(&cp, bytes).unwrap();
        append(&log, &numbered("a", 100..110));
        let out = run_once(&config, &[]);
        let (code, second, stderr) = (out.code, out.lines(), out.stderr);
        assert_eq!(code, 0, "{what}: {stderr}");
        assert!(
            stderr.contains("Checkpoint file is unreadable; set aside"),
            "{what}: {stderr}"
        );
        // At least once: everything again, nothing lost.
        assert_eq!(second, numbered("a", 0..110), "{what}");
        let aside = std::fs::read_dir(ws.path("data/checkpoints"))
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("app.json.corrupt-")
            });
        assert!(aside, "{what}: the corrupt file is kept for inspection");
        // A fresh checkpoint was written: the next run has nothing to ship.
        let out = run_once(&config, &[]);
        let (third, stderr) = (out.lines(), out.stderr);
        assert!(
            third.is_empty(),
            "{what}: {} lines again\n{stderr}",
            third.len()
        );
    }
}

#[test]
fn a_read_only_data_dir_fails_checkpoints_loudly_and_recovers() {
    let ws = Workspace::new();
    open_up(&ws);
    let log = ws.log("app.log");
    let config = ws.console_config("*.log", "checkpoint_interval = \"100ms\"");
    let mut skiff = start_unprivileged(&config, &[]);
    append(&log, &numbered("a", 0..100));
    skiff.wait_for_lines(100, T);
    let checkpoints = ws.path("data/checkpoints");
    assert!(wait_until(T, || checkpoints.join("app.json").exists()));
    chmod(&checkpoints, 0o555);
    append(&log, &numbered("a", 100..200));
    skiff.wait_for_lines(200, T);
    skiff.wait_for_log("Cannot write checkpoints; delivery goes on", T);
    // Delivery went on; more of it while read-only, then writable again.
    append(&log, &numbered("a", 200..300));
    skiff.wait_for_lines(300, T);
    chmod(&checkpoints, 0o755);
    skiff.wait_for_log("Checkpoint writes work again.", T);
    let Exit {
        code,
        lines,
        stderr,
    } = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines, numbered("a", 0..300));
    assert_eq!(
        stderr.matches("Cannot write checkpoints").count(),
        1,
        "said once, not on every attempt:\n{stderr}"
    );
    // The checkpoint caught up: a restart ships nothing again.
    let mut again = start_unprivileged(&config, &["--once"]);
    let Exit {
        code,
        lines,
        stderr,
    } = again.wait_exit(T);
    assert_eq!(code, 0, "{stderr}");
    assert!(lines.is_empty(), "{} lines shipped again", lines.len());
}

/// The problems above are counted in skiff's metrics (the pipeline runs in this process, so
/// the counters can be read directly).
#[test]
fn problems_are_counted() {
    use skiff::metrics::{component_with, metrics};
    let ws = Workspace::new();
    let logs = ws.logs();
    std::fs::create_dir(logs.join("dir.log")).unwrap();
    std::os::unix::fs::symlink("loop.log", logs.join("loop.log")).unwrap();
    let mut data = b"fine\nbad \xff utf8\n".to_vec();
    data.extend(vec![b'x'; 10_000]);
    data.extend(b"\nend\n");
    std::fs::write(logs.join("app.log"), &data).unwrap();
    // Checkpoint writes fail while their temp file's name is taken by a directory (root or not).
    std::fs::create_dir_all(ws.path("data/checkpoints/counted.json.tmp")).unwrap();
    let toml = format!(
        "data_dir = \"{d}/data\"\n[api]\nenabled = false\n[sources.counted]\ntype = \"file\"\ninclude = [\"{d}/logs/*.log\"]\nmax_line_bytes = \"1KiB\"\ncheckpoint_interval = \"50ms\"\nglob_interval = \"50ms\"\n",
        d = ws.dir().display()
    );
    let run = InProc::start(&toml);
    assert!(wait_until(T, || run.count() >= 4));
    let m = metrics();
    let file_error = |reason: &str| {
        m.file_errors
            .get_or_create(&component_with("counted", "reason", reason))
            .get()
    };
    let problem = |reason: &str| {
        m.line_problems
            .get_or_create(&component_with("counted", "reason", reason))
            .get()
    };
    let failures = || {
        m.checkpoint_write_failures
            .get_or_create(&skiff::metrics::component("counted"))
            .get()
    };
    assert!(
        wait_until(T, || failures() >= 2),
        "checkpoint failures counted"
    );
    // Counted when the problem starts, not on every scan.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(file_error("not_a_file"), 1);
    assert_eq!(file_error("stat"), 1);
    assert_eq!(problem("invalid_utf8"), 1);
    assert_eq!(problem("truncated"), 1);
    std::fs::remove_dir(ws.path("data/checkpoints/counted.json.tmp")).unwrap();
    let (result, lines) = run.stop();
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(lines.len(), 4);
    assert!(ws.path("data/checkpoints/counted.json").exists());
}
