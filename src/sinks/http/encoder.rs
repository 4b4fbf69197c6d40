//! Events written into request bodies, in one of four encodings: NDJSON, a JSON array, text
//! lines (the message), or Loki's JSON push body.
//!
//! A body goes to one URI. The URI template is rendered for each event (cached per period when
//! it has only dates, as index names are); an event whose URI differs from the body's closes the
//! body and goes first in the next one. A body remembers where each event's encoding lies in it
//! (for dead letters) and how many events of each incoming batch it holds (for
//! acknowledgements).
//!
//! Loki: consecutive events with the same labels share one stream entry:
//!
//! ```text
//! {"streams":[{"stream":{"app":"api"},"values":[["1796097600123000000","{\"message\":\"GET /\"}"]]}]}
//! ```

use bytes::Bytes;

use super::config::{Encoding, LokiLine};
use super::settings::Settings;
use crate::codec::json::{to_text, write_str, JsonEncoder};
use crate::event::{Batch, Payload, Value};
use crate::sinks::elasticsearch::template::{FieldSource, IndexRenderer};

/// A body being filled.
#[derive(Debug)]
pub struct BodyBuilder {
    bytes: Vec<u8>,
    items: Vec<(usize, usize)>,
    batches: Vec<(u64, u64)>,
    uri: Vec<u8>,
    /// The labels object of the open Loki stream.
    stream: Vec<u8>,
    /// The next event goes to another URI.
    closed: bool,
    max_events: usize,
    max_bytes: usize,
}

impl BodyBuilder {
    /// An empty body with these limits.
    pub fn new(max_events: usize, max_bytes: usize) -> BodyBuilder {
        BodyBuilder {
            bytes: Vec::new(),
            items: Vec::new(),
            batches: Vec::new(),
            uri: Vec::new(),
            stream: Vec::new(),
            closed: false,
            max_events,
            max_bytes,
        }
    }

    /// True when no event can be added: `max_events` or `max_bytes` reached (a body may pass
    /// `max_bytes` by its last event), or the next event goes elsewhere.
    pub fn is_full(&self) -> bool {
        self.closed || self.items.len() >= self.max_events || self.bytes.len() >= self.max_bytes
    }

    /// True when the body holds no event.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn count(&mut self, seq: u64) {
        match self.batches.last_mut() {
            Some((s, n)) if *s == seq => *n += 1,
            _ => self.batches.push((seq, 1)),
        }
    }
}

/// A finished body, ready to send.
#[derive(Debug, Clone)]
pub struct Body {
    /// The bytes.
    pub bytes: Bytes,
    /// Where each event lies in `bytes`.
    pub items: Vec<(usize, usize)>,
    /// Events per incoming batch, in order.
    pub batches: Vec<(u64, u64)>,
    /// The rendered URI.
    pub uri: String,
    /// Items are text (not JSON values).
    pub text_items: bool,
}

impl Body {
    /// Number of events.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there is no event.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Event `i`'s encoding.
    pub fn item(&self, i: usize) -> &[u8] {
        let (a, b) = self.items[i];
        &self.bytes[a..b]
    }
}

/// Writes events into bodies; one per sink, with its caches.
pub struct HttpEncoder {
    encoding: Encoding,
    line: LokiLine,
    json: JsonEncoder,
    uri: IndexRenderer,
    labels: Vec<(Vec<u8>, IndexRenderer)>,
    scratch: Vec<u8>,
    missing: u64,
}

/// One event, whatever the payload.
enum One<'a> {
    Line(&'a crate::event::Lines, &'a crate::event::LineSpan),
    Event(&'a crate::event::Event),
}

impl HttpEncoder {
    /// An encoder for `settings`.
    pub fn new(settings: &Settings, encoding: Encoding, line: LokiLine, ts_key: &str) -> Self {
        HttpEncoder {
            encoding,
            line,
            json: JsonEncoder::new(ts_key),
            uri: IndexRenderer::new(settings.uri.clone()),
            labels: settings
                .labels
                .iter()
                .map(|(name, t)| {
                    let mut key = Vec::new();
                    write_str(&mut key, name.as_bytes());
                    (key, IndexRenderer::new(t.clone()))
                })
                .collect(),
            scratch: Vec::new(),
            missing: 0,
        }
    }

    /// Template field references not found since the last call (rendered as nothing).
    pub fn take_missing_fields(&mut self) -> u64 {
        std::mem::take(&mut self.missing)
    }

