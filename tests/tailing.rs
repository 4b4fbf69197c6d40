//! End-to-end tailing: appended lines, new files, excludes, read_from, and awkward bytes.

mod common;

use std::time::Duration;

use common::*;

const T: Duration = Duration::from_secs(20);

#[test]
fn appended_lines_arrive_once_in_order() {
    let env = Env::new();
    let log = env.logs().join("app.log");
    append(&log, &numbered("a", 0, 100));
    let skiff = Skiff::start(&env.console_config("*.log", ""), &[]);
    skiff.wait_for(100, T);
    for round in 1..5 {
        append(&log, &numbered("a", round * 100, 100));
        skiff.wait_for((round + 1) * 100, T);
    }
    let (code, lines, stderr) = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines, numbered("a", 0, 500), "in order, each once");
}

#[test]
fn new_files_are_picked_up_and_excludes_respected() {
    let env = Env::new();
    let config = env.console_config("*.log", "exclude = [\"{dir}/logs/skip*.log\"]");
    let skiff = Skiff::start(&config, &[]);
    skiff.wait_for_log("Source started.", T);
    append(&env.logs().join("later.log"), &numbered("later", 0, 10));
    append(&env.logs().join("skip-me.log"), &numbered("skip", 0, 10));
    append(&env.logs().join("other.txt"), &numbered("txt", 0, 10));
    skiff.wait_for(10, T);
    // Give a wrongly matched file every chance to show up before judging.
    std::thread::sleep(Duration::from_millis(500));
    let (code, lines, _) = skiff.terminate(T);
    assert_eq!(code, 0);
    assert_eq!(lines, numbered("later", 0, 10));
}

#[test]
fn read_from_end_skips_only_files_never_seen() {
    let env = Env::new();
    let old = env.logs().join("old.log");
    append(&old, &numbered("old", 0, 5));
    let config = env.console_config("*.log", "read_from = \"end\"");
    let skiff = Skiff::start(&config, &[]);
    skiff.wait_for_log("Following file.", T);
    append(&old, &numbered("old", 5, 3));
    append(&env.logs().join("new.log"), &numbered("new", 0, 4));
    skiff.wait_for(7, T);
    let (_, lines, _) = skiff.terminate(T);
    let mut sorted = lines.clone();
    sorted.sort();
    let mut expected = numbered("new", 0, 4);
    expected.extend(numbered("old", 5, 3));
    assert_eq!(
        sorted, expected,
        "existing content skipped, new file read from its start"
    );

    // A restart resumes from the checkpoint even with read_from = end.
    append(&old, &numbered("old", 8, 2));
    let (code, lines, stderr) = run_once(&config, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines, numbered("old", 8, 2));
}

#[test]
fn awkward_bytes_are_handled() {
    let env = Env::new();
    let log = env.logs().join("weird.log");
    let mut data = Vec::new();
    data.extend_from_slice(b"crlf line\r\n");
    data.extend_from_slice(b"\n");
    data.extend_from_slice(b"bad \xff\xfe utf8\n");
    data.extend_from_slice(&vec![b'x'; 10 << 20]);
    data.extend_from_slice(b"\nafter the long line\n");
    data.extend_from_slice(b"no newline at the end");
    std::fs::write(&log, &data).unwrap();
    let config = env.config(
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
    let (code, lines, stderr) = run_once(&config, &[]);
    assert_eq!(code, 0, "{stderr}");
    let events: Vec<serde_json::Value> = lines
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
    let env = Env::new();
    let log = env.logs().join("app.log");
    append(&log, &numbered("x", 0, 1000));
    let config = env.console_config("*.log", "");
    let (code, lines, _) = run_once(&config, &[]);
    assert_eq!(code, 0);
    assert_eq!(lines, numbered("x", 0, 1000));
    let (_, lines, _) = run_once(&config, &[]);
    assert!(lines.is_empty(), "nothing new: {} lines", lines.len());
    append(&log, &numbered("x", 1000, 10));
    let (_, lines, _) = run_once(&config, &[]);
    assert_eq!(lines, numbered("x", 1000, 10));
}

#[test]
fn closed_stdout_stops_skiff_with_a_clear_message() {
    use std::io::{BufRead, BufReader};
    let env = Env::new();
    append(&env.logs().join("app.log"), &numbered("x", 0, 200_000));
    let mut child = std::process::Command::new(bin())
        .args(["run", "--once", "--config"])
        .arg(env.console_config("*.log", ""))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first.trim_end(), "x 00000000");
    drop(out); // the reader goes away: skiff's next write gets EPIPE
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stdout was closed"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_second_signal_exits_at_once() {
    let env = Env::new();
    append(&env.logs().join("app.log"), &numbered("x", 0, 200_000));
    // stdout is a pipe nobody reads: the console sink blocks, so the drain cannot finish.
    let mut child = std::process::Command::new(bin())
        .args(["run", "--config"])
        .arg(env.config(
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
        ))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let pid = child.id().to_string();
    let kill = |sig: &str| {
        std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(&pid)
            .status()
            .unwrap();
    };
    kill("TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first signal starts a drain, which is blocked"
    );
    kill("TERM");
    let exited = wait_until(Duration::from_secs(5), || {
        child.try_wait().unwrap().is_some()
    });
    assert!(exited, "the second signal must exit at once");
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

#[test]
fn idle_files_are_closed_and_reopened_when_they_grow() {
    let env = Env::new();
    let log = env.logs().join("app.log");
    append(&log, &numbered("a", 0, 10));
    let config = env.console_config("*.log", "idle_timeout = \"300ms\"");
    let skiff = Skiff::start_with_env(&config, &[], &[("SKIFF_LOG", "skiff=debug")]);
    skiff.wait_for(10, T);
    skiff.wait_for_log("Closing idle file.", T);
    append(&log, &numbered("a", 10, 5));
    skiff.wait_for(15, T);
    let (code, lines, _) = skiff.terminate(T);
    assert_eq!(code, 0);
    assert_eq!(lines, numbered("a", 0, 15));
}
