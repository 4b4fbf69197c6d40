//! Runs golden vectors from the peers' test suites (`tests/fixtures/fidelity/`) through skiff's
//! transforms, the way a pipeline runs them: raw lines in one batch, each transform in turn, then
//! the end of input; and compares every event field by field (types included) and its time to
//! the millisecond.
//!
//! A fixture file holds `[[case]]` tables:
//! - `id`: the peer's test (function, example or file name);
//! - `transforms`: the transform tables, as in a config (with `type`, without `inputs`);
//! - `input` (text lines) or `input_hex` (lines as hex bytes; invalid UTF-8 is replaced as the
//!   file source replaces it); in `input` and `events`, `{cycle:N:text}` stands for `text`
//!   repeated up to `N` characters (the long lines of the peers' tests);
//! - `events`: what skiff must give, one JSON object of fields per event (no `file` field:
//!   the batches carry no path);
//! - `times`: the events' times (`2017-07-17T20:17:03.100Z`, `read` for the read time), when
//!   the vector pins them; `{year}` stands for the year of a time its text leaves out: the
//!   current one, or the one before when that would put the time more than an hour after now
//!   (skiff's rule; Fluent Bit always takes the current year, which agrees except in the weeks
//!   before the date each year);
//! - `differs` (why skiff differs on purpose) with `peer` (what the peer gives), when skiff
//!   does not give the peer's output;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;
use skiff::event::{Batch, Event, LineSpan, Lines, Origin, Payload, Value};
use skiff::transforms::Transform;

/// One golden vector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub transforms: Vec<toml::Table>,
    #[serde(default)]
    pub input: Vec<String>,
    #[serde(default)]
    pub input_hex: Vec<String>,
    pub events: Vec<String>,
    #[serde(default)]
    pub times: Option<Vec<String>>,
    #[serde(default)]
    pub differs: Option<String>,
    #[serde(default)]
    pub peer: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    case: Vec<Case>,
}

/// What a vector gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// skiff gives the peer's output.
    Agrees,
    /// skiff gives its documented output, different on purpose.
    Differs,
}

/// The root of the fidelity fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fidelity")
}

/// The cases of every `.toml` file under `dir` (relative to the fixtures), by file.
pub fn load(dir: &str) -> Vec<(String, Vec<Case>)> {
    let root = fixtures().join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let f: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let name = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
            (name, f.case)
        })
        .collect()
}

/// The read time of the test batches.
pub fn read_at() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).unwrap()
}

/// One batch of `lines` from one file, as the file source makes it.
pub fn batch(lines: &[Vec<u8>]) -> Batch {
    let mut buf = Vec::new();
    let mut spans = Vec::new();
    for l in lines {
        let text = String::from_utf8_lossy(l);
        let start = buf.len() as u32;
        buf.extend_from_slice(text.as_bytes());
        spans.push(LineSpan {
            offset: u64::from(start),
            start,
            end: buf.len() as u32,
            truncated: false,
        });
        buf.push(b'\n');
    }
    Batch {
        origin: Some(Arc::new(Origin {
            source: "fidelity".into(),
            path: Bytes::from_static(b"/var/log/fidelity.log"),
            file_id: 1,
        })),
        read_at: read_at(),
        payload: Payload::Lines(Lines {
            buf: Bytes::from(buf),
            spans,
        }),
        file_key: None,
        end_of_file: false,
        acks: Vec::new(),
    }
}

/// Builds the transforms of a case; the config error, if one is refused.
pub fn build(tables: &[toml::Table]) -> Result<Vec<Box<dyn Transform>>, String> {
    tables
        .iter()
        .map(|t| {
            let mut t = t.clone();
            let kind = t
                .remove("type")
                .and_then(|v| v.as_str().map(str::to_owned))
                .ok_or("a transform without `type`")?;
            skiff::transforms::parse(&kind, t)
                .map(|c| c.build("fidelity"))
                .map_err(|e| format!("{}: {}", e.path.join("."), e.message))
        })
        .collect()
}

/// Runs `lines` through `chain` and its end of input; every event out.
pub fn run(chain: &mut [Box<dyn Transform>], lines: &[Vec<u8>]) -> Vec<Event> {
    let mut batches = vec![batch(lines)];
    for t in chain.iter_mut() {
        let mut next = Vec::new();
        for b in batches {
            t.transform(b, &mut next);
        }
        t.finish(&mut next);
        batches = next;
    }
    batches
        .into_iter()
        .flat_map(|mut b| b.take_events())
        .collect()
}

