//! `filter`: keeps or drops events by conditions on their fields (Fluent Bit's `grep`, Vector's
//! `filter`).
//!
//! `conditions = [ { field = "level", equals = "DEBUG" }, { field = "level", one_of = ["WARN",
//! "ERROR"] }, { field = "message", matches = "timeout" }, { field = "user", exists = true } ]`,
//! exactly one operator per condition, `not = true` to negate one. `match = "all"` (default) or
//! `"any"`; `mode = "keep"` (default: matching events pass) or `"drop"` (matching events are
//! dropped). Dropped events count as delivered and in `..._discarded_events_total{reason=
//! "filtered"}`; the batch passes on even when empty, carrying its acknowledgements.
//!
//! Comparisons are on text: a string field compares as it is; numbers, booleans and timestamps
//! compare by their JSON / RFC 3339 text, so `equals = "500"` and `equals = 500` both match a
//! status parsed as the integer 500 or the string `"500"`. Objects, arrays and null never equal.

use bytes::Bytes;
use regex::bytes::Regex;
use serde::Deserialize;

use super::on_error::ErrorReport;
use super::{Transform, TransformConfig};
use crate::codec::json::to_text;
use crate::config::{parse_table, FieldError};
use crate::event::{Batch, Event, FieldPath, Value};

/// `keep` or `drop` matching events.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Keep,
    Drop,
}

/// How conditions combine.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    #[default]
    All,
    Any,
}

/// `[transforms.NAME] type = "filter"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilterConfig {
    /// `keep` (default) or `drop` the events that match.
    #[serde(default)]
    mode: Mode,
    /// `all` (default) or `any` condition must hold.
    #[serde(default, rename = "match")]
    combine: Combine,
    /// The conditions.
    conditions: Vec<RawCondition>,
}

/// One condition, as written (also in `log_to_metric`'s `conditions`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    /// The field tested.
    field: String,
    /// The field's text equals this value.
    #[serde(default)]
    equals: Option<toml::Value>,
    /// The field's text equals one of these values.
    #[serde(default)]
    one_of: Option<Vec<toml::Value>>,
    /// The field's text matches this regex (anywhere; anchor with `^`/`$`).
    #[serde(default)]
    matches: Option<String>,
    /// The field is present (true) or absent (false).
    #[serde(default)]
    exists: Option<bool>,
    /// Negate the condition.
    #[serde(default)]
    not: bool,
}

#[derive(Debug, Clone)]
enum Op {
    Equals(Bytes),
    OneOf(Vec<Bytes>),
    Matches(Regex),
    Exists(bool),
}

#[derive(Debug, Clone)]
struct Condition {
    field: FieldPath,
    op: Op,
    not: bool,
}

/// Compiled conditions and how they combine: what `filter` and `log_to_metric` select events by.
#[derive(Debug, Clone)]
pub struct Conditions {
    combine: Combine,
    conditions: Vec<Condition>,
}

impl Conditions {
    /// Compiles `raw`; errors name the key `conditions` and the condition's index.
    pub fn compile(combine: Combine, raw: &[RawCondition]) -> Result<Conditions, FieldError> {
        if raw.is_empty() {
            return Err(FieldError::new(
                &["conditions"],
                "`conditions` is empty: add at least one condition",
            ));
        }
        let conditions = raw
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.compile()
                    .map_err(|e| e.within(&["conditions", &i.to_string()]))
            })
            .collect::<Result<_, _>>()?;
        Ok(Conditions {
            combine,
            conditions,
        })
    }

    /// True when the event is selected.
    pub fn matches(&self, ev: &Event) -> bool {
        match self.combine {
            Combine::All => self.conditions.iter().all(|c| c.holds(ev)),
            Combine::Any => self.conditions.iter().any(|c| c.holds(ev)),
        }
    }
}

/// A validated `filter` transform.
#[derive(Debug, Clone)]
pub struct FilterConfig {
    mode: Mode,
    conditions: Conditions,
}

/// The text a TOML scalar compares as.
fn scalar_text(v: &toml::Value) -> Result<Bytes, String> {
    match v {
        toml::Value::String(s) => Ok(Bytes::copy_from_slice(s.as_bytes())),
        toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => {
            let value = match v {
                toml::Value::Integer(n) => Value::Int(*n),
                toml::Value::Float(f) => Value::Float(*f),
                toml::Value::Boolean(b) => Value::Bool(*b),
                _ => Value::Null,
            };
            Ok(Bytes::from(to_text(&value)))
        }
        _ => Err("expected a string, a number or a boolean".into()),
    }
}

