//! Criterion bench of the JSON encoder: raw lines and structured events to JSON lines.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use skiff::codec::json::JsonEncoder;
use skiff::event::{Batch, Event, LineSpan, Lines, Origin, Payload, Value};

fn lines_batch() -> Batch {
    let mut buf = Vec::new();
    let mut spans = Vec::new();
    for i in 0..2000u64 {
        let start = buf.len();
        buf.extend_from_slice(format!("2026-11-26T04:00:00.{:03} INFO request handled user \"session\" request_id={:016x} latency_ms={}", i % 1000, i * 7919, i % 500).as_bytes());
        spans.push(LineSpan {
            offset: start as u64,
            start: start as u32,
            end: buf.len() as u32,
            truncated: false,
        });
        buf.push(b'\n');
    }
    let mut b = Batch::from_events(Vec::new());
    b.payload = Payload::Lines(Lines {
        buf: Bytes::from(buf),
        spans,
    });
    b.file_key = Some(Bytes::from_static(b"file"));
    b.origin = Some(Arc::new(Origin {
        source: "s".into(),
        path: Bytes::from_static(b"/var/log/app/app.log"),
        file_id: 1,
    }));
    b
}

fn events_batch() -> Batch {
    let events = (0..2000i64)
        .map(|i| {
            let mut e = Event::from_message(
                Bytes::from_static(b"request handled user session"),
                i as u64 * 120,
            );
            e.fields
                .insert(Bytes::from_static(b"level"), Value::from_static("INFO"));
            e.fields.insert(
                Bytes::from_static(b"request_id"),
                Value::from(format!("{:016x}", i * 7919)),
            );
            e.fields
                .insert(Bytes::from_static(b"latency_ms"), Value::Int(i % 500));
            e.timestamp = Some(Utc::now());
            e
        })
        .collect();
    Batch::from_events(events)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("json_encoder");
    g.sample_size(20);
    for (name, batch) in [("lines", lines_batch()), ("events", events_batch())] {
        let mut out = Vec::new();
        let mut enc = JsonEncoder::new("timestamp");
        enc.write_batch(&mut out, &batch);
        g.throughput(Throughput::Bytes(out.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                enc.write_batch(&mut out, &batch);
                out.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