/// A value as JSON, for comparison: times as RFC 3339 text to the millisecond.
pub fn json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) => J::from(*n),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(_) => J::String(v.as_str().unwrap_or_default().to_owned()),
        Value::Timestamp(t) => J::String(time_text(Some(*t))),
        Value::Array(a) => J::Array(a.iter().map(json).collect()),
        Value::Object(f) => J::Object(
            f.iter()
                .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), json(v)))
                .collect(),
        ),
    }
}

/// An event's fields as JSON.
pub fn fields(ev: &Event) -> serde_json::Value {
    json(&Value::Object(ev.fields.clone()))
}

/// An event time as the fixtures write it.
pub fn time_text(t: Option<DateTime<Utc>>) -> String {
    match t {
        None => "read".into(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    }
}

/// Expands `{cycle:N:text}`: `text` repeated up to `N` characters.
pub fn expand(s: &str) -> String {
    let Some(start) = s.find("{cycle:") else {
        return s.to_owned();
    };
    let rest = &s[start + 7..];
    let (n, rest) = rest.split_once(':').expect("{cycle:N:text}");
    let (text, after) = rest.split_once('}').expect("{cycle:N:text}");
    let n: usize = n.parse().expect("a count");
    let long: String = text.chars().cycle().take(n).collect();
    format!("{}{long}{}", &s[..start], expand(after))
}

/// The input lines of a case.
fn lines(case: &Case) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = case.input.iter().map(|l| expand(l).into_bytes()).collect();
    for h in &case.input_hex {
        let bytes = (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex input"))
            .collect();
        out.push(bytes);
    }
    out
}

/// Runs one case; `Err` explains a mismatch.
pub fn check(case: &Case) -> Result<Outcome, String> {
    let mut chain = match build(&case.transforms) {
        Ok(c) => c,
        Err(e) => return Err(format!("config refused: {e}")),
    };
    let events = run(&mut chain, &lines(case));
    let got: Vec<serde_json::Value> = events.iter().map(fields).collect();
    let want: Vec<serde_json::Value> = case
        .events
        .iter()
        .map(|e| {
            serde_json::from_str(&expand(e)).map_err(|err| format!("bad expected JSON {e}: {err}"))
        })
        .collect::<Result<_, _>>()?;
    if got != want {
        return Err(format!(
            "events differ\n   got: {}\n  want: {}",
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&want).unwrap()
        ));
    }
    if let Some(times) = &case.times {
        let got: Vec<String> = events.iter().map(|e| time_text(e.timestamp)).collect();
        let want: Vec<String> = times.iter().map(|t| with_year(t, Utc::now())).collect();
        if got != want {
            return Err(format!("times differ\n   got: {got:?}\n  want: {want:?}"));
        }
    }
    Ok(match &case.differs {
        Some(_) => Outcome::Differs,
        None => Outcome::Agrees,
    })
}

/// `want` with `{year}` replaced by the latest year that puts it at most an hour after `now`.
fn with_year(want: &str, now: DateTime<Utc>) -> String {
    if !want.contains("{year}") {
        return want.to_owned();
    }
    let latest = now + chrono::Duration::hours(1);
    let in_year = |y: i32| want.replace("{year}", &y.to_string());
    let this = in_year(now.year());
    match DateTime::parse_from_rfc3339(&this) {
        Ok(t) if t > latest => in_year(now.year() - 1),
        _ => this,
    }
}

/// Runs every case of the fixture files under `dir`, prints the tally per file and fails on
/// any mismatch. Returns the tally: file -> (vectors, agree, differ).
pub fn run_suite(dir: &str) -> BTreeMap<String, [usize; 3]> {
    let mut tally = BTreeMap::new();
    let mut failures = Vec::new();
    for (file, cases) in load(dir) {
        let mut t = [0usize; 3];
        for case in &cases {
            assert!(
                case.differs.is_none() || case.peer.is_some(),
                "{file} {}: `differs` needs `peer`",
                case.id
            );
            t[0] += 1;
            match check(case) {
                Ok(Outcome::Agrees) => t[1] += 1,
                Ok(Outcome::Differs) => t[2] += 1,
                Err(e) => failures.push(format!("{file} {}: {e}", case.id)),
            }
        }
        eprintln!(
            "{file}: {} vectors, {} agree, {} differ on purpose",
            t[0], t[1], t[2]
        );
        tally.insert(file, t);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    tally
}
