//! Cut-over: `skiff import-offsets` turns Fluent Bit's tail database and Vector's checkpoints
//! into skiff's, and skiff then reads every line the old agent had not read, once, and none it
//! had.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use support::compare::assert_exactly_once;
use support::cutover::{fluent_bit_db, vector_checkpoints, TailRow};
use support::skiff::{run_once, skiff};
use support::workspace::Workspace;

/// A log file of `lines` numbered lines `TAG-N`; returns the byte offset after each line.
fn write_log(path: &Path, tag: &str, lines: usize) -> Vec<u64> {
    let mut body = String::new();
    let mut ends = Vec::with_capacity(lines);
    for n in 0..lines {
        body.push_str(&format!("{tag}-{n} some text to make the line longer\n"));
        ends.push(body.len() as u64);
    }
    std::fs::write(path, body).unwrap();
    ends
}

fn append(path: &Path, tag: &str, from: usize, to: usize) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for n in from..to {
        writeln!(f, "{tag}-{n} some text to make the line longer").unwrap();
    }
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

fn lines(tag: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range
        .map(|n| format!("{tag}-{n} some text to make the line longer"))
        .collect()
}

fn import(args: &[&str]) -> support::skiff::Output {
    let mut all = vec!["import-offsets"];
    all.extend_from_slice(args);
    skiff(&all, &[])
}

/// Many files (the database spans several pages under an interior page), some with names long
/// enough to spill onto overflow pages; each read by "Fluent Bit" up to a different line, and
/// written on after it stopped. skiff reads exactly the rest.
#[test]
fn fluent_bit_tail_db_no_line_twice_or_skipped() {
    let ws = Workspace::new();
    let config = ws.console_config("**/*.log", "");
    // Directories with long names: paths of over 1,000 bytes, past what a 1 KiB page holds.
    let mut deep = ws.logs();
    for i in 0..5 {
        deep.push(format!("{i}{}", "d".repeat(220)));
    }
    std::fs::create_dir_all(&deep).unwrap();
    let mut rng = fastrand::Rng::with_seed(14);
    let mut rows = Vec::new();
    let mut expected = Vec::new();
    let mut files: Vec<(PathBuf, String, usize)> = Vec::new();
    for i in 0..240 {
        let dir = if i % 40 == 0 { deep.clone() } else { ws.logs() };
        let path = dir.join(format!("app-{i:03}.log"));
        let tag = format!("f{i}");
        let total = rng.usize(0..30);
        let ends = write_log(&path, &tag, total);
        // Read up to line `read` (0: nothing, `total`: all).
        let read = if total == 0 { 0 } else { rng.usize(0..=total) };
        let offset = if read == 0 { 0 } else { ends[read - 1] };
        rows.push(TailRow {
            name: path.display().to_string(),
            offset,
            inode: inode(&path),
            rotated: false,
        });
        expected.extend(lines(&tag, read..total));
        files.push((path, tag, total));
    }
    // A file Fluent Bit followed that is gone since: nothing to read.
    rows.push(TailRow {
        name: ws.log("deleted.log").display().to_string(),
        offset: 500,
        inode: u64::MAX >> 2,
        rotated: true,
    });
    let db = ws.path("flb_kube.db");
    fluent_bit_db(&db, 1024, &rows);

    let out = import(&[
        "--fluent-bit-db",
        db.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("240 of 241 offsets imported"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("is gone"), "{}", out.stderr);

    // The app writes on between the old agent's stop and skiff's start.
    for (path, tag, total) in files.iter().step_by(3) {
        append(path, tag, *total, total + 5);
        expected.extend(lines(tag, *total..total + 5));
    }
    let run = run_once(&config, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_exactly_once(&run.lines(), &expected, "");
}

/// A row of a file the skiff source does not follow, with unread bytes, is a warning and exit
/// 2; a truncated file is read from its start, with a warning.
#[test]
fn fluent_bit_rows_that_cannot_be_honoured_are_warnings() {
    let ws = Workspace::new();
    let config = ws.console_config("*.log", "");
    let followed = ws.log("app.log");
    write_log(&followed, "a", 10);
    let rotated = ws.log("app.log.1");
    write_log(&rotated, "r", 10);
    let db = ws.path("tail.db");
    fluent_bit_db(
        &db,
        4096,
        &[
            TailRow {
                name: followed.display().to_string(),
                offset: 1 << 20,
                inode: inode(&followed),
                rotated: false,
            },
            TailRow {
                name: rotated.display().to_string(),
                offset: 3,
                inode: inode(&rotated),
                rotated: true,
            },
        ],
    );
    let out = import(&[
        "--fluent-bit-db",
        db.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("truncated"), "{}", out.stderr);
    assert!(out.stderr.contains("does not match it"), "{}", out.stderr);
}

/// Offsets are imported once, before skiff first runs: checkpoints already there are kept
/// unless `--force`.
#[test]
fn existing_checkpoints_are_not_overwritten_without_force() {
    let ws = Workspace::new();
    let config = ws.console_config("*.log", "");
    let log = ws.log("app.log");
    let ends = write_log(&log, "a", 10);
    assert_eq!(run_once(&config, &[]).code, 0);
    let db = ws.path("tail.db");
    fluent_bit_db(
        &db,
        4096,
        &[TailRow {
            name: log.display().to_string(),
            offset: ends[4],
            inode: inode(&log),
            rotated: false,
        }],
    );
    let args = [
        "--fluent-bit-db",
        db.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    let out = import(&args);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    // An init container that runs at every start keeps what skiff wrote.
    let mut keep = args.to_vec();
    keep.push("--keep-existing");
    let out = import(&keep);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("kept them"), "{}", out.stdout);
    assert!(run_once(&config, &[]).lines().is_empty());
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(import(&forced).code, 0);
    let run = run_once(&config, &[]);
    assert_exactly_once(&run.lines(), &lines("a", 5..10), "");
}

/// Vector's checkpoints: files known by the CRC-64 of their first line (Vector's default) or by
/// device and inode; skiff reads exactly what Vector had not.
#[test]
fn vector_checkpoints_no_line_twice_or_skipped() {
    let ws = Workspace::new();
    let config = ws.console_config("*.log", "");
    let by_checksum = ws.log("a.log");
    let a = write_log(&by_checksum, "a", 20);
    let by_inode = ws.log("b.log");
    let b = write_log(&by_inode, "b", 20);
    let unknown = ws.log("c.log");
    write_log(&unknown, "c", 3);
    let first_line = format!("{}\n", lines("a", 0..1)[0]);
    let crc = skiff::cutover::vector::crc64_ecma(first_line.as_bytes());
    let m = std::fs::metadata(&by_inode).unwrap();
    let checkpoints = ws.path("checkpoints.json");
    vector_checkpoints(
        &checkpoints,
        &[
            (format!(r#"{{"first_lines_checksum":{crc}}}"#), a[11]),
            (
                format!(r#"{{"dev_inode":[{},{}]}}"#, m.dev(), m.ino()),
                b[2],
            ),
            // A file gone since.
            (r#"{"first_lines_checksum":12345}"#.to_owned(), 99),
        ],
    );
    let out = import(&[
        "--vector-checkpoints",
        checkpoints.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("2 of 3 offsets imported"),
        "{}",
        out.stdout
    );
    append(&by_checksum, "a", 20, 25);
    let run = run_once(&config, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut expected = lines("a", 12..25);
    expected.extend(lines("b", 3..20));
    expected.extend(lines("c", 0..3));
    assert_exactly_once(&run.lines(), &expected, "");
}
