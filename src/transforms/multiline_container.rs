//! `multiline` with Fluent Bit's built-in container parsers: `parser = "docker"`,
//! `parser = "cri"`, or `parsers = ["docker", "cri"]` (the official Helm chart's
//! `multiline.parser docker, cri`), which reads each line with the first parser that
//! recognises it, so one config serves nodes running docker and nodes running containerd.
//!
//! The records have Fluent Bit's shape (`src/multiline/flb_ml_parser_{docker,cri}.c`):
//! - docker: the JSON keys as written (`log`, `stream`, `time` kept as text); a `log` that does
//!   not end with a newline is continued by the next line of the same stream, and the joined
//!   `log` keeps the final newline;
//! - cri: `time` (kept as text), `stream`, `_p` (`P` or `F`) and `log`; `P` lines are continued
//!   up to the `F` line of the same stream.
//!
//! The event time is the first piece's `time` (docker `%Y-%m-%dT%H:%M:%S.%L`, trailing text
//! ignored; CRI `%Y-%m-%dT%H:%M:%S.%L%z`). A line neither parser reads follows `on_error`, its
//! text in `log`. Options: `field`, `on_error`, `max_bytes`, as for `parse_cri`
//! ([`super::partial`]), which joins, limits and acknowledges the pieces.

use std::borrow::Cow;

use bytes::Bytes;

use super::json_value;
use super::multiline::MultilineConfig;
use super::on_error::Reason;
use super::partial::{ContainerConfig, JoinTransform, Piece, PieceParser};
use super::{Transform, TransformConfig};
use crate::config::FieldError;
use crate::event::{Fields, Value};
use crate::time::{Dialect, TimestampParser};

/// The container runtimes' line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runtime {
    Docker,
    Cri,
}

impl Runtime {
    fn named(name: &str) -> Option<Runtime> {
        match name {
            "docker" => Some(Runtime::Docker),
            "cri" => Some(Runtime::Cri),
            _ => None,
        }
    }
}

/// Parses a `multiline` table: the container parsers here, anything else by
/// [`MultilineConfig`].
pub fn parse_multiline(mut table: toml::Table) -> Result<Box<dyn TransformConfig>, FieldError> {
    let container = match (table.get("parser"), table.get("parsers")) {
        (Some(toml::Value::String(n)), None) => Runtime::named(n).is_some(),
        (None, Some(_)) => true,
        (Some(_), Some(_)) => {
            return Err(FieldError::new(
                &["parsers"],
                "set either `parser` or `parsers`, not both",
            ))
        }
        _ => false,
    };
    if !container {
        return Ok(Box::new(MultilineConfig::parse(table)?));
    }
    let mut runtimes = Vec::new();
    if let Some(toml::Value::String(n)) = table.remove("parser") {
        runtimes.extend(Runtime::named(&n));
    }
    if let Some(list) = table.remove("parsers") {
        let toml::Value::Array(list) = list else {
            return Err(FieldError::new(
                &["parsers"],
                "expected a list of parser names",
            ));
        };
        for (i, v) in list.iter().enumerate() {
            let runtime = v.as_str().and_then(Runtime::named).ok_or_else(|| {
                FieldError::new(
                    &["parsers", &i.to_string()],
                    "a list holds `docker` and `cri` only; for go, python, java or ruby set `parser` (and, after a container parser, add a second `multiline` transform with `field = \"log\"`)",
                )
            })?;
            if runtimes.contains(&runtime) {
                return Err(FieldError::new(
                    &["parsers", &i.to_string()],
                    "listed twice",
                ));
            }
            runtimes.push(runtime);
        }
        if runtimes.is_empty() {
            return Err(FieldError::new(&["parsers"], "the list is empty"));
        }
    }
    Ok(Box::new(ContainerMultilineConfig {
        config: ContainerConfig::parse(table)?,
        parser: RuntimeParser::new(runtimes),
    }))
}

/// A validated `multiline` transform with container parsers.
#[derive(Debug, Clone)]
pub struct ContainerMultilineConfig {
    config: ContainerConfig,
    parser: RuntimeParser,
}

impl TransformConfig for ContainerMultilineConfig {
    fn kind(&self) -> &'static str {
        "multiline"
    }

    fn build(&self, name: &str) -> Box<dyn Transform> {
        Box::new(
            JoinTransform::new(name, self.parser.clone(), &self.config).with_content_key("log"),
        )
    }
}

/// Reads a line with the first runtime format that fits.
#[derive(Debug, Clone)]
pub struct RuntimeParser {
    runtimes: Vec<Runtime>,
    docker_time: TimestampParser,
    cri_time: TimestampParser,
}

impl RuntimeParser {
    fn new(runtimes: Vec<Runtime>) -> RuntimeParser {
        // Constant formats: they compile.
        let time = |f: &str| {
            TimestampParser::build(Some(f), &[], Dialect::Fluentbit, "UTC")
                .unwrap_or_else(|e| unreachable!("{}", e.message))
        };
        RuntimeParser {
            runtimes,
            docker_time: time("%Y-%m-%dT%H:%M:%S.%L"),
            cri_time: time("%Y-%m-%dT%H:%M:%S.%L%z"),
        }
    }