    /// Appends event `i` of `batch` (incoming batch `seq`) to `b`. False when it goes to another
    /// URI than the body's: the body is closed and the event goes first in the next one.
    pub fn encode(&mut self, b: &mut BodyBuilder, batch: &Batch, i: usize, seq: u64) -> bool {
        let (one, ts, fields) = match &batch.payload {
            Payload::Lines(lines) => {
                let span = &lines.spans[i];
                let fields = FieldSource::Line {
                    message: lines.line(span),
                    file_key: batch.file_key.as_deref(),
                    path: batch.origin.as_ref().map(|o| o.path.as_ref()),
                };
                (One::Line(lines, span), batch.read_at, fields)
            }
            Payload::Events(events) => {
                let ev = &events[i];
                let ts = ev.timestamp.unwrap_or(batch.read_at);
                (One::Event(ev), ts, FieldSource::Event(&ev.fields))
            }
            // Invariant: this sink offers no `BatchEncoder`, so the topology never encodes
            // batches ahead of it.
            Payload::Encoded(_) => unreachable!("encoded batch sent to the http sink"),
        };
        let uri = self.uri.render(ts, fields);
        if b.items.is_empty() {
            b.uri.clear();
            b.uri.extend_from_slice(uri);
        } else if b.uri != uri {
            b.closed = true;
            return false;
        }
        self.missing += u64::from(self.uri.missing_fields());
        let out = &mut b.bytes;
        let start = match self.encoding {
            Encoding::Ndjson => {
                let start = out.len();
                self.write_json(out, batch, &one);
                start
            }
            Encoding::JsonArray => {
                out.push(if b.items.is_empty() { b'[' } else { b',' });
                let start = out.len();
                self.write_json(out, batch, &one);
                start
            }
            Encoding::Text => {
                let start = out.len();
                write_text(&mut self.json, out, batch, &one);
                start
            }
            Encoding::Loki => {
                self.scratch.clear();
                self.scratch.push(b'{');
                for (n, (key, r)) in self.labels.iter_mut().enumerate() {
                    if n > 0 {
                        self.scratch.push(b',');
                    }
                    self.scratch.extend_from_slice(key);
                    self.scratch.push(b':');
                    let value = r.render(ts, fields);
                    write_str(&mut self.scratch, value);
                    self.missing += u64::from(r.missing_fields());
                }
                self.scratch.push(b'}');
                if b.items.is_empty() {
                    out.extend_from_slice(b"{\"streams\":[{\"stream\":");
                    out.extend_from_slice(&self.scratch);
                    out.extend_from_slice(b",\"values\":[");
                    b.stream.clone_from(&self.scratch);
                } else if b.stream != self.scratch {
                    out.extend_from_slice(b"]},{\"stream\":");
                    out.extend_from_slice(&self.scratch);
                    out.extend_from_slice(b",\"values\":[");
                    b.stream.clone_from(&self.scratch);
                } else {
                    out.push(b',');
                }
                let start = out.len();
                out.extend_from_slice(b"[\"");
                let nanos = ts.timestamp_nanos_opt().unwrap_or(0);
                out.extend_from_slice(itoa::Buffer::new().format(nanos).as_bytes());
                out.extend_from_slice(b"\",");
                let mut line = std::mem::take(&mut self.scratch);
                line.clear();
                match self.line {
                    LokiLine::Json => self.write_json(&mut line, batch, &one),
                    LokiLine::Text => write_text(&mut self.json, &mut line, batch, &one),
                }
                write_str(out, &line);
                self.scratch = line;
                out.push(b']');
                start
            }
        };
        let end = out.len();
        if matches!(self.encoding, Encoding::Ndjson | Encoding::Text) {
            out.push(b'\n');
        }
        b.items.push((start, end));
        b.count(seq);
        true
    }

    fn write_json(&mut self, out: &mut Vec<u8>, batch: &Batch, one: &One<'_>) {
        match one {
            One::Line(lines, span) => self.json.write_line(out, batch, lines, span),
            One::Event(ev) => self.json.write_event(out, ev, batch.read_at),
        }
    }

    /// The finished body (closing brackets written); `b` is left empty for the next one.
    pub fn finish(&self, b: &mut BodyBuilder) -> Body {
        match self.encoding {
            Encoding::JsonArray => b.bytes.push(b']'),
            Encoding::Loki => b.bytes.extend_from_slice(b"]}]}"),
            Encoding::Ndjson | Encoding::Text => {}
        }
        let body = Body {
            bytes: Bytes::from(std::mem::take(&mut b.bytes)),
            items: std::mem::take(&mut b.items),
            batches: std::mem::take(&mut b.batches),
            uri: String::from_utf8_lossy(&b.uri).into_owned(),
            text_items: self.encoding == Encoding::Text,
        };
        b.closed = false;
        b.stream.clear();
        body
    }
}

