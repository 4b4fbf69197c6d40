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

mod common;
mod torture;

use std::time::Duration;

use common::{Env, Skiff};
use torture::*;

const T: Duration = Duration::from_secs(120);

// logrotate's races, replayed step by step so that each one happens every time.

/// copytruncate creates the copy empty, then fills it. A copy seen while it is still too short
/// to fingerprint must not be taken for a new file and read from its start: that would ship
/// every line of the original twice.
#[test]
fn a_copy_seen_while_logrotate_writes_it_is_not_read_twice() {
    let env = Env::new();
    let live = env.logs().join("app.log");
    let lines: Vec<String> = (0..1000).map(line).collect();
    common::append(&live, &lines);
    let skiff = Skiff::start(&env.console_config("app.log*", ""), &[]);
    skiff.wait_for(1000, T);
    let content = std::fs::read(&live).unwrap();
    let copy = env.logs().join("app.log.1");
    std::fs::write(&copy, b"").unwrap();
    std::thread::sleep(Duration::from_millis(300)); // several scans see it empty
    std::fs::write(&copy, &content[..100]).unwrap();
    std::thread::sleep(Duration::from_millis(300)); // and then shorter than a fingerprint
    std::fs::write(&copy, &content).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&live)
        .unwrap()
        .set_len(0)
        .unwrap();
    let after: Vec<String> = (1000..1010).map(line).collect();
    common::append(&live, &after);
    skiff.wait_for(1010, T);
    std::thread::sleep(Duration::from_millis(500));
    let (code, shipped, stderr) = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    let expected: Vec<String> = (0..1010).map(line).collect();
    if let Err(e) = compare_exactly_once(&shipped, &expected) {
        panic!("{e}\nstderr:\n{stderr}");
    }
}

/// A truncation that happens while skiff is not looking (stopped here; in production, blocked
/// behind a slow sink) and is followed by more writes than skiff had read leaves the file longer
/// than skiff's position. Its first bytes changed: skiff must see the truncation, not read on
/// from its old position into the middle of new lines.
#[test]
fn a_truncation_hidden_by_new_writes_is_still_seen() {
    let env = Env::new();
    let live = env.logs().join("app.log");
    let old: Vec<String> = (0..20_000).map(line).collect();
    common::append(&live, &old);
    let skiff = Skiff::start(&env.console_config("*.log", ""), &[]);
    skiff.wait_for(old.len(), T);
    skiff.signal("STOP");
    std::fs::copy(&live, env.logs().join("app.log.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&live)
        .unwrap()
        .set_len(0)
        .unwrap();
    let new: Vec<String> = (20_000..60_000).map(line).collect();
    common::append(&live, &new);
    skiff.signal("CONT");
    let all: Vec<String> = (0..60_000).map(line).collect();
    let arrived = common::wait_until(Duration::from_secs(20), || skiff.count() >= all.len());
    std::thread::sleep(Duration::from_millis(300));
    let (code, shipped, stderr) = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    assert!(arrived, "only {} lines arrived\n{stderr}", shipped.len());
    if let Err(e) = compare_exactly_once(&shipped, &all) {
        panic!("{e}\nstderr:\n{stderr}");
    }
    assert!(stderr.contains("File was truncated"), "{stderr}");
}

/// skiff can read lines that logrotate's copy missed (written between its copy and its
/// truncate). The copy then ends before the original's checkpoint: after a restart it must be
/// known as already delivered, not taken for a truncated file and read again from its start.
#[test]
fn a_copy_shorter_than_what_was_read_is_not_read_again_after_a_restart() {
    let env = Env::new();
    let live = env.logs().join("app.log");
    let config = env.console_config("app.log*", "checkpoint_interval = \"50ms\"");
    common::append(&live, &(0..1000).map(line).collect::<Vec<_>>());
    let skiff = Skiff::start(&config, &[]);
    skiff.wait_for(1000, T);
    std::fs::copy(&live, env.logs().join("app.log.1")).unwrap();
    common::append(&live, &(1000..1010).map(line).collect::<Vec<_>>());
    skiff.wait_for(1010, T);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&live)
        .unwrap()
        .set_len(0)
        .unwrap();
    common::append(&live, &(1010..1020).map(line).collect::<Vec<_>>());
    skiff.wait_for(1020, T);
    std::thread::sleep(Duration::from_millis(300));
    let (code, mut shipped, stderr) = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    let (code, again, stderr) = common::run_once(&config, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        again.is_empty(),
        "{} lines shipped again\n{stderr}",
        again.len()
    );
    shipped.extend(again);
    let expected: Vec<String> = (0..1020).map(line).collect();
    if let Err(e) = compare_exactly_once(&shipped, &expected) {
        panic!("{e}");
    }
}
