//! `parse_timestamp`: reads a field as the event's time (Vector's `parse_timestamp!`, Fluent
//! Bit's `Time_Key` / `Time_Format`), with the formats of [`super::timestamp`].
//!
//! The parsed time becomes the event's timestamp; with `keep = true` (default) the field is
//! replaced by the time (written as RFC 3339 UTC with milliseconds), with `keep = "original"`
//! it stays as written, with `keep = false` it is removed. `dialect = "fluentbit"` reads Fluent
//! Bit's `Time_Format`s ([`crate::time`]). An event
//! without the field passes unchanged. A value that does not parse: `on_error = "keep"` (default)
//! passes the event on marked with `_skiff_error` and counted in `skiff_transform_errors_total
//! {reason="timestamp"}`; `"drop"` drops it (counted with reason `parse_error`).

use bytes::Bytes;
use serde::Deserialize;

use super::on_error::{ErrorReport, OnError, Problem};
use super::timestamp::{
    default_field, default_timezone, Applied, KeepSetting, TimestampConfig, TimestampRule,
};
use super::{Transform, TransformConfig};
use crate::config::{parse_table, FieldError};
use crate::event::{Batch, Event, Payload, Value, ERROR_KEY};
use crate::time::Dialect;

/// `[transforms.NAME] type = "parse_timestamp"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParseTimestampConfig {
    /// Field holding the time (default `timestamp`).
    #[serde(default = "default_field")]
    field: String,
    /// One format (default `rfc3339` when neither `format` nor `formats` is set).
    #[serde(default)]
    format: Option<String>,
    /// Formats tried in order.
    #[serde(default)]
    formats: Vec<String>,
    /// How patterns are read: `chrono` (default) or `fluentbit`.
    #[serde(default)]
    dialect: Dialect,
    /// Zone of times written without an offset (default `UTC`).
    #[serde(default = "default_timezone")]
    timezone: String,
    /// `true` (default): the parsed time replaces the field; `"original"`: kept as written;
    /// `false`: removed.
    #[serde(default)]
    keep: KeepSetting,
    /// `keep` (default) or `drop` events whose time does not parse.
    #[serde(default)]
    on_error: OnError,
}

/// A validated `parse_timestamp` transform.
#[derive(Debug, Clone)]
pub struct ParseTimestampConfig {
    rule: TimestampRule,
    on_error: OnError,
    reason: Bytes,
}

impl ParseTimestampConfig {
    /// Parses and checks the table.
    pub fn parse(table: toml::Table) -> Result<ParseTimestampConfig, FieldError> {
        let raw: RawParseTimestampConfig = parse_table(table)?;
        let rule = TimestampConfig {
            field: raw.field.clone(),
            format: raw.format,
            formats: raw.formats,
            dialect: raw.dialect,
            timezone: raw.timezone,
            keep: raw.keep,
        }
        .compile()?;
        Ok(ParseTimestampConfig {
            rule,
            on_error: raw.on_error,
            reason: Bytes::from(format!("timestamp field `{}` did not parse", raw.field)),
        })
    }
}

impl TransformConfig for ParseTimestampConfig {
    fn stateless(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "parse_timestamp"
    }

    fn build(&self, name: &str) -> Box<dyn Transform> {
        Box::new(ParseTimestamp {
            config: self.clone(),
            report: ErrorReport::new(name),
        })
    }
}

/// The running transform.
pub struct ParseTimestamp {
    config: ParseTimestampConfig,
    report: ErrorReport,
}

impl ParseTimestamp {
    /// Sets the event's time; false when the event must be dropped.
    fn apply(&mut self, ev: &mut Event) -> bool {
        match self.config.rule.apply(&mut ev.fields) {
            Applied::Absent => true,
            Applied::Time(ts) => {
                ev.timestamp = Some(ts);
                true
            }
            Applied::Unreadable if self.config.on_error == OnError::Drop => {
                self.report.record_with(Problem::Dropped, || {
                    self.config.rule.describe_failure(&ev.fields)
                });
                false
            }
            Applied::Unreadable => {
                self.report.record_with(Problem::KeptTimestamp, || {
                    self.config.rule.describe_failure(&ev.fields)
                });
                ev.fields.insert(
                    Bytes::from_static(ERROR_KEY.as_bytes()),
                    Value::Str(self.config.reason.clone()),
                );
                true
            }
        }
    }
}

impl Transform for ParseTimestamp {
    fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
        let mut events = std::mem::take(batch.events_mut());
        events.retain_mut(|ev| self.apply(ev));
        batch.payload = Payload::Events(events);
        self.report.flush();
        out.push(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::testing::{json_lines, run_lines};

    fn build(s: &str) -> Box<dyn Transform> {
        ParseTimestampConfig::parse(toml::from_str(s).unwrap())
            .unwrap()
            .build("parse_timestamp_test")
    }

    #[test]
    fn golden_message_as_time() {
        let mut t = build("field = \"message\"\nformats = [\"rfc3164\", \"%Y-%m-%d %H:%M:%S\"]\ntimezone = \"+02:00\"");
        let out = run_lines(t.as_mut(), &["2026-11-26 06:00:00", "not a time"]);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"2026-11-26T04:00:00.000Z","message":"2026-11-26T04:00:00.000Z","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"<read_at>","message":"not a time","file":"/var/log/app/app.log","_skiff_error":"timestamp field `message` did not parse"}"#,
            ]
        );
    }

    #[test]
    fn keep_false_drop_and_missing() {
        let mut t =
            build("field = \"message\"\nformat = \"unix_ms\"\nkeep = false\non_error = \"drop\"");
        let out = run_lines(t.as_mut(), &["1500", "x"]);
        assert_eq!(
            json_lines(&out),
            [r#"{"timestamp":"1970-01-01T00:00:01.500Z","file":"/var/log/app/app.log"}"#]
        );
        let mut t = build("");
        let out = run_lines(t.as_mut(), &["no timestamp field"]);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"<read_at>","message":"no timestamp field","file":"/var/log/app/app.log"}"#
            ]
        );
    }

    #[test]
    fn config_errors() {
        let err = |s: &str| ParseTimestampConfig::parse(toml::from_str(s).unwrap()).unwrap_err();
        assert_eq!(err("format = \"%Q\"").path, vec!["format"]);
        assert_eq!(err("timezone = \"Nowhere\"").path, vec!["timezone"]);
        assert_eq!(err("field = \"\"").path, vec!["field"]);
        assert_eq!(err("target = \"x\"").path, vec!["target"]);
    }
}
