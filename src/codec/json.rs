//! Fast JSON output: events and raw lines written straight into a byte buffer.
//!
//! No intermediate `serde_json::Value`: fields are written as they are found, strings escaped
//! with a lookup table that lets long runs of plain bytes through in one copy. Timestamps are
//! written in RFC 3339 with millisecond precision and a `Z` suffix, what Elasticsearch's
//! `date` type and most log tooling expect.

use std::io::Write as _;

use bytes::Bytes;
use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

use crate::event::{Batch, Event, Fields, LineSpan, Lines, Payload, Value, TRUNCATED_KEY};

/// `ESCAPE[b]` is 0 for bytes written as they are, else the escape kind.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// True when one of the eight bytes of `w` must be escaped: a control byte (below 0x20), `"` or
/// `\`. Exact as a yes/no answer (the classic "has a byte less than / equal to" bit tricks may
/// mark a wrong lane only above a lane that really matches), and bytes from 0x80 up (UTF-8
/// sequences) never match.
#[inline(always)]
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(ONES * 0x20);
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let b = w ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b;
    (control | quote | backslash) & !w & HIGH != 0
}

/// Writes the escape sequence of byte `b` (one that [`ESCAPE`] marks).
#[cold]
fn write_escape(out: &mut Vec<u8>, b: u8) {
    let esc = ESCAPE[b as usize];
    if esc == b'u' {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(b >> 4) as usize],
            HEX[(b & 0xf) as usize],
        ]);
    } else {
        out.extend_from_slice(&[b'\\', esc]);
    }
}

/// Walks `s[at..at + len]` byte by byte, writing the plain run before each byte to escape (from
/// `*start`) and its escape sequence.
#[inline]
fn escape_walk(out: &mut Vec<u8>, s: &[u8], at: usize, len: usize, start: &mut usize) {
    for (i, &b) in s[at..at + len].iter().enumerate() {
        if ESCAPE[b as usize] != 0 {
            out.extend_from_slice(&s[*start..at + i]);
            write_escape(out, b);
            *start = at + i + 1;
        }
    }
}

/// True when the bytes after `s`'s last full word may need escaping: tested as one word made of
/// `s`'s last bytes (overlapping bytes already tested, which only ever adds a byte walk).
#[inline(always)]
fn tail_needs_escape(s: &[u8]) -> bool {
    let n = s.len();
    let word = if n >= 8 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[n - 8..]);
        u64::from_le_bytes(w)
    } else if n >= 4 {
        let (mut lo, mut hi) = ([0u8; 4], [0u8; 4]);
        lo.copy_from_slice(&s[..4]);
        hi.copy_from_slice(&s[n - 4..]);
        u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << 32
    } else {
        return s.iter().any(|&b| ESCAPE[b as usize] != 0);
    };
    word_needs_escape(word)
}

/// Writes `s` (valid UTF-8) as a quoted, escaped JSON string.
///
/// Log text rarely needs escaping, so the scan tests eight bytes at a time and copies runs of
/// plain bytes in one piece; only a word holding a byte to escape is walked byte by byte.
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    let mut words = s.chunks_exact(8);
    for chunk in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        if word_needs_escape(u64::from_le_bytes(w)) {
            escape_walk(out, s, i, chunk.len(), &mut start);
        }
        i += 8;
    }
    let rest = words.remainder().len();
    if rest > 0 && tail_needs_escape(s) {
        escape_walk(out, s, i, rest, &mut start);
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// Writes a timestamp as a JSON string in RFC 3339 (UTC, milliseconds), without allocating.
pub fn write_timestamp(out: &mut Vec<u8>, ts: &DateTime<Utc>) {
    // The fields of the naive UTC time: those of a `DateTime` each go through an offset
    // addition, which costs about 300 instructions a line when the optimiser does not inline it.
    let t = ts.naive_utc();
    let year = t.year();
    if !(0..=9999).contains(&year) {
        // Outside what four digits hold: let chrono write the extended form.
        let _ = write!(
            out,
            "\"{}\"",
            ts.to_rfc3339_opts(SecondsFormat::Millis, true)
        );
        return;
    }
    let ms = (t.nanosecond() / 1_000_000).min(999);
    let mut b = *b"\"0000-00-00T00:00:00.000Z\"";
    let put = |b: &mut [u8; 26], at: usize, v: u32, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(&mut b, 1, year as u32, 4);
    put(&mut b, 6, t.month(), 2);
    put(&mut b, 9, t.day(), 2);
    put(&mut b, 12, t.hour(), 2);
    put(&mut b, 15, t.minute(), 2);
    put(&mut b, 18, t.second(), 2);
    put(&mut b, 21, ms, 3);
    out.extend_from_slice(&b);
}

/// Renders a value as text: strings as they are, the rest as JSON.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::Str(_) => v.as_str().unwrap_or_default().to_owned(),
        other => {
            let mut out = Vec::new();
            write_value(&mut out, other);
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

/// Writes any value as JSON.
pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(n) => {
            let mut buf = itoa::Buffer::new();
            out.extend_from_slice(buf.format(*n).as_bytes());
        }
        Value::Float(f) if f.is_finite() => {
            let mut buf = ryu::Buffer::new();
            out.extend_from_slice(buf.format_finite(*f).as_bytes());
        }
        // JSON has no NaN or infinity.
        Value::Float(_) => out.extend_from_slice(b"null"),
        Value::Str(s) => write_str(out, s),
        Value::Timestamp(ts) => write_timestamp(out, ts),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(fields) => write_object(out, fields, None),
    }
}

