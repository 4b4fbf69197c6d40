//! The bulk encoder: documents written as NDJSON straight into a request body.
//!
//! Each document is two lines, an action and a source:
//!
//! ```text
//! {"create":{"_index":"app-logs-2026.11.26","_id":"9f86d081884c7d65-1a2b"}}
//! {"@timestamp":"2026-11-26T04:00:00.123Z","message":"GET /health 200","file":"/var/log/app/a.log"}
//! ```
//!
//! Raw lines ([`Payload::Lines`]) are encoded from the read buffer, without becoming events first;
//! events are written field by field ([`crate::codec::json`]). No `_type` (removed from
//! Elasticsearch 8). The index name is rendered per document from a per-period cache
//! ([`super::template`]), and the start of the action line (`{"create":{"_index":"..."`) is kept
//! from one document to the next while the index does not change, so the common case is a few
//! copies per document.

use crate::codec::json::{write_str, JsonEncoder};
use crate::event::{Batch, Event, Payload};

use super::config::Action;
use super::id::{self, IdStrategy};
use super::request::BulkBuilder;
use super::template::{FieldSource, IndexRenderer, IndexTemplate};

/// What the encoder needs from the config.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeSettings {
    /// `create` or `index`.
    pub action: Action,
    /// The index (or data stream) name.
    pub template: IndexTemplate,
    /// How ids are chosen.
    pub ids: IdStrategy,
    /// Key of the timestamp in sources.
    pub timestamp_key: String,
}

/// Writes documents into bulk bodies. One per sink; it keeps caches between documents.
pub struct BulkEncoder {
    action: Action,
    ids: IdStrategy,
    json: JsonEncoder,
    index: IndexRenderer,
    /// `{"<action>":{"_index":"<index>"` for the index in `prefix_index`.
    prefix: Vec<u8>,
    prefix_index: Vec<u8>,
    prefix_valid: bool,
    scratch: Vec<u8>,
    missing_fields: u64,
}

impl BulkEncoder {
    /// An encoder for `settings`.
    pub fn new(settings: &EncodeSettings) -> BulkEncoder {
        BulkEncoder {
            action: settings.action,
            ids: settings.ids.clone(),
            json: JsonEncoder::new(&settings.timestamp_key),
            index: IndexRenderer::new(settings.template.clone()),
            prefix: Vec::with_capacity(64),
            prefix_index: Vec::with_capacity(64),
            prefix_valid: false,
            scratch: Vec::with_capacity(64),
            missing_fields: 0,
        }
    }

    /// Appends document `i` of `batch` (incoming batch number `seq`) to `out`. Returns false when
    /// it did not fit: `out` is full and the document must go first in the next body.
    pub fn encode(&mut self, out: &mut BulkBuilder, batch: &Batch, i: usize, seq: u64) -> bool {
        let start = out.body.len();
        let source = match &batch.payload {
            Payload::Lines(lines) => {
                let span = &lines.spans[i];
                let fields = FieldSource::Line {
                    message: lines.line(span),
                    file_key: batch.file_key.as_deref(),
                    path: batch.origin.as_ref().map(|o| o.path.as_ref()),
                };
                let body = &mut out.body;
                self.action_start(body, batch.read_at, fields);
                if self.ids.deterministic {
                    if let Some(origin) = &batch.origin {
                        body.extend_from_slice(b",\"_id\":\"");
                        id::write_deterministic(body, origin.file_id, span.offset, 0);
                        body.push(b'"');
                    }
                }
                body.extend_from_slice(b"}}\n");
                let source = body.len();
                self.json.write_line(body, batch, lines, span);
                body.push(b'\n');
                source
            }
            Payload::Events(events) => {
                let ev = &events[i];
                let ts = ev.timestamp.unwrap_or(batch.read_at);
                let body = &mut out.body;
                self.action_start(body, ts, FieldSource::Event(&ev.fields));
                self.write_event_id(body, batch, events, i);
                body.extend_from_slice(b"}}\n");
                let source = body.len();
                self.json.write_event(body, ev, batch.read_at);
                body.push(b'\n');
                source
            }
            // Invariant: this sink offers no `BatchEncoder`, so the topology never encodes
            // batches ahead of it.
            Payload::Encoded(_) => unreachable!("encoded batch sent to the elasticsearch sink"),
        };
        out.commit(start, source, seq)
    }

