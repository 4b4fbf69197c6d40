//! Golden time tests from the peers' own suites: every vector of tests/fixtures/fidelity/time
//! (Fluent Bit's parser and strptime tests and docs, VRL's parse_timestamp tests, chrono's
//! documented examples; SOURCES says where each comes from) goes through the code path the
//! transforms use: a `timestamp` option compiled from TOML, applied to a record's field.
//! Times are compared to the nanosecond, the field after parsing as written. A vector where
//! skiff differs on purpose says so (`differs`); it still has to give skiff's stated value.
//! Prints per-suite counts, and on failure every vector that did not give what it states.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use skiff::event::{Fields, Value};
use skiff::time::Now;
use skiff::transforms::timestamp::{Applied, TimestampConfig};

/// The clock for vectors that do not pin one (it matters only to formats without a year).
const DEFAULT_NOW: &str = "2026-06-01T00:00:00Z";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fidelity/time")
}

/// One suite's tally.
#[derive(Default)]
struct Tally {
    checked: usize,
    agree: usize,
    differences: Vec<String>,
    failures: Vec<String>,
}

fn text<'a>(t: &'a toml::Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(|v| v.as_str())
}

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("fixture time `{s}`: {e}"))
        .to_utc()
}

/// The `timestamp` option of a vector, as a user would write it.
fn option(v: &toml::Table, file: &toml::Table) -> toml::Table {
    let mut o = toml::Table::new();
    o.insert("field".into(), "time".into());
    for key in ["format", "formats", "timezone", "keep", "dialect"] {
        if let Some(x) = v
            .get(key)
            .or_else(|| file.get(key).filter(|_| key == "dialect"))
        {
            o.insert(key.into(), x.clone());
        }
    }
    o
}

/// The record holding the vector's input in its `time` field.
fn record(v: &toml::Table) -> Fields {
    let value = match (text(v, "input_kind"), text(v, "input")) {
        (Some("timestamp"), Some(s)) => Value::Timestamp(instant(s)),
        (Some("null"), _) => Value::Null,
        (None, Some(s)) => Value::from_string(s.to_owned()),
        other => panic!("vector without a usable input: {other:?}"),
    };
    let mut f = Fields::default();
    f.insert("time".into(), value);
    f
}

/// Runs one vector: `Ok` when skiff gives what it states, else what went wrong.
fn run(v: &toml::Table, file: &toml::Table) -> Result<(), String> {
    let option = option(v, file);
    let outcome = text(v, "outcome").unwrap_or("time");
    let compiled = toml::Value::Table(option.clone())
        .try_into::<TimestampConfig>()
        .map_err(|e| e.to_string())
        .and_then(|c| {
            c.compile()
                .map_err(|e| format!("{}: {}", e.path.join("."), e.message))
        });
    let rule = match (compiled, outcome) {
        (Err(e), "config_error") => {
            return match text(v, "error_has") {
                Some(want) if !e.contains(want) => {
                    Err(format!("config error `{e}` lacks `{want}`"))
                }
                _ => Ok(()),
            }
        }
        (Ok(_), "config_error") => return Err("the config was accepted".into()),
        (Err(e), _) => return Err(format!("config error: {e} (option {option})")),
        (Ok(rule), _) => rule,
    };
    let now = instant(text(v, "now").or(text(file, "now")).unwrap_or(DEFAULT_NOW));
    let mut fields = record(v);
    let applied = rule.apply_at(&mut fields, Now::At(now));
    match (outcome, applied) {
        ("no_time", Applied::Unreadable) => {}
        ("time", Applied::Time(t)) => {
            let want = match (text(v, "time"), v.get("epoch").and_then(|e| e.as_integer())) {
                (Some(s), _) => instant(s),
                (None, Some(secs)) => DateTime::from_timestamp(secs, 0).ok_or("bad epoch")?,
                _ => return Err("vector states no time".into()),
            };
            let key = |t: DateTime<Utc>| (t.timestamp(), t.timestamp_subsec_nanos());
            if key(t) != key(want) {
                return Err(format!(
                    "time {} instead of {}",
                    t.to_rfc3339(),
                    want.to_rfc3339()
                ));
            }
        }
        (want, got) => return Err(format!("{got:?} instead of {want}")),
    }
    let field = fields.get("time");
    if let Some(after) = text(v, "field_after") {
        if field.and_then(Value::as_str) != Some(after) {
            return Err(format!("field after parsing is {field:?}, not `{after}`"));
        }
    }
    if v.get("field_removed").and_then(|b| b.as_bool()) == Some(true) && field.is_some() {
        return Err(format!("field kept: {field:?}"));
    }
    Ok(())
}

fn run_file(path: &Path) -> (String, Tally) {
    let source = std::fs::read_to_string(path).unwrap();
    let file: toml::Table =
        toml::from_str(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let suite = text(&file, "suite").expect("suite name").to_owned();
    let vectors = file
        .get("vector")
        .and_then(|v| v.as_array())
        .unwrap_or_else(|| panic!("{}: no [[vector]]", path.display()));
    let mut tally = Tally::default();
    for v in vectors {
        let v = v.as_table().expect("vector table");
        let name = text(v, "name").expect("vector name");
        tally.checked += 1;
        match run(v, &file) {
            Ok(()) => match text(v, "differs") {
                Some(why) => tally.differences.push(format!("{name}: {why}")),
                None => tally.agree += 1,
            },
            Err(e) => tally.failures.push(format!("{name}: {e}")),
        }
    }
    (suite, tally)
}

#[test]
fn peers_time_vectors() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "fixture files missing: {files:?}");
    let mut report =
        String::from("suite: checked / agree with the peer / documented differences / failed\n");
    let (mut total, mut failed) = (0, Vec::new());
    for path in &files {
        let (suite, t) = run_file(path);
        assert!(t.checked > 0, "{suite}: no vectors");
        total += t.checked;
        report.push_str(&format!(
            "  {suite}: {} / {} / {} / {}\n",
            t.checked,
            t.agree,
            t.differences.len(),
            t.failures.len()
        ));
        failed.extend(t.failures.iter().map(|f| format!("{suite}: {f}")));
    }
    println!("{report}");
    assert!(total >= 140, "only {total} vectors");
    assert!(
        failed.is_empty(),
        "{report}\nfailed:\n{}",
        failed.join("\n")
    );
}

#[test]
fn sources_name_every_fixture() {
    let sources = std::fs::read_to_string(dir().join("SOURCES")).unwrap();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".toml") {
            assert!(sources.contains(&name), "SOURCES does not describe {name}");
        }
    }
}
