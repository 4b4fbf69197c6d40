//! End-to-end tailing: appended lines, new files, excludes, read_from, and awkward bytes.

mod support;

use std::io::{BufRead, BufReader};
use std::time::Duration;

use support::skiff::{run_command, run_once, Skiff, Stdout};
use support::wait::wait_until;
use support::workspace::Workspace;
use support::writers::{append, numbered};

const T: Duration = Duration::from_secs(20);

#[test]
fn appended_lines_arrive_once_in_order() {
    let ws = Workspace::new();
    let log = ws.log("app.log");
    append(&log, &numbered("a", 0..100));
    let mut skiff = Skiff::start(&ws.console_config("*.log", ""), &[]);
    skiff.wait_for_lines(100, T);
    for round in 1..5 {
        append(&log, &numbered("a", round * 100..round * 100 + 100));
        skiff.wait_for_lines((round + 1) * 100, T);
    }
    let exit = skiff.terminate(T);
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    assert_eq!(exit.lines, numbered("a", 0..500), "in order, each once");
}

#[test]
fn new_files_are_picked_up_and_excludes_respected() {
    let ws = Workspace::new();
    let config = ws.console_config("*.log", "exclude = [\"{dir}/logs/skip*.log\"]");
    let mut skiff = Skiff::start(&config, &[]);
    skiff.wait_for_log("Source started.", T);
    append(&ws.log("later.log"), &numbered("later", 0..10));
    append(&ws.log("skip-me.log"), &numbered("skip", 0..10));
    append(&ws.log("other.txt"), &numbered("txt", 0..10));
    skiff.wait_for_lines(10, T);
    // Give a wrongly matched file every chance to show up before judging.
    std::thread::sleep(Duration::from_millis(500));
    let exit = skiff.terminate(T);
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    assert_eq!(exit.lines, numbered("later", 0..10));
}

#[test]
fn read_from_end_skips_only_files_never_seen() {
    let ws = Workspace::new();
    let old = ws.log("old.log");
    append(&old, &numbered("old", 0..5));
    let config = ws.console_config("*.log", "read_from = \"end\"");
    let mut skiff = Skiff::start(&config, &[]);
    skiff.wait_for_log("Following file.", T);
    append(&old, &numbered("old", 5..8));
    append(&ws.log("new.log"), &numbered("new", 0..4));
    skiff.wait_for_lines(7, T);
    let mut sorted = skiff.terminate(T).lines;
    sorted.sort();
    let mut expected = numbered("new", 0..4);
    expected.extend(numbered("old", 5..8));
    assert_eq!(
        sorted, expected,
        "existing content skipped, new file read from its start"
    );

    // A restart resumes from the checkpoint even with read_from = end.
    append(&old, &numbered("old", 8..10));
    let out = run_once(&config, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.lines(), numbered("old", 8..10));
}

#[test]
fn awkward_bytes_are_handled() {
    let ws = Workspace::new();
    let log = ws.log("weird.log");
    let mut data = Vec::new();
    data.extend_from_slice(b"crlf line\r\n");
    data.extend_from_slice(b"\n");
    data.extend_from_slice(b"bad \xff\xfe utf8\n");
    data.extend_from_slice(&vec![b'x'; 10 << 20]);
    data.extend_from_slice(b"\nafter the long line\n");
    data.extend_from_slice(b"no newline at the end");
    std::fs::write(&log, &data).unwrap();
    let config = ws.config(
        r#"
data_dir = "{dir}/data"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{dir}/logs/*.log"]
[sinks.out]
type = "console"
inputs = ["app"]
"#,
    );
    let out = run_once(&config, &[]);
    let stderr = &out.stderr;
    assert_eq!(out.code, 0, "{stderr}");
    let events: Vec<serde_json::Value> = out
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 6, "{messages:?}");
    assert_eq!(messages[0], "crlf line");
    assert_eq!(messages[1], "");
    assert_eq!(messages[2], "bad \u{fffd}\u{fffd} utf8");
    assert_eq!(messages[3].len(), 256 * 1024, "cut at max_line_bytes");
    assert_eq!(events[3]["_skiff_truncated"], serde_json::Value::Bool(true));
    assert_eq!(messages[4], "after the long line");
    assert_eq!(messages[5], "no newline at the end");
    assert!(events[0]["file"].as_str().unwrap().ends_with("weird.log"));
    assert!(
        stderr.contains("Line longer than max_line_bytes"),
        "{stderr}"
    );
}

#[test]
fn once_twice_ships_only_new_lines() {
    let ws = Workspace::new();
    let log = ws.log("app.log");
    append(&log, &numbered("x", 0..1000));
    let config = ws.console_config("*.log", "");
    let out = run_once(&config, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.lines(), numbered("x", 0..1000));
    let lines = run_once(&config, &[]).lines();
    assert!(lines.is_empty(), "nothing new: {} lines", lines.len());
    append(&log, &numbered("x", 1000..1010));
    assert_eq!(run_once(&config, &[]).lines(), numbered("x", 1000..1010));
}

#[test]
fn closed_stdout_stops_skiff_with_a_clear_message() {
    let ws = Workspace::new();
    append(&ws.log("app.log"), &numbered("x", 0..200_000));
    let mut skiff = Skiff::spawn(
        run_command(&ws.console_config("*.log", ""), &["--once"]),
        Stdout::Hold,
    );
    let mut out = BufReader::new(skiff.take_stdout());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first.trim_end(), "x-00000000");
    drop(out); // the reader goes away: skiff's next write gets EPIPE
    let exit = skiff.wait_exit(T);
    let stderr = &exit.stderr;
    assert_eq!(exit.code, 1, "{stderr}");
    assert!(stderr.contains("stdout was closed"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_second_signal_exits_at_once() {
    let ws = Workspace::new();
    append(&ws.log("app.log"), &numbered("x", 0..200_000));
    // stdout is a pipe nobody reads: the console sink blocks, so the drain cannot finish.
    let config = ws.config(
        r#"
data_dir = "{dir}/data"
shutdown_timeout = "60s"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{dir}/logs/*.log"]
[sinks.out]
type = "console"
inputs = ["app"]
"#,
    );
    let mut skiff = Skiff::spawn(run_command(&config, &[]), Stdout::Hold);
    std::thread::sleep(Duration::from_millis(500));
    skiff.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        skiff.is_running(),
        "the first signal starts a drain, which is blocked"
    );
    skiff.signal("TERM");
    let exited = wait_until(Duration::from_secs(5), || !skiff.is_running());
    assert!(exited, "the second signal must exit at once");
    assert_eq!(skiff.wait_exit(T).code, 130);
}

#[test]
fn idle_files_are_closed_and_reopened_when_they_grow() {
    let ws = Workspace::new();
    let log = ws.log("app.log");
    append(&log, &numbered("a", 0..10));
    let config = ws.console_config("*.log", "idle_timeout = \"300ms\"");
    let mut skiff = Skiff::start_with_env(&config, &[], &[("SKIFF_LOG", "skiff=debug")]);
    skiff.wait_for_lines(10, T);
    skiff.wait_for_log("Closing idle file.", T);
    append(&log, &numbered("a", 10..15));
    skiff.wait_for_lines(15, T);
    let exit = skiff.terminate(T);
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    assert_eq!(exit.lines, numbered("a", 0..15));
}
