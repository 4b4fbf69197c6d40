//! Helpers for the transforms' unit tests: batches of raw lines as the file source makes them,
//! and output rendered exactly as the console sink writes it.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::Transform;
use crate::codec::json::JsonEncoder;
use crate::event::{Batch, LineSpan, Lines, Origin, Payload};

/// The read time of test batches, rendered as `<read_at>` by [`json_lines`].
pub fn read_at() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).unwrap()
}

/// A batch of raw lines from `/var/log/app/app.log` (file 1), starting at `offset`.
pub fn lines_batch_at(file_id: u64, offset: u64, lines: &[&str]) -> Batch {
    let mut buf = Vec::new();
    let mut spans = Vec::new();
    let mut off = offset;
    for l in lines {
        let start = buf.len() as u32;
        buf.extend_from_slice(l.as_bytes());
        spans.push(LineSpan {
            offset: off,
            start,
            end: buf.len() as u32,
            truncated: false,
        });
        buf.push(b'\n');
        off += l.len() as u64 + 1;
    }
    Batch {
        origin: Some(Arc::new(Origin {
            source: "app".into(),
            path: Bytes::from_static(b"/var/log/app/app.log"),
            file_id,
        })),
        read_at: read_at(),
        payload: Payload::Lines(Lines {
            buf: Bytes::from(buf),
            spans,
        }),
        file_key: Some(Bytes::from_static(b"file")),
        end_of_file: false,
        acks: Vec::new(),
    }
}

/// Runs `lines` through `t` as one batch, then finishes it.
pub fn run_lines(t: &mut dyn Transform, lines: &[&str]) -> Vec<Batch> {
    let mut out = Vec::new();
    t.transform(lines_batch_at(1, 0, lines), &mut out);
    t.finish(&mut out);
    out
}

/// Every event of `batches` as the console sink writes it, the read time shown as `<read_at>`.
pub fn json_lines(batches: &[Batch]) -> Vec<String> {
    let mut enc = JsonEncoder::new("timestamp");
    let mut out = Vec::new();
    for b in batches {
        let mut buf = Vec::new();
        enc.write_batch(&mut buf, b);
        let text = String::from_utf8(buf).unwrap();
        out.extend(
            text.lines()
                .map(|l| l.replace("\"2000-01-01T00:00:00.000Z\"", "\"<read_at>\"")),
        );
    }
    out
}

/// A batch of structured events with the test read time and no origin.
pub fn events_batch(events: Vec<crate::event::Event>) -> Batch {
    let mut b = Batch::from_events(events);
    b.read_at = read_at();
    b
}
