//! One parser definition (a built-in by name, or one written inline like a Fluent Bit
//! `[PARSER]`), compiled into something that reads a text.
//!
//! What Fluent Bit does, and skiff with it: a regex's named groups become string fields
//! (non-participating groups are left out, and empty ones too unless `skip_empty_values =
//! false`); `types` converts fields of regex, logfmt and LTSV parsers (not JSON ones); the
//! `time_key` field is read with `time_format` and becomes the event's time, and is removed
//! unless `time_keep`, in which case it keeps its text.
//!
//! Where skiff differs on purpose, nothing is lost: a time that does not parse leaves the
//! field as it was and marks the event `_skiff_error` (Fluent Bit drops the field of a regex
//! parser, and fails a logfmt or LTSV one); a value that does not convert to its type keeps
//! its text and marks the event (Fluent Bit writes `0` for an integer that is not one).

use std::borrow::Cow;
use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::text;
use crate::dialect::onigmo;
use crate::event::{Fields, Value};
use crate::time::{Dialect, TimestampParser};
use crate::transforms::on_error::Reason;
use crate::transforms::parse_json::JsonParser;
use crate::transforms::parse_regex::RegexParser;
use crate::transforms::parser::Parse;

/// How a parser reads text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Regex,
    Json,
    Logfmt,
    Ltsv,
}

/// Fluent Bit's `Types` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FluentType {
    String,
    Integer,
    Float,
    Bool,
    Hex,
}

fn yes() -> bool {
    true
}

/// A parser written inline, with Fluent Bit's `[PARSER]` keys in snake case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefinitionConfig {
    /// `regex`, `json`, `logfmt` or `ltsv`.
    pub format: Format,
    /// With `format = "regex"`: the regex in Fluent Bit's syntax (Onigmo, Ruby), translated
    /// at load; `/.../` delimiters allowed.
    #[serde(default)]
    pub regex: Option<String>,
    /// Field holding the time (default `time` when `time_format` is set).
    #[serde(default)]
    pub time_key: Option<String>,
    /// Fluent Bit's `Time_Format` (strptime, with `%L` for fractions).
    #[serde(default)]
    pub time_format: Option<String>,
    /// Keep the time field, as text (default false).
    #[serde(default)]
    pub time_keep: bool,
    /// Offset of times written without one (`+0200`); default UTC.
    #[serde(default)]
    pub time_offset: Option<String>,
    /// IANA zone of times written without an offset (`America/New_York`), read from the
    /// zoneinfo files at load; instead of `time_offset`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Field types: `string`, `integer`, `float`, `bool`, `hex`.
    #[serde(default)]
    pub types: BTreeMap<String, FluentType>,
    /// Leave out fields whose regex capture is empty (default true).
    #[serde(default = "yes")]
    pub skip_empty_values: bool,
}