impl RawCondition {
    fn compile(&self) -> Result<Condition, FieldError> {
        let field = FieldPath::parse(&self.field).map_err(|e| FieldError::new(&["field"], e))?;
        let set = [
            self.equals.is_some(),
            self.one_of.is_some(),
            self.matches.is_some(),
            self.exists.is_some(),
        ];
        if set.iter().filter(|s| **s).count() != 1 {
            return Err(FieldError::new(
                &[],
                "a condition needs exactly one of `equals`, `one_of`, `matches`, `exists`",
            ));
        }
        let op = if let Some(v) = &self.equals {
            Op::Equals(scalar_text(v).map_err(|e| FieldError::new(&["equals"], e))?)
        } else if let Some(list) = &self.one_of {
            let texts = list
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    scalar_text(v).map_err(|e| FieldError::new(&["one_of", &i.to_string()], e))
                })
                .collect::<Result<_, _>>()?;
            Op::OneOf(texts)
        } else if let Some(p) = &self.matches {
            Op::Matches(
                Regex::new(p)
                    .map_err(|e| FieldError::new(&["matches"], format!("invalid regex: {e}")))?,
            )
        } else {
            Op::Exists(self.exists.unwrap_or(true))
        };
        Ok(Condition {
            field,
            op,
            not: self.not,
        })
    }
}

impl FilterConfig {
    /// Parses and checks the table, compiling regexes.
    pub fn parse(table: toml::Table) -> Result<FilterConfig, FieldError> {
        let raw: RawFilterConfig = parse_table(table)?;
        Ok(FilterConfig {
            mode: raw.mode,
            conditions: Conditions::compile(raw.combine, &raw.conditions)?,
        })
    }
}

