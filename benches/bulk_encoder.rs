//! The bulk encoder's throughput: raw lines and structured events written as bulk NDJSON, with
//! and without gzip. Throughput is counted in bytes of log lines in (what the file source read).
//!
//! `cargo bench --bench bulk_encoder`

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use skiff::event::{Batch, Event, LineSpan, Lines, Origin, Payload, Value};
use skiff::sinks::common::compress::gzip;
use skiff::sinks::elasticsearch::config::Action;
use skiff::sinks::elasticsearch::id::IdStrategy;
use skiff::sinks::elasticsearch::template::IndexTemplate;
use skiff::sinks::elasticsearch::{BulkBuilder, BulkEncoder, EncodeSettings};

/// About 256 KiB of typical JSON application log lines, as one read of the file source.
fn lines_batch() -> (Batch, usize) {
    let mut buf = Vec::with_capacity(300 << 10);
    let mut spans = Vec::new();
    let mut i = 0u32;
    while buf.len() < 256 << 10 {
        let start = buf.len();
        let line = format!(
            r#"{{"timestamp":"2026-11-26T04:00:{:02}.{:03}","level":"info","logger":"http.access","message":"GET /api/v1/orders/{} 200 in {}ms","user_agent":"Mozilla/5.0 (X11; Linux x86_64)","trace_id":"{:032x}"}}"#,
            i % 60,
            i % 1000,
            i * 7,
            i % 250,
            u128::from(i) * 0x9e37_79b9
        );
        buf.extend_from_slice(line.as_bytes());
        spans.push(LineSpan {
            offset: 1_000_000 + start as u64,
            start: start as u32,
            end: buf.len() as u32,
            truncated: false,
        });
        buf.push(b'\n');
        i += 1;
    }
    let bytes = buf.len();
    let mut batch = Batch::from_events(Vec::new());
    batch.payload = Payload::Lines(Lines {
        buf: Bytes::from(buf),
        spans,
    });
    batch.file_key = Some(Bytes::from_static(b"file"));
    batch.origin = Some(Arc::new(Origin {
        source: "app".into(),
        path: Bytes::from_static(b"/var/log/app/application.log"),
        file_id: 0x9f86_d081_884c_7d65,
    }));
    (batch, bytes)
}

/// The same lines as `parse_json` would hand them to the sink: one field per JSON key, the
/// timestamp parsed, strings sharing the line buffer.
fn events_batch(lines: &Batch) -> Batch {
    let Payload::Lines(l) = &lines.payload else {
        unreachable!("built as lines")
    };
    let base: DateTime<Utc> = "2026-11-26T04:00:00.000Z".parse().unwrap();
    let events = l
        .spans
        .iter()
        .enumerate()
        .map(|(i, span)| {
            let line = l.line_bytes(span);
            let text = std::str::from_utf8(&line).unwrap();
            let doc: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(text).unwrap();
            let mut e = Event {
                fields: Default::default(),
                timestamp: Some(base + chrono::Duration::milliseconds(i as i64)),
                offset: span.offset,
            };
            for (k, v) in doc {
                if k == "timestamp" {
                    continue;
                }
                let v = v.as_str().unwrap();
                // A slice of the line, as the parser keeps it.
                let at = text.find(v).unwrap();
                e.fields
                    .push_unchecked(Bytes::from(k), Value::Str(line.slice(at..at + v.len())));
            }
            e
        })
        .collect();
    let mut b = Batch::from_events(events);
    b.origin = lines.origin.clone();
    b
}

fn settings() -> EncodeSettings {
    EncodeSettings {
        action: Action::Create,
        template: IndexTemplate::parse("app-logs-%Y.%m.%d").unwrap(),
        ids: IdStrategy {
            field: None,
            deterministic: true,
        },
        timestamp_key: "@timestamp".into(),
    }
}

fn encode(enc: &mut BulkEncoder, buf: Vec<u8>, batch: &Batch) -> Vec<u8> {
    let mut out = BulkBuilder::new(buf, usize::MAX, usize::MAX);
    for i in 0..batch.len() {
        enc.encode(&mut out, batch, i, 0);
    }
    out.body
}

fn bench(c: &mut Criterion) {
    let (lines, bytes) = lines_batch();
    let events = events_batch(&lines);
    let mut group = c.benchmark_group("bulk_encoder");
    group.throughput(Throughput::Bytes(bytes as u64));
    for (name, batch) in [("lines", &lines), ("events", &events)] {
        let mut enc = BulkEncoder::new(&settings());
        let mut buf = Vec::new();
        group.bench_function(name, |b| {
            b.iter(|| {
                buf = encode(&mut enc, std::mem::take(&mut buf), black_box(batch));
                black_box(buf.len());
            })
        });
        let mut enc = BulkEncoder::new(&settings());
        let mut buf = Vec::new();
        group.bench_function(format!("{name}_gzip"), |b| {
            b.iter(|| {
                buf = encode(&mut enc, std::mem::take(&mut buf), black_box(batch));
                black_box(gzip(&buf).unwrap().len());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