/// The message of an event or line; an event without one as a JSON object (nothing is lost).
fn write_text(json: &mut JsonEncoder, out: &mut Vec<u8>, batch: &Batch, one: &One<'_>) {
    match one {
        One::Line(lines, span) => out.extend_from_slice(lines.line(span)),
        One::Event(ev) => match ev.fields.get("message") {
            Some(Value::Str(s)) => out.extend_from_slice(s),
            Some(other) => out.extend_from_slice(to_text(other).as_bytes()),
            None => json.write_event(out, ev, batch.read_at),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use chrono::{DateTime, Utc};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn encoder(extra: &str) -> HttpEncoder {
        let c: super::super::HttpConfig = toml::from_str(extra).unwrap();
        let s = super::super::settings::compile(&c).unwrap();
        let line = c.loki.as_ref().map(|l| l.line).unwrap_or_default();
        HttpEncoder::new(&s, c.encoding, line, &c.timestamp_key)
    }

    fn batch(events: &[(&str, &str)]) -> Batch {
        let evs = events
            .iter()
            .enumerate()
            .map(|(i, (msg, app))| {
                let mut e = Event::from_message(Bytes::copy_from_slice(msg.as_bytes()), i as u64);
                e.timestamp = Some(at("2026-12-01T04:00:00.123Z"));
                e.fields.insert(
                    Bytes::from_static(b"app"),
                    Value::from_string((*app).into()),
                );
                e
            })
            .collect();
        Batch::from_events(evs)
    }

    /// Encodes all of `b` into bodies, as the run loop does.
    fn bodies(enc: &mut HttpEncoder, b: &Batch, max_events: usize) -> Vec<Body> {
        let mut out = Vec::new();
        let mut builder = BodyBuilder::new(max_events, 1 << 20);
        let mut i = 0;
        while i < b.len() {
            if builder.is_full() || !enc.encode(&mut builder, b, i, 7) {
                out.push(enc.finish(&mut builder));
                continue;
            }
            i += 1;
        }
        out.push(enc.finish(&mut builder));
        out
    }

    fn text(b: &Body) -> &str {
        std::str::from_utf8(&b.bytes).unwrap()
    }

    #[test]
    fn ndjson_and_items() {
        let mut enc = encoder("uri = \"http://x/\"");
        let got = bodies(&mut enc, &batch(&[("a", "x"), ("b\"", "y")]), 10);
        assert_eq!(got.len(), 1);
        assert_eq!(
            text(&got[0]),
            concat!(
                r#"{"timestamp":"2026-12-01T04:00:00.123Z","message":"a","app":"x"}"#,
                "\n",
                r#"{"timestamp":"2026-12-01T04:00:00.123Z","message":"b\"","app":"y"}"#,
                "\n"
            )
        );
        assert_eq!(
            got[0].item(1),
            br#"{"timestamp":"2026-12-01T04:00:00.123Z","message":"b\"","app":"y"}"#
        );
        assert_eq!(got[0].batches, [(7, 2)]);
    }

    #[test]
    fn json_array_and_text() {
        let mut enc =
            encoder("uri = \"http://x/\"\nencoding = \"json_array\"\ntimestamp_key = \"ts\"");
        let got = bodies(&mut enc, &batch(&[("a", "x"), ("b", "y")]), 10);
        let v: serde_json::Value = serde_json::from_slice(&got[0].bytes).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert_eq!(v[1]["message"], "b");
        assert_eq!(v[0]["ts"], "2026-12-01T04:00:00.123Z");
        let mut enc = encoder("uri = \"http://x/\"\nencoding = \"text\"");
        let got = bodies(&mut enc, &batch(&[("a", "x"), ("b", "y")]), 1);
        assert_eq!(got.len(), 2);
        assert_eq!(text(&got[0]), "a\n");
        assert_eq!(got[1].item(0), b"b");
    }

    #[test]
    fn uri_templates_split_bodies() {
        let mut enc = encoder("uri = \"http://x/{{ app }}/%Y-%m-%d\"");
        let got = bodies(&mut enc, &batch(&[("a", "x"), ("b", "x"), ("c", "y")]), 10);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].uri, "http://x/x/2026-12-01");
        assert_eq!(got[0].len(), 2);
        assert_eq!(got[1].uri, "http://x/y/2026-12-01");
    }

    #[test]
    fn loki_groups_streams_with_nanoseconds() {
        let mut enc = encoder(
            "uri = \"http://loki/loki/api/v1/push\"\nencoding = \"loki\"\n\
             loki = { labels = { app = \"{{ app }}\", job = \"skiff\" }, line = \"text\" }",
        );
        let got = bodies(&mut enc, &batch(&[("a", "x"), ("b", "x"), ("c", "y")]), 10);
        let v: serde_json::Value = serde_json::from_slice(&got[0].bytes).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"streams": [
                {"stream": {"app": "x", "job": "skiff"},
                 "values": [["1796097600123000000", "a"], ["1796097600123000000", "b"]]},
                {"stream": {"app": "y", "job": "skiff"},
                 "values": [["1796097600123000000", "c"]]}
            ]})
        );
        assert_eq!(got[0].item(2), br#"["1796097600123000000","c"]"#);
    }
}