/// Compares a field with an expected text without allocating for strings.
fn text_equals(v: &Value, expected: &[u8]) -> bool {
    match v {
        Value::Str(s) => s.as_ref() == expected,
        Value::Int(n) => itoa::Buffer::new().format(*n).as_bytes() == expected,
        Value::Bool(b) => (if *b { &b"true"[..] } else { b"false" }) == expected,
        Value::Float(_) | Value::Timestamp(_) => {
            to_text(v).trim_matches('"').as_bytes() == expected
        }
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

impl Condition {
    fn holds(&self, ev: &Event) -> bool {
        let v = ev.fields.get_path(&self.field);
        let result = match (&self.op, v) {
            (Op::Exists(want), v) => v.is_some() == *want,
            (_, None) => false,
            (Op::Equals(e), Some(v)) => text_equals(v, e),
            (Op::OneOf(list), Some(v)) => list.iter().any(|e| text_equals(v, e)),
            (Op::Matches(re), Some(Value::Str(s))) => re.is_match(s),
            (Op::Matches(_), Some(Value::Null | Value::Array(_) | Value::Object(_))) => false,
            (Op::Matches(re), Some(v)) => re.is_match(to_text(v).trim_matches('"').as_bytes()),
        };
        result != self.not
    }
}

impl TransformConfig for FilterConfig {
    fn stateless(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "filter"
    }

    fn build(&self, name: &str) -> Box<dyn Transform> {
        Box::new(Filter {
            config: self.clone(),
            report: ErrorReport::new(name),
        })
    }
}

/// The running transform.
pub struct Filter {
    config: FilterConfig,
    report: ErrorReport,
}

impl Filter {
    fn matches(&self, ev: &Event) -> bool {
        self.config.conditions.matches(ev)
    }
}

impl Transform for Filter {
    fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
        let keep_matching = self.config.mode == Mode::Keep;
        let mut events = std::mem::take(batch.events_mut());
        let before = events.len();
        events.retain(|ev| self.matches(ev) == keep_matching);
        self.report.filtered((before - events.len()) as u64);
        batch.payload = crate::event::Payload::Events(events);
        self.report.flush();
        out.push(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::testing::{json_lines, run_lines};

    fn build(s: &str) -> Box<dyn Transform> {
        FilterConfig::parse(toml::from_str(s).unwrap())
            .unwrap()
            .build("filter_test")
    }

    fn kept(s: &str, lines: &[&str]) -> Vec<String> {
        let mut t = crate::transforms::parse_logfmt::ParseLogfmtConfig::parse(
            toml::from_str("types = { status = \"int\" }").unwrap(),
        )
        .unwrap()
        .build("filter_test_parse");
        let parsed = run_lines(t.as_mut(), lines);
        let mut f = build(s);
        let mut out = Vec::new();
        for b in parsed {
            f.transform(b, &mut out);
        }
        json_lines(&out)
            .into_iter()
            .map(|l| {
                l.replace(r#""timestamp":"<read_at>","#, "")
                    .replace(r#","file":"/var/log/app/app.log""#, "")
            })
            .collect()
    }

    const LINES: &[&str] = &[
        "level=DEBUG msg=noise",
        "level=WARN msg=\"slow request\" status=200",
        "level=ERROR msg=\"upstream timeout\" status=500 user=ann",
        "level=INFO msg=ok status=500",
    ];

    #[test]
    fn golden_operators() {
        assert_eq!(
            kept(
                r#"conditions = [{ field = "level", equals = "DEBUG" }]
mode = "drop""#,
                LINES
            ),
            [
                r#"{"level":"WARN","msg":"slow request","status":200}"#,
                r#"{"level":"ERROR","msg":"upstream timeout","status":500,"user":"ann"}"#,
                r#"{"level":"INFO","msg":"ok","status":500}"#,
            ]
        );
        assert_eq!(
            kept(
                r#"conditions = [{ field = "level", one_of = ["WARN", "ERROR"] }, { field = "msg", matches = "timeout" }]"#,
                LINES
            ),
            [r#"{"level":"ERROR","msg":"upstream timeout","status":500,"user":"ann"}"#]
        );
        assert_eq!(
            kept(
                r#"match = "any"
conditions = [{ field = "user", exists = true }, { field = "status", equals = 200 }]"#,
                LINES
            ),
            [
                r#"{"level":"WARN","msg":"slow request","status":200}"#,
                r#"{"level":"ERROR","msg":"upstream timeout","status":500,"user":"ann"}"#,
            ]
        );
        assert_eq!(
            kept(
                r#"conditions = [{ field = "status", equals = "500" }, { field = "level", equals = "ERROR", not = true }]"#,
                LINES
            ),
            [r#"{"level":"INFO","msg":"ok","status":500}"#]
        );
        assert_eq!(
            kept(
                r#"conditions = [{ field = "user", exists = false }, { field = "status", matches = "^5" }]"#,
                LINES
            ),
            [r#"{"level":"INFO","msg":"ok","status":500}"#]
        );
    }

    #[test]
    fn dropping_everything_keeps_the_batch_and_counts() {
        let mut f = build(
            r#"conditions = [{ field = "message", exists = true }]
mode = "drop""#,
        );
        let out = run_lines(f.as_mut(), &["a", "b"]);
        assert_eq!(
            out.len(),
            1,
            "the empty batch still travels with its acknowledgements"
        );
        assert!(out[0].is_empty());
        assert!(crate::metrics::metrics().encode().contains(
            "skiff_component_discarded_events_total{component=\"filter_test\",reason=\"filtered\"}"
        ));
    }

    #[test]
    fn config_errors() {
        let err = |s: &str| FilterConfig::parse(toml::from_str(s).unwrap()).unwrap_err();
        assert_eq!(err("conditions = []").path, vec!["conditions"]);
        assert_eq!(
            err(r#"conditions = [{ field = "a", equals = "x", exists = true }]"#).path,
            vec!["conditions", "0"]
        );
        assert_eq!(
            err(r#"conditions = [{ field = "a" }]"#).path,
            vec!["conditions", "0"]
        );
        assert_eq!(
            err(r#"conditions = [{ field = "a", matches = "(" }]"#).path,
            vec!["conditions", "0", "matches"]
        );
        assert_eq!(
            err(r#"conditions = [{ field = "a", one_of = ["x", [1]] }]"#).path,
            vec!["conditions", "0", "one_of", "1"]
        );
        assert_eq!(
            err(r#"conditions = [{ field = "a", equal = "x" }]"#).path,
            vec!["conditions", "0", "equal"]
        );
        assert_eq!(
            err(r#"match = "some"
conditions = [{ field = "a", exists = true }]"#)
            .path,
            vec!["match"]
        );
    }
}
