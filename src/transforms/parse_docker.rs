//! `parse_docker`: lines of docker's json-file log driver,
//! `{"log":"text\n","stream":"stdout","time":"2026-11-26T04:00:00.123456789Z"}`.
//!
//! Output: `message` (the log without its trailing newline), `stream`, the event time from
//! `time`, and any other key docker wrote (`attrs`). Docker splits lines longer than 16KiB into
//! entries whose `log` has no trailing `\n`; those are joined with what follows
//! ([`super::partial`]).

use std::borrow::Cow;

use bytes::Bytes;
use chrono::DateTime;

use super::json_value;
use super::on_error::Reason;
use super::partial::{ContainerConfig, JoinTransform, Piece, PieceParser};
use super::{Transform, TransformConfig};
use crate::config::FieldError;
use crate::event::Value;

/// A validated `parse_docker` transform.
#[derive(Debug, Clone)]
pub struct ParseDockerConfig {
    config: ContainerConfig,
}

impl ParseDockerConfig {
    /// Parses and checks the table.
    pub fn parse(table: toml::Table) -> Result<ParseDockerConfig, FieldError> {
        Ok(ParseDockerConfig {
            config: ContainerConfig::parse(table)?,
        })
    }
}

impl TransformConfig for ParseDockerConfig {
    fn kind(&self) -> &'static str {
        "parse_docker"
    }

    fn build(&self, name: &str) -> Box<dyn Transform> {
        Box::new(JoinTransform::new(name, DockerParser, &self.config))
    }
}

/// The docker json-file line reader.
#[derive(Debug, Clone, Copy, Default)]
pub struct DockerParser;

impl PieceParser for DockerParser {
    fn parse(&mut self, input: &Bytes) -> Result<Piece, Reason> {
        let Ok(Value::Object(mut fields)) = json_value::parse(input) else {
            return Err(Cow::Borrowed("not a docker JSON line"));
        };
        let Some(Value::Str(log)) = fields.remove("log") else {
            return Err(Cow::Borrowed("docker line without a `log` string"));
        };
        let stream = match fields.remove("stream") {
            Some(Value::Str(s)) => s,
            _ => return Err(Cow::Borrowed("docker line without a `stream` string")),
        };
        let (timestamp, problem) = match fields.remove("time") {
            None => (None, None),
            Some(v) => match v
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            {
                Some(t) => (Some(t.to_utc()), None),
                None => (
                    None,
                    Some(Cow::Borrowed("docker `time` is not an RFC 3339 time")),
                ),
            },
        };
        let (message, partial) = match log.strip_suffix(b"\n") {
            Some(text) => {
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                (log.slice_ref(text), false)
            }
            None => (log, true),
        };
        Ok(Piece {
            message,
            stream,
            partial,
            timestamp,
            extra: fields,
            problem,
            group: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::testing::{json_lines, run_lines};
    use proptest::prelude::*;

    fn build(toml_text: &str) -> Box<dyn Transform> {
        ParseDockerConfig::parse(toml::from_str(toml_text).unwrap())
            .unwrap()
            .build("parse_docker_test")
    }

    #[test]
    fn golden_lines_and_split_entries() {
        let mut t = build("");
        let out = run_lines(
            t.as_mut(),
            &[
                r#"{"log":"hello \"world\"\r\n","stream":"stdout","time":"2026-11-26T04:00:00.123456789Z"}"#,
                r#"{"log":"first half, ","stream":"stderr","time":"2026-11-26T04:00:01Z"}"#,
                r#"{"log":"other\n","stream":"stdout","time":"2026-11-26T04:00:01.5Z","attrs":{"tag":"web"}}"#,
                r#"{"log":"second half\n","stream":"stderr","time":"2026-11-26T04:00:02Z"}"#,
                r#"{"log":"late\n","stream":"stdout","time":"yesterday"}"#,
                r#"{"stream":"stdout"}"#,
                r#"{"log":"unfinished","stream":"stdout","time":"2026-11-26T04:00:03Z"}"#,
            ],
        );
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"2026-11-26T04:00:00.123Z","message":"hello \"world\"","stream":"stdout","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"2026-11-26T04:00:01.500Z","message":"other","stream":"stdout","attrs":{"tag":"web"},"file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"2026-11-26T04:00:01.000Z","message":"first half, second half","stream":"stderr","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"<read_at>","message":"late","stream":"stdout","_skiff_error":"docker `time` is not an RFC 3339 time","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"<read_at>","message":"{\"stream\":\"stdout\"}","file":"/var/log/app/app.log","_skiff_error":"docker line without a `log` string"}"#,
                r#"{"timestamp":"2026-11-26T04:00:03.000Z","message":"unfinished","stream":"stdout","file":"/var/log/app/app.log"}"#,
            ]
        );
    }

    proptest! {
        /// Splitting a line into docker entries and joining them gives the line back.
        #[test]
        fn split_entries_round_trip(log in "[^\n\r]{0,60}", cut in 0usize..60) {
            let cut = if log.is_char_boundary(cut.min(log.len())) { cut.min(log.len()) } else { 0 };
            let entry = |text: &str| serde_json::json!({"log": text, "stream": "stdout", "time": "2026-11-26T04:00:00Z"}).to_string();
            let lines = [entry(&log[..cut]), entry(&format!("{}\n", &log[cut..]))];
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let mut t = build("");
            let events: Vec<_> = run_lines(t.as_mut(), &refs).into_iter().flat_map(|mut b| b.take_events()).collect();
            prop_assert_eq!(events.len(), 1);
            let expected = log.strip_suffix('\r').unwrap_or(&log);
            prop_assert_eq!(events[0].fields.get("message"), Some(&Value::from(expected)));
        }

        #[test]
        fn never_panics(lines in prop::collection::vec(".{0,48}", 0..6)) {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let _ = run_lines(build("").as_mut(), &refs);
        }
    }
}
