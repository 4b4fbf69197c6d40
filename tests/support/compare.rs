//! Judging what skiff shipped: exactly-once (or at-least-once within a bound) comparison of
//! lines, the `message` of output lines, golden files, and read times masked so that output
//! can be compared exactly.

use std::cmp::Ordering;
use std::path::Path;

use chrono::DateTime;

use super::skiff::Output;

/// How many times each line occurs: the distinct lines, sorted, with their counts. (Sorting is
/// many times faster than hash maps in a debug build, and the torture tests count hundreds of
/// thousands of lines.)
pub struct Counts<'a>(Vec<(&'a str, usize)>);

impl<'a> Counts<'a> {
    /// How often `line` occurs (0 if never).
    pub fn get(&self, line: &str) -> usize {
        self.0
            .binary_search_by(|(l, _)| (*l).cmp(line))
            .map_or(0, |i| self.0[i].1)
    }

    pub fn contains(&self, line: &str) -> bool {
        self.get(line) > 0
    }

    /// Each distinct line with its count, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, usize)> + '_ {
        self.0.iter().copied()
    }
}

/// Counts the lines of `lines`.
pub fn counts(lines: &[String]) -> Counts<'_> {
    let mut sorted: Vec<&str> = lines.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let mut out: Vec<(&str, usize)> = Vec::new();
    for l in sorted {
        match out.last_mut() {
            Some((last, n)) if *last == l => *n += 1,
            _ => out.push((l, 1)),
        }
    }
    Counts(out)
}

/// Compares two multisets of lines (order ignored): every expected line must be in `got`, at
/// most `extra` times more often than expected, and nothing else. `Err` describes the
/// difference.
pub fn compare_lines(got: &[String], expected: &[String], extra: usize) -> Result<(), String> {
    let (have, want) = (counts(got).0, counts(expected).0);
    let (mut missing, mut unexpected, mut repeated) = (Vec::new(), Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < have.len() || j < want.len() {
        let order = match (have.get(i), want.get(j)) {
            (Some(h), Some(w)) => h.0.cmp(w.0),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                unexpected.push(have[i].0);
                i += 1;
            }
            Ordering::Greater => {
                missing.push(want[j].0);
                j += 1;
            }
            Ordering::Equal => {
                if have[i].1 > want[j].1 + extra {
                    repeated.push(have[i]);
                }
                i += 1;
                j += 1;
            }
        }
    }
    if missing.is_empty() && unexpected.is_empty() && repeated.is_empty() {
        return Ok(());
    }
    Err(format!(
        "missing {} (e.g. {:?}), unexpected {} (e.g. {:?}), repeated more than {extra} extra times {} (e.g. {:?}); got {} lines, expected {}",
        missing.len(),
        &missing[..missing.len().min(3)],
        unexpected.len(),
        &unexpected[..unexpected.len().min(3)],
        repeated.len(),
        &repeated[..repeated.len().min(3)],
        got.len(),
        expected.len()
    ))
}

/// Asserts that `got` holds every line of `expected` exactly once (order ignored); `context`
/// (a seed, skiff's stderr) is added to the failure message.
pub fn assert_exactly_once(got: &[String], expected: &[String], context: &str) {
    if let Err(e) = compare_lines(got, expected, 0) {
        panic!("{e}\n{context}");
    }
}

/// The `message` of a JSON output line; panics on anything else.
pub fn json_message(line: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
    v["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message: {line}"))
        .to_owned()
}

/// The messages of JSON output lines.
pub fn json_messages(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| json_message(l)).collect()
}

/// The message of an output line, whether JSON (`{"message": ...}`) or text.
pub fn message_of(line: &str) -> String {
    if line.starts_with('{') {
        json_message(line)
    } else {
        line.to_owned()
    }
}

/// The stdout lines of a run that must have succeeded, with read times masked: the value of a
/// `"timestamp"` that falls within the run (the read time of an event without its own time)
/// becomes `<read_at>`.
pub fn masked_lines(out: &Output) -> Vec<String> {
    assert!(
        out.success(),
        "skiff failed: exit {}\n{}",
        out.code,
        out.stderr
    );
    let slack = chrono::Duration::seconds(2);
    let (from, to) = (out.started - slack, out.ended + slack);
    let within = |ts: &str| DateTime::parse_from_rfc3339(ts).is_ok_and(|t| t >= from && t <= to);
    out.stdout
        .lines()
        .map(|line| {
            const KEY: &str = "\"timestamp\":\"";
            let Some(at) = line.find(KEY).map(|i| i + KEY.len()) else {
                return line.to_owned();
            };
            match line[at..].find('"') {
                Some(len) if within(&line[at..at + len]) => {
                    format!("{}<read_at>{}", &line[..at], &line[at + len..])
                }
                _ => line.to_owned(),
            }
        })
        .collect()
}

/// Compares `actual` with the golden file `path`; with `SKIFF_BLESS=1`, writes it instead.
pub fn assert_golden(path: &Path, actual: &str) {
    if std::env::var_os("SKIFF_BLESS").is_some() {
        std::fs::write(path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (run with SKIFF_BLESS=1)",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the output.\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}