    /// Template field references not found since the last call (rendered as nothing).
    pub fn take_missing_fields(&mut self) -> u64 {
        std::mem::take(&mut self.missing_fields)
    }

    /// Writes `{"create":{"_index":"<name>"`.
    fn action_start(
        &mut self,
        body: &mut Vec<u8>,
        ts: chrono::DateTime<chrono::Utc>,
        fields: FieldSource<'_>,
    ) {
        let index = self.index.render(ts, fields);
        if !self.prefix_valid || self.prefix_index != index {
            self.prefix.clear();
            self.prefix.extend_from_slice(b"{\"");
            self.prefix
                .extend_from_slice(self.action.as_str().as_bytes());
            self.prefix.extend_from_slice(b"\":{\"_index\":");
            write_str(&mut self.prefix, index);
            self.prefix_index.clear();
            self.prefix_index.extend_from_slice(index);
            self.prefix_valid = true;
        }
        self.missing_fields += u64::from(self.index.missing_fields());
        body.extend_from_slice(&self.prefix);
    }

    /// Writes `,"_id":"..."` for event `i`, when it gets an id.
    fn write_event_id(&mut self, body: &mut Vec<u8>, batch: &Batch, events: &[Event], i: usize) {
        let ev = &events[i];
        if let Some(path) = &self.ids.field {
            self.scratch.clear();
            if id::write_field(&mut self.scratch, &ev.fields, path) {
                body.extend_from_slice(b",\"_id\":");
                write_str(body, &self.scratch);
                return;
            }
        }
        if !self.ids.deterministic {
            return;
        }
        let Some(origin) = &batch.origin else { return };
        let repeat = events[..i]
            .iter()
            .rev()
            .take_while(|e| e.offset == ev.offset)
            .count();
        body.extend_from_slice(b",\"_id\":\"");
        id::write_deterministic(
            body,
            origin.file_id,
            ev.offset,
            u32::try_from(repeat).unwrap_or(u32::MAX),
        );
        body.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FieldPath, LineSpan, Lines, Origin, Value};
    use bytes::Bytes;
    use chrono::{DateTime, Utc};
    use std::sync::Arc;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn settings(action: Action, deterministic: bool, field: Option<&str>) -> EncodeSettings {
        EncodeSettings {
            action,
            template: IndexTemplate::parse("app-logs-%Y.%m.%d").unwrap(),
            ids: IdStrategy {
                field: field.map(|f| FieldPath::parse(f).unwrap()),
                deterministic,
            },
            timestamp_key: "@timestamp".into(),
        }
    }

    fn lines_batch() -> Batch {
        let buf = Bytes::from_static(b"first \"quoted\"\nsecond\n");
        let mut b = Batch::from_events(vec![]);
        b.payload = Payload::Lines(Lines {
            buf,
            spans: vec![
                LineSpan {
                    offset: 0x100,
                    start: 0,
                    end: 14,
                    truncated: false,
                },
                LineSpan {
                    offset: 0x10f,
                    start: 15,
                    end: 21,
                    truncated: true,
                },
            ],
        });
        b.read_at = at("2026-11-26T04:00:00.123Z");
        b.file_key = Some(Bytes::from_static(b"file"));
        b.origin = Some(Arc::new(Origin {
            source: "app".into(),
            path: Bytes::from_static(b"/var/log/app/a.log"),
            file_id: 0xabc,
        }));
        b
    }

    fn encode_all(enc: &mut BulkEncoder, batch: &Batch) -> String {
        let mut out = BulkBuilder::new(Vec::new(), 100, 1 << 20);
        for i in 0..batch.len() {
            assert!(enc.encode(&mut out, batch, i, 0));
        }
        String::from_utf8(out.body).unwrap()
    }