/// Where a parser's time is and how to read it.
#[derive(Debug, Clone)]
pub struct TimeDefinition {
    pub key: String,
    pub format: String,
    pub keep: bool,
    /// `time_offset` or `time_zone`: the zone of times written without an offset.
    pub zone: Option<(&'static str, String)>,
}

impl TimeDefinition {
    /// The time reader: Fluent Bit's `Time_Format` dialect, in the definition's zone.
    fn compile(&self) -> Result<TimestampParser, (&'static str, String)> {
        let (zone_key, zone) = match &self.zone {
            Some((key, zone)) => (*key, zone.as_str()),
            None => ("time_offset", "UTC"),
        };
        TimestampParser::build(Some(&self.format), &[], Dialect::Fluentbit, zone).map_err(|e| {
            let key = if e.path.first().is_some_and(|k| k == "timezone") {
                zone_key
            } else {
                "time_format"
            };
            (key, e.message)
        })
    }
}

/// A definition, checked, ready to compile.
#[derive(Debug, Clone)]
pub struct Definition {
    pub format: Format,
    /// The regex in Rust syntax, and whether its `^`/`$` are line anchors.
    pub regex: Option<onigmo::Translation>,
    pub time: Option<TimeDefinition>,
    pub types: BTreeMap<String, FluentType>,
    pub skip_empty: bool,
}

impl DefinitionConfig {
    /// Checks the definition; errors name the key at fault.
    pub fn check(self) -> Result<Definition, (&'static str, String)> {
        let regex = match (self.format, self.regex) {
            (Format::Regex, Some(r)) => {
                Some(onigmo::translate(&r).map_err(|e| ("regex", e.to_string()))?)
            }
            (Format::Regex, None) => {
                return Err(("format", "`format = \"regex\"` needs `regex`".into()))
            }
            (_, Some(_)) => {
                return Err((
                    "regex",
                    "`regex` applies to `format = \"regex\"` only".into(),
                ))
            }
            (_, None) => None,
        };
        let zone = match (self.time_offset, self.time_zone) {
            (Some(_), Some(_)) => {
                return Err((
                    "time_zone",
                    "set `time_offset` or `time_zone`, not both".into(),
                ))
            }
            (Some(o), None) => Some(("time_offset", o)),
            (None, Some(z)) => Some(("time_zone", z)),
            (None, None) => None,
        };
        let time = match (self.time_format, self.time_key) {
            (Some(format), key) => Some(TimeDefinition {
                key: key.unwrap_or_else(|| "time".into()),
                format,
                keep: self.time_keep,
                zone,
            }),
            (None, Some(_)) => return Err(("time_key", "`time_key` needs `time_format`".into())),
            (None, None) => None,
        };
        Ok(Definition {
            format: self.format,
            regex,
            time,
            types: self.types,
            skip_empty: self.skip_empty_values,
        })
    }
}

/// The time field of a parser and how to read it.
#[derive(Debug, Clone)]
struct TimeRule {
    key: String,
    format: TimestampParser,
    keep: bool,
    /// The `_skiff_error` text of a time that does not parse.
    reason: String,
}

/// How the text is read.
#[derive(Debug, Clone)]
enum Body {
    /// Two compilations of the regex: for texts on one line, and with `(?m)` for texts that
    /// hold a newline when the pattern has line anchors.
    Regex {
        one_line: Box<RegexParser>,
        lines: Option<Box<RegexParser>>,
    },
    Json(JsonParser),
    Logfmt,
    Ltsv,
}

/// A compiled parser.
#[derive(Debug, Clone)]
pub struct FluentParser {
    body: Body,
    time: Option<TimeRule>,
    types: Vec<(String, FluentType)>,
    skip_empty: bool,
}

impl Definition {
    /// Compiles the definition; errors name the key at fault.
    pub fn compile(&self) -> Result<FluentParser, (&'static str, String)> {
        let body = match (&self.format, &self.regex) {
            (Format::Regex, Some(t)) => {
                let build = |p: String| {
                    RegexParser::new(&[p], &BTreeMap::new(), true)
                        .map(Box::new)
                        .map_err(|(_, e)| ("regex", e))
                };
                Body::Regex {
                    one_line: build(t.pattern.clone())?,
                    lines: if t.line_anchors {
                        Some(build(t.full())?)
                    } else {
                        None
                    },
                }
            }
            (Format::Regex, None) => return Err(("regex", "missing".into())),
            (Format::Json, _) => Body::Json(JsonParser::default()),
            (Format::Logfmt, _) => Body::Logfmt,
            (Format::Ltsv, _) => Body::Ltsv,
        };
        let time = match &self.time {
            Some(t) => Some(TimeRule {
                key: t.key.clone(),
                format: t.compile()?,
                keep: t.keep,
                reason: format!("time field `{}` did not parse with `{}`", t.key, t.format),
            }),
            None => None,
        };
        Ok(FluentParser {
            body,
            time,
            types: self.types.iter().map(|(k, t)| (k.clone(), *t)).collect(),
            skip_empty: self.skip_empty,
        })
    }
}

impl FluentParser {
    /// Reads `input` (inside `owner`): the fields and the event time, or `None` when the text
    /// is not in this parser's format. Problems that keep the event go to `warning`.
    pub fn run(
        &mut self,
        owner: &Bytes,
        input: &[u8],
        warning: &mut Option<Reason>,
    ) -> Option<(Fields, Option<DateTime<Utc>>)> {
        let mut fields = match &mut self.body {
            Body::Regex { one_line, lines } => {
                let parser = match lines {
                    Some(l) if memchr::memchr(b'\n', input).is_some() => l,
                    _ => one_line,
                };
                match parser.parse(owner, input, warning) {
                    Ok(Value::Object(f)) => f,
                    _ => return None,
                }
            }
            Body::Json(p) => match p.parse(owner, input, warning) {
                Ok(Value::Object(f)) => f,
                _ => return None,
            },
            Body::Logfmt => text::logfmt(owner, input)?,
            Body::Ltsv => text::ltsv(owner, input)?,
        };
        if self.skip_empty && matches!(self.body, Body::Regex { .. }) {
            fields = without_empty(fields);
        }
        if !self.types.is_empty() && !matches!(self.body, Body::Json(_)) {
            for (key, ty) in &self.types {
                if let Some(v) = fields.get_mut(key) {
                    convert(key, v, *ty, warning);
                }
            }
        }
        let time = self
            .time
            .as_ref()
            .and_then(|rule| take_time(rule, &mut fields, warning));
        Some((fields, time))
    }
}

/// The fields without empty strings (rebuilt only when there is one).
fn without_empty(fields: Fields) -> Fields {
    let empty = |v: &Value| matches!(v, Value::Str(s) if s.is_empty());
    if !fields.iter().any(|(_, v)| empty(v)) {
        return fields;
    }
    let mut out = Fields::with_capacity(fields.len());
    for (k, v) in fields {
        if !empty(&v) {
            out.push_unchecked(k, v);
        }
    }
    out
}

/// Reads the time field; removes it unless kept. A time that does not parse stays.
fn take_time(
    rule: &TimeRule,
    fields: &mut Fields,
    warning: &mut Option<Reason>,
) -> Option<DateTime<Utc>> {
    let Some(Value::Str(raw)) = fields.get(&rule.key) else {
        return None;
    };
    let parsed = std::str::from_utf8(raw)
        .ok()
        .and_then(|s| rule.format.parse_str(s));
    match parsed {
        Some(t) => {
            if !rule.keep {
                fields.remove(&rule.key);
            }
            Some(t)
        }
        None => {
            *warning = Some(Cow::Owned(rule.reason.clone()));
            None
        }
    }
}

/// Converts a text value to its type; a value that does not convert keeps its text.
fn convert(key: &str, v: &mut Value, ty: FluentType, warning: &mut Option<Reason>) {
    let Value::Str(text) = v else {
        return;
    };
    let s = std::str::from_utf8(text).unwrap_or("");
    let converted = match ty {
        FluentType::String => return,
        FluentType::Integer => s.parse::<i64>().ok().map(Value::Int),
        FluentType::Float => s
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::Float),
        FluentType::Bool => match s.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        FluentType::Hex => {
            let digits = s
                .strip_prefix("0x")
                .or_else(|| s.strip_prefix("0X"))
                .unwrap_or(s);
            i64::from_str_radix(digits, 16)
                .ok()
                .filter(|_| !digits.starts_with(['+', '-']))
                .map(Value::Int)
        }
    };
    match converted {
        Some(value) => *v = value,
        None => {
            *warning = Some(Cow::Owned(format!(
                "field `{key}` is not {}",
                match ty {
                    FluentType::Integer => "an integer",
                    FluentType::Float => "a float",
                    FluentType::Bool => "a bool",
                    _ => "hexadecimal",
                }
            )))
        }
    }
}
