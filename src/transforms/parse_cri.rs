//! `parse_cri`: lines written by a CRI runtime (containerd, CRI-O) under `/var/log/pods`:
//! `<RFC 3339 time> <stdout|stderr> <P|F> <log>`.
//!
//! Output: `message` (the log, a slice of the line), `stream`, and the event time from the line;
//! the `P`/`F` tag is not kept: `P` pieces are joined with what follows up to the `F` piece
//! ([`super::partial`]). Tags may carry more `:`-separated flags after `P`/`F`; they are ignored.

use std::borrow::Cow;

use bytes::Bytes;
use chrono::DateTime;

use super::on_error::Reason;
use super::partial::{ContainerConfig, JoinTransform, Piece, PieceParser};
use super::{Transform, TransformConfig};
use crate::config::FieldError;
use crate::event::Fields;

/// A validated `parse_cri` transform.
#[derive(Debug, Clone)]
pub struct ParseCriConfig {
    config: ContainerConfig,
}

impl ParseCriConfig {
    /// Parses and checks the table.
    pub fn parse(table: toml::Table) -> Result<ParseCriConfig, FieldError> {
        Ok(ParseCriConfig {
            config: ContainerConfig::parse(table)?,
        })
    }
}

impl TransformConfig for ParseCriConfig {
    fn kind(&self) -> &'static str {
        "parse_cri"
    }

    fn build(&self, name: &str) -> Box<dyn Transform> {
        Box::new(JoinTransform::new(name, CriParser, &self.config))
    }
}

/// The CRI line reader.
#[derive(Debug, Clone, Copy, Default)]
pub struct CriParser;