    #[test]
    fn raw_lines_exact_output() {
        let mut enc = BulkEncoder::new(&settings(Action::Create, true, None));
        let got = encode_all(&mut enc, &lines_batch());
        let want = concat!(
            r#"{"create":{"_index":"app-logs-2026.11.26","_id":"0000000000000abc-100"}}"#,
            "\n",
            r#"{"@timestamp":"2026-11-26T04:00:00.123Z","message":"first \"quoted\"","file":"/var/log/app/a.log"}"#,
            "\n",
            r#"{"create":{"_index":"app-logs-2026.11.26","_id":"0000000000000abc-10f"}}"#,
            "\n",
            r#"{"@timestamp":"2026-11-26T04:00:00.123Z","message":"second","file":"/var/log/app/a.log","_skiff_truncated":true}"#,
            "\n",
        );
        assert_eq!(got, want);
        for line in got.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }

    #[test]
    fn events_exact_output_with_index_action_and_no_id() {
        let mut ev = Event::from_message(Bytes::from_static(b"hi"), 5);
        ev.timestamp = Some(at("2026-01-02T03:04:05.678Z"));
        ev.fields
            .insert(Bytes::from_static(b"level"), Value::from("info"));
        let mut batch = Batch::from_events(vec![ev]);
        batch.origin = lines_batch().origin;
        let mut enc = BulkEncoder::new(&settings(Action::Index, false, None));
        assert_eq!(
            encode_all(&mut enc, &batch),
            concat!(
                r#"{"index":{"_index":"app-logs-2026.01.02"}}"#,
                "\n",
                r#"{"@timestamp":"2026-01-02T03:04:05.678Z","message":"hi","level":"info"}"#,
                "\n"
            )
        );
    }

    #[test]
    fn events_from_one_line_get_distinct_ids() {
        let evs = vec![
            Event::from_message(Bytes::from_static(b"a"), 7),
            Event::from_message(Bytes::from_static(b"b"), 7),
            Event::from_message(Bytes::from_static(b"c"), 9),
        ];
        let mut batch = Batch::from_events(evs);
        batch.origin = lines_batch().origin;
        let mut enc = BulkEncoder::new(&settings(Action::Create, true, None));
        let out = encode_all(&mut enc, &batch);
        let ids: Vec<String> = out
            .lines()
            .step_by(2)
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["create"]["_id"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(
            ids,
            [
                "0000000000000abc-7",
                "0000000000000abc-7.1",
                "0000000000000abc-9"
            ]
        );
    }

    #[test]
    fn id_field_wins_and_falls_back() {
        let mut with = Event::from_message(Bytes::from_static(b"a"), 1);
        with.fields
            .insert(Bytes::from_static(b"request_id"), Value::from("r\"1"));
        let without = Event::from_message(Bytes::from_static(b"b"), 2);
        let mut batch = Batch::from_events(vec![with, without]);
        batch.origin = lines_batch().origin;
        let mut enc = BulkEncoder::new(&settings(Action::Create, true, Some("request_id")));
        let out = encode_all(&mut enc, &batch);
        let actions: Vec<&str> = out.lines().step_by(2).collect();
        assert!(actions[0].ends_with(r#","_id":"r\"1"}}"#), "{}", actions[0]);
        assert!(
            actions[1].ends_with(r#","_id":"0000000000000abc-2"}}"#),
            "{}",
            actions[1]
        );
    }

    #[test]
    fn no_origin_means_no_deterministic_id() {
        let batch = Batch::from_events(vec![Event::from_message(Bytes::from_static(b"a"), 1)]);
        let mut enc = BulkEncoder::new(&settings(Action::Create, true, None));
        let out = encode_all(&mut enc, &batch);
        assert!(!out.contains("_id"), "{out}");
        assert!(!out.contains("_type"), "{out}");
    }

    #[test]
    fn index_follows_each_event_time() {
        let mut a = Event::from_message(Bytes::from_static(b"a"), 1);
        a.timestamp = Some(at("2026-03-01T00:00:00Z"));
        let b = Event::from_message(Bytes::from_static(b"b"), 2);
        let mut batch = Batch::from_events(vec![a, b]);
        batch.read_at = at("2026-04-01T12:00:00Z");
        let mut enc = BulkEncoder::new(&settings(Action::Create, false, None));
        let out = encode_all(&mut enc, &batch);
        assert!(out.contains("app-logs-2026.03.01"));
        assert!(out.contains("app-logs-2026.04.01"));
    }
}