    fn docker(&self, input: &Bytes) -> Option<Piece> {
        let Ok(Value::Object(mut fields)) = json_value::parse(input) else {
            return None;
        };
        let Some(Value::Str(log)) = fields.remove("log") else {
            return None;
        };
        let Some(Value::Str(stream)) = fields.remove("stream") else {
            return None;
        };
        let (timestamp, problem) = self.time(&self.docker_time, fields.get("time"), "docker");
        Some(Piece {
            partial: !log.ends_with(b"\n"),
            message: log,
            stream,
            timestamp,
            extra: fields,
            problem,
            group: 0,
        })
    }

    /// `<time> <stdout|stderr> <F|P> <log>`, the time being the shortest text before such a
    /// tail.
    fn cri(&self, input: &Bytes) -> Option<Piece> {
        let b = input.as_ref();
        let at = memchr::memchr_iter(b' ', b).find(|&i| {
            i > 0
                && (b[i + 1..].starts_with(b"stdout ") || b[i + 1..].starts_with(b"stderr "))
                && matches!(b.get(i + 8), Some(b'F' | b'P'))
                && b.get(i + 9) == Some(&b' ')
        })?;
        let time = Value::Str(input.slice(..at));
        let (timestamp, problem) = self.time(&self.cri_time, Some(&time), "CRI");
        let mut extra = Fields::with_capacity(2);
        extra.push_unchecked(Bytes::from_static(b"time"), time);
        extra.push_unchecked(
            Bytes::from_static(b"_p"),
            Value::Str(input.slice(at + 8..at + 9)),
        );
        Some(Piece {
            message: input.slice(at + 10..),
            stream: input.slice(at + 1..at + 7),
            partial: b[at + 8] == b'P',
            timestamp,
            extra,
            problem,
            group: 1,
        })
    }

    fn time(
        &self,
        format: &TimestampParser,
        raw: Option<&Value>,
        what: &'static str,
    ) -> (Option<chrono::DateTime<chrono::Utc>>, Option<Reason>) {
        match raw.and_then(Value::as_str) {
            None => (None, None),
            Some(s) => match format.parse_str(s) {
                Some(t) => (Some(t), None),
                None => (
                    None,
                    Some(Cow::Owned(format!("{what} `time` did not parse"))),
                ),
            },
        }
    }
}

impl PieceParser for RuntimeParser {
    fn parse(&mut self, input: &Bytes) -> Result<Piece, Reason> {
        for r in &self.runtimes {
            let piece = match r {
                Runtime::Docker => self.docker(input),
                Runtime::Cri => self.cri(input),
            };
            if let Some(p) = piece {
                return Ok(p);
            }
        }
        Err(Cow::Borrowed(match self.runtimes.as_slice() {
            [Runtime::Docker] => "not a docker JSON line",
            [Runtime::Cri] => "not a CRI line",
            _ => "neither a docker JSON line nor a CRI line",
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::testing::{json_lines, run_lines};

    fn build(toml_text: &str) -> Result<Box<dyn Transform>, FieldError> {
        Ok(parse_multiline(toml::from_str(toml_text).unwrap())?.build("ml_test"))
    }

    #[test]
    fn docker_then_cri_per_line() {
        let mut t = build(r#"parsers = ["docker", "cri"]"#).unwrap();
        let out = run_lines(
            t.as_mut(),
            &[
                r#"{"log":"one, ","stream":"stdout","time":"2021-02-01T01:40:03.53412Z"}"#,
                "2019-05-07T18:57:50.904275087+00:00 stderr P 1b. some ",
                r#"{"log":"two\n","stream":"stdout","time":"2021-02-01T01:40:03.53415Z"}"#,
                "2019-05-07T18:57:52.904275089+00:00 stderr F log",
                "plain",
            ],
        );
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"2021-02-01T01:40:03.534Z","log":"one, two\n","stream":"stdout","time":"2021-02-01T01:40:03.53412Z","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"2019-05-07T18:57:50.904Z","log":"1b. some log","stream":"stderr","time":"2019-05-07T18:57:50.904275087+00:00","_p":"P","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"<read_at>","log":"plain","file":"/var/log/app/app.log","_skiff_error":"neither a docker JSON line nor a CRI line"}"#,
            ]
        );
    }

    #[test]
    fn config_routes_and_errors() {
        assert!(build(r#"parser = "cri""#).is_ok());
        assert!(build(r#"parser = "java""#).is_ok());
        let e = build(r#"parsers = ["docker", "java"]"#).err().unwrap();
        assert_eq!(e.path, ["parsers", "1"]);
        let e = build(r#"parsers = ["cri", "cri"]"#).err().unwrap();
        assert_eq!(e.path, ["parsers", "1"]);
        let e = build(
            r#"parser = "cri"
timeout = "1s""#,
        )
        .err()
        .unwrap();
        assert_eq!(e.path, ["timeout"]);
        let e = build(r#"parser = "cobol""#).err().unwrap();
        assert_eq!(e.path, ["parser"]);
        let e = build(
            r#"parser = "java"
start_pattern = "x""#,
        )
        .err()
        .unwrap();
        assert_eq!(e.path, ["start_pattern"]);
    }
}