impl PieceParser for CriParser {
    #[inline]
    fn parse(&mut self, input: &Bytes) -> Result<Piece, Reason> {
        let b = input.as_ref();
        let bad = |what: &'static str| Err(Cow::Borrowed(what));
        let Some(sp) = memchr::memchr(b' ', b) else {
            return bad("not a CRI line: no space after the time");
        };
        let time = std::str::from_utf8(&b[..sp])
            .ok()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        let Some(time) = time else {
            return bad("not a CRI line: invalid time");
        };
        let rest = &b[sp + 1..];
        let stream: &'static [u8] = if rest.starts_with(b"stdout ") {
            b"stdout"
        } else if rest.starts_with(b"stderr ") {
            b"stderr"
        } else {
            return bad("not a CRI line: stream is not stdout or stderr");
        };
        let tags_at = sp + 1 + 7;
        let tags_end = memchr::memchr(b' ', &b[tags_at..]).map_or(b.len(), |i| tags_at + i);
        let tag = b[tags_at..tags_end]
            .split(|&c| c == b':')
            .next()
            .unwrap_or_default();
        let partial = match tag {
            b"P" => true,
            b"F" => false,
            _ => return bad("not a CRI line: tag is not P or F"),
        };
        let message = if tags_end < b.len() {
            input.slice(tags_end + 1..)
        } else {
            Bytes::new()
        };
        Ok(Piece {
            message,
            stream: Bytes::from_static(stream),
            partial,
            timestamp: Some(time.to_utc()),
            extra: Fields::default(),
            problem: None,
            group: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acks::{AckResult, AckSink, AckToken};
    use crate::transforms::testing::{json_lines, lines_batch_at};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn build(toml_text: &str) -> Box<dyn Transform> {
        ParseCriConfig::parse(toml::from_str(toml_text).unwrap())
            .unwrap()
            .build("parse_cri_test")
    }

    #[test]
    fn golden_lines_and_partials() {
        let mut t = build("");
        let mut out = Vec::new();
        t.transform(
            lines_batch_at(
                1,
                0,
                &[
                    "2026-11-26T04:00:00.123456789Z stdout F hello world",
                    "2026-11-26T04:00:01.000000000Z stdout P part one, ",
                    "2026-11-26T04:00:01.100000000+01:00 stderr F error line",
                    "2026-11-26T04:00:01.200000000Z stdout P part two, ",
                    "garbage",
                ],
            ),
            &mut out,
        );
        t.transform(
            lines_batch_at(
                1,
                300,
                &[
                    "2026-11-26T04:00:01.300000000Z stdout F end",
                    "2026-11-26T04:00:02Z stdout F ",
                ],
            ),
            &mut out,
        );
        t.finish(&mut out);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"2026-11-26T04:00:00.123Z","message":"hello world","stream":"stdout","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"2026-11-26T03:00:01.100Z","message":"error line","stream":"stderr","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"<read_at>","message":"garbage","file":"/var/log/app/app.log","_skiff_error":"not a CRI line: no space after the time"}"#,
                r#"{"timestamp":"2026-11-26T04:00:01.000Z","message":"part one, part two, end","stream":"stdout","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"2026-11-26T04:00:02.000Z","message":"","stream":"stdout","file":"/var/log/app/app.log"}"#,
            ]
        );
        let Some(crate::event::Payload::Events(evs)) = out.get(1).map(|b| &b.payload) else {
            panic!("no second batch")
        };
        assert_eq!(
            evs[0].offset, 52,
            "the joined event has the first piece's offset"
        );
    }

    #[test]
    fn max_bytes_cuts_and_marks() {
        let mut t = build("max_bytes = 8");
        let out = crate::transforms::testing::run_lines(
            t.as_mut(),
            &[
                "2026-11-26T04:00:00Z stdout P 12345",
                "2026-11-26T04:00:00Z stdout P 6789",
                "2026-11-26T04:00:00Z stdout F abc",
            ],
        );
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"2026-11-26T04:00:00.000Z","message":"12345678","stream":"stdout","file":"/var/log/app/app.log","_skiff_truncated":true}"#
            ]
        );
    }

    #[test]
    fn end_of_file_flushes_and_acks_stay_exact() {
        let (tx, rx) = std::sync::mpsc::channel::<AckResult>();
        let tx = std::sync::Mutex::new(tx);
        let sink: AckSink = Arc::new(move |r| {
            let _ = tx.lock().unwrap().send(r);
        });
        let mut t = build("");
        let mut out = Vec::new();
        let mut b1 = lines_batch_at(
            4,
            0,
            &[
                "2026-11-26T04:00:00Z stdout F a",
                "2026-11-26T04:00:00Z stdout P b",
            ],
        );
        b1.acks.push(AckToken::new(&sink, 4, 0, 64));
        t.transform(b1, &mut out);
        let first = out.remove(0);
        assert_eq!(first.len(), 1, "the partial is held");
        first.confirm();
        assert!(
            rx.try_recv().is_err(),
            "the batch with the held piece is not acknowledged yet"
        );
        let mut b2 = lines_batch_at(4, 64, &[]);
        b2.end_of_file = true;
        b2.acks.push(AckToken::new(&sink, 4, 1, 64));
        t.transform(b2, &mut out);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"2026-11-26T04:00:00.000Z","message":"b","stream":"stdout","file":"/var/log/app/app.log"}"#
            ]
        );
        assert_eq!(out[0].acks.len(), 2, "its own token and the held share");
        out.remove(0).confirm();
        let mut seqs: Vec<_> = rx.try_iter().map(|r| (r.seq, r.delivered)).collect();
        seqs.sort();
        assert_eq!(seqs, [(0, true), (1, true)]);
    }

    fn cri_line(time_ms: i64, stream: &str, partial: bool, log: &str) -> String {
        let t = DateTime::from_timestamp_millis(time_ms).unwrap();
        format!(
            "{} {stream} {} {log}",
            t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            if partial { "P" } else { "F" }
        )
    }

    proptest! {
        /// Splitting a line into CRI pieces and joining them gives the line back.
        #[test]
        fn split_lines_round_trip(log in "[^\n]{0,60}", cuts in prop::collection::vec(0usize..60, 0..4)) {
            let mut points: Vec<usize> = cuts.into_iter().filter(|c| *c < log.len() && log.is_char_boundary(*c)).collect();
            points.sort();
            points.dedup();
            let mut pieces = Vec::new();
            let mut last = 0;
            for p in points {
                pieces.push(cri_line(1000, "stdout", true, &log[last..p]));
                last = p;
            }
            pieces.push(cri_line(1000, "stdout", false, &log[last..]));
            let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
            let mut t = build("");
            let out = crate::transforms::testing::run_lines(t.as_mut(), &refs);
            let events: Vec<_> = out.into_iter().flat_map(|mut b| b.take_events()).collect();
            prop_assert_eq!(events.len(), 1);
            prop_assert_eq!(events[0].fields.get("message"), Some(&crate::event::Value::from(log.as_str())));
        }

        #[test]
        fn never_panics(lines in prop::collection::vec(".{0,48}", 0..6)) {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let mut t = build("on_error = \"drop\"");
            let _ = crate::transforms::testing::run_lines(t.as_mut(), &refs);
        }
    }
}