/// Writes an object; `extra` is written first when given (a key already escaped, and a
/// pre-rendered JSON value), unless the object has a field of that name.
fn write_object(out: &mut Vec<u8>, fields: &Fields, extra: Option<(&[u8], &[u8])>) {
    out.push(b'{');
    let mut first = true;
    if let Some((key, raw)) = extra {
        let key_str = std::str::from_utf8(key).unwrap_or_default();
        if fields.get(key_str).is_none() {
            write_str(out, key);
            out.push(b':');
            out.extend_from_slice(raw);
            first = false;
        }
    }
    for (k, v) in fields.iter() {
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(out, k);
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
}

/// Writes events and lines as JSON objects, one per line, with the event's timestamp under a
/// configurable key. Caches the rendering of the batch's read time, shared by every event that
/// has no timestamp of its own.
pub struct JsonEncoder {
    timestamp_key: Bytes,
    cached: Option<(DateTime<Utc>, Vec<u8>)>,
}

impl JsonEncoder {
    /// An encoder that writes the timestamp under `timestamp_key`.
    pub fn new(timestamp_key: &str) -> JsonEncoder {
        JsonEncoder {
            timestamp_key: Bytes::copy_from_slice(timestamp_key.as_bytes()),
            cached: None,
        }
    }

    fn refresh(&mut self, ts: DateTime<Utc>) {
        match &mut self.cached {
            Some((t, _)) if *t == ts => {}
            Some((t, buf)) => {
                // Reuse the buffer: events with their own times change it on every event.
                buf.clear();
                write_timestamp(buf, &ts);
                *t = ts;
            }
            None => {
                let mut buf = Vec::with_capacity(32);
                write_timestamp(&mut buf, &ts);
                self.cached = Some((ts, buf));
            }
        }
    }

    fn time(&self) -> &[u8] {
        self.cached.as_ref().map_or(b"null", |(_, b)| b.as_slice())
    }

    /// Writes one event as a JSON object (no newline).
    pub fn write_event(&mut self, out: &mut Vec<u8>, event: &Event, read_at: DateTime<Utc>) {
        self.refresh(event.timestamp.unwrap_or(read_at));
        write_object(out, &event.fields, Some((&self.timestamp_key, self.time())));
    }

    /// Writes one raw line as a JSON object (no newline): timestamp, message, file path.
    /// As for events, a field named like the timestamp key (`message`, the file key) wins: the
    /// timestamp is then left out rather than written twice.
    pub fn write_line(&mut self, out: &mut Vec<u8>, batch: &Batch, lines: &Lines, span: &LineSpan) {
        out.push(b'{');
        let shadowed = self.timestamp_key.as_ref() == b"message"
            || batch.file_key.as_ref() == Some(&self.timestamp_key);
        if !shadowed {
            self.refresh(batch.read_at);
            write_str(out, &self.timestamp_key);
            out.push(b':');
            out.extend_from_slice(self.time());
            out.push(b',');
        }
        out.extend_from_slice(b"\"message\":");
        write_str(out, lines.line(span));
        if let (Some(key), Some(origin)) = (&batch.file_key, &batch.origin) {
            out.push(b',');
            write_str(out, key);
            out.push(b':');
            write_str(out, &origin.path);
        }
        if span.truncated {
            out.push(b',');
            write_str(out, TRUNCATED_KEY.as_bytes());
            out.extend_from_slice(b":true");
        }
        out.push(b'}');
    }

    /// Writes every event or line of `batch`, one JSON object per line.
    pub fn write_batch(&mut self, out: &mut Vec<u8>, batch: &Batch) {
        match &batch.payload {
            Payload::Lines(lines) => {
                out.reserve(lines.buf.len() + lines.len() * 64);
                for span in &lines.spans {
                    self.write_line(out, batch, lines, span);
                    out.push(b'\n');
                }
            }
            Payload::Events(events) => {
                for ev in events {
                    self.write_event(out, ev, batch.read_at);
                    out.push(b'\n');
                }
            }
            // Already encoded (by this encoder, ahead of its sink).
            Payload::Encoded(e) => out.extend_from_slice(&e.bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn any_text_escapes_like_serde_json(text in "(\\PC|[\\x00-\\x1f\"\\\\\\x7f])*") {
            let mut ours = Vec::new();
            write_str(&mut ours, text.as_bytes());
            proptest::prop_assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&text).unwrap()
            );
        }
    }

    #[test]
    fn escape_found_in_every_lane_of_a_word() {
        for lane in 0..8 {
            for special in [b'"', b'\\', b'\n', 0x00, 0x1f] {
                let mut w = *b"abcdefgh";
                w[lane] = special;
                assert!(word_needs_escape(u64::from_le_bytes(w)), "{lane} {special}");
            }
            let mut w = *b"abcdefgh";
            w[lane] = 0xc3;
            assert!(!word_needs_escape(u64::from_le_bytes(w)));
            w[lane] = b' ';
            assert!(!word_needs_escape(u64::from_le_bytes(w)));
        }
    }

    #[test]
    fn escapes_like_serde_json() {
        for text in [
            "plain",
            "quote\" back\\slash",
            "ctl\u{1}\n\t\r\u{8}\u{c}",
            "ünïcødé ✓",
            "",
        ] {
            let ours = s(&Value::from(text));
            assert_eq!(ours, serde_json::to_string(text).unwrap());
        }
    }

    #[test]
    fn writes_nested_values() {
        let mut inner = Fields::default();
        inner.insert(Bytes::from_static(b"a"), Value::Int(-5));
        inner.insert(Bytes::from_static(b"b"), Value::Float(1.5));
        let v = Value::Array(vec![
            Value::Null,
            Value::Bool(true),
            Value::Object(inner),
            Value::Float(f64::NAN),
        ]);
        assert_eq!(s(&v), r#"[null,true,{"a":-5,"b":1.5},null]"#);
    }

    #[test]
    fn timestamps_match_chrono() {
        for t in [
            "2026-11-26T04:00:00.123Z",
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59.999999Z",
        ] {
            let ts = DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
            let mut out = Vec::new();
            write_timestamp(&mut out, &ts);
            assert_eq!(
                out,
                format!("\"{}\"", ts.to_rfc3339_opts(SecondsFormat::Millis, true)).into_bytes()
            );
        }
    }

    #[test]
    fn event_timestamp_wins_over_read_time() {
        let mut enc = JsonEncoder::new("timestamp");
        let read_at = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut ev = Event::from_message(Bytes::from_static(b"hi"), 0);
        let mut out = Vec::new();
        enc.write_event(&mut out, &ev, read_at);
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"timestamp":"2026-01-01T00:00:00.000Z","message":"hi"}"#
        );
        ev.timestamp = Some(read_at + chrono::Duration::milliseconds(1500));
        out.clear();
        enc.write_event(&mut out, &ev, read_at);
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"timestamp":"2026-01-01T00:00:01.500Z","message":"hi"}"#
        );
    }

    #[test]
    fn raw_lines_never_repeat_a_key() {
        let mut b = Batch::from_events(Vec::new());
        b.payload = Payload::Lines(Lines {
            buf: Bytes::from_static(b"hello"),
            spans: vec![LineSpan {
                offset: 0,
                start: 0,
                end: 5,
                truncated: false,
            }],
        });
        for key in ["message", "timestamp"] {
            let mut enc = JsonEncoder::new(key);
            let mut out = Vec::new();
            enc.write_batch(&mut out, &b);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["message"], "hello", "{key}");
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text.matches("\"message\"").count(), 1, "{text}");
        }
    }

    #[test]
    fn a_field_named_like_the_timestamp_key_wins() {
        let mut enc = JsonEncoder::new("timestamp");
        let mut ev = Event::from_message(Bytes::from_static(b"hi"), 0);
        ev.fields
            .insert(Bytes::from_static(b"timestamp"), Value::from("raw"));
        let mut out = Vec::new();
        enc.write_event(&mut out, &ev, Utc::now());
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"message":"hi","timestamp":"raw"}"#
        );
    }
}
