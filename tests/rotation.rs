//! Rotation under continuous writing: rename + create, with globs that do and do not match the
//! rotated names, and copytruncate.

mod support;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use support::compare::assert_exactly_once;
use support::skiff::Skiff;
use support::workspace::Workspace;
use support::writers::{numbered, open_append};

const T: Duration = Duration::from_secs(60);

/// Writes `total` numbered lines into `logs/app.log`, rotating by rename every `every` lines.
/// Like an application that reopens its log late, a few lines still go to the renamed file.
fn write_with_renames(logs: &Path, total: usize, every: usize) -> Vec<String> {
    let live = logs.join("app.log");
    let mut f = open_append(&live);
    let mut written = Vec::with_capacity(total);
    let mut rotation = 0;
    let mut buf = String::new();
    for i in 0..total {
        let line = format!("line {i:09} {}", "p".repeat(i % 40));
        buf.push_str(&line);
        buf.push('\n');
        written.push(line);
        if i % 100 == 99 {
            f.write_all(buf.as_bytes()).unwrap();
            buf.clear();
        }
        if i % every == every - 1 {
            f.write_all(buf.as_bytes()).unwrap();
            buf.clear();
            rotation += 1;
            std::fs::rename(&live, logs.join(format!("app.log.{rotation}"))).unwrap();
            // Late writes to the old handle, then reopen.
            for _ in 0..3 {
                f.write_all(b"").unwrap();
            }
            f = open_append(&live);
            std::thread::sleep(Duration::from_millis(30));
        }
    }
    f.write_all(buf.as_bytes()).unwrap();
    written
}

fn rename_rotation(glob: &str) {
    let ws = Workspace::new();
    let mut skiff = Skiff::start(&ws.console_config(glob, ""), &[]);
    skiff.wait_for_log("Source started.", T);
    let logs = ws.logs();
    let written = std::thread::scope(|s| {
        s.spawn(|| write_with_renames(&logs, 120_000, 25_000))
            .join()
            .unwrap()
    });
    skiff.wait_for_lines(written.len(), T);
    std::thread::sleep(Duration::from_millis(300));
    let exit = skiff.terminate(T);
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    assert_exactly_once(&exit.lines, &written, "");
}

#[test]
fn rename_rotation_delivers_every_line_once() {
    rename_rotation("*.log");
}

#[test]
fn rename_rotation_with_glob_matching_rotated_names() {
    rename_rotation("app.log*");
}

/// copytruncate: the copy is made and the original truncated while lines keep coming. With a
/// glob that also matches the copies, the copy is recognised by its first bytes as the file
/// already being read: what skiff had not read yet is read from the copy, nothing twice.
#[test]
fn copytruncate_with_copies_matched_loses_and_repeats_nothing() {
    let ws = Workspace::new();
    let mut skiff = Skiff::start(&ws.console_config("app.log*", ""), &[]);
    skiff.wait_for_log("Source started.", T);
    let live = ws.log("app.log");
    let mut f = open_append(&live);
    let mut written = Vec::new();
    for round in 0..5 {
        for i in 0..20_000 {
            let line = format!("r{round} line {i:07}");
            writeln!(f, "{line}").unwrap();
            written.push(line);
        }
        // copy, then truncate, with no write in between (the window no tailer can close is
        // tested in the reliability suite with real logrotate).
        std::fs::copy(&live, ws.logs().join(format!("app.log.{round}"))).unwrap();
        f.set_len(0).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    for i in 0..1000 {
        let line = format!("final {i}");
        writeln!(f, "{line}").unwrap();
        written.push(line);
    }
    skiff.wait_for_lines(written.len(), T);
    std::thread::sleep(Duration::from_millis(500));
    let exit = skiff.terminate(T);
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    assert_exactly_once(&exit.lines, &written, "");
    assert!(exit.stderr.contains("truncated"), "{}", exit.stderr);
}

/// copytruncate with a glob that does not match the copies: every line skiff read before the
/// truncation is shipped once, and after the truncation reading restarts at 0.
#[test]
fn copytruncate_restarts_at_zero() {
    let ws = Workspace::new();
    let mut skiff = Skiff::start(&ws.console_config("*.log", ""), &[]);
    skiff.wait_for_log("Source started.", T);
    let live = ws.log("app.log");
    let mut f = open_append(&live);
    let mut written = Vec::new();
    for round in 0..4 {
        let lines = numbered(&format!("round{round}"), 0..5000);
        for l in &lines {
            writeln!(f, "{l}").unwrap();
        }
        written.extend(lines);
        skiff.wait_for_lines(written.len(), T);
        std::fs::copy(&live, ws.logs().join(format!("app.{round}.old"))).unwrap();
        f.set_len(0).unwrap();
    }
    let tail = numbered("short", 0..3);
    for l in &tail {
        writeln!(f, "{l}").unwrap();
    }
    written.extend(tail);
    skiff.wait_for_lines(written.len(), T);
    let exit = skiff.terminate(T);
    assert_exactly_once(&exit.lines, &written, "");
}

#[test]
fn deleted_file_is_read_to_its_end() {
    let ws = Workspace::new();
    let mut skiff = Skiff::start(&ws.console_config("*.log", ""), &[]);
    skiff.wait_for_log("Source started.", T);
    let live = ws.log("app.log");
    let mut f = open_append(&live);
    let first = numbered("before", 0..100);
    for l in &first {
        writeln!(f, "{l}").unwrap();
    }
    skiff.wait_for_lines(100, T);
    std::fs::remove_file(&live).unwrap();
    // Written through the open handle after the unlink: still delivered.
    let after = numbered("after", 0..50);
    for l in &after {
        writeln!(f, "{l}").unwrap();
    }
    write!(f, "partial").unwrap();
    drop(f);
    skiff.wait_for_lines(151, T);
    let lines = skiff.terminate(T).lines;
    let mut expected = first;
    expected.extend(after);
    expected.push("partial".into());
    assert_eq!(lines, expected);
}
