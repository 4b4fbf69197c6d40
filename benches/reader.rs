//! Criterion bench of the line reader: bytes of log file → batches of line spans.

use std::io::Cursor;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use skiff::sources::file::reader::{LineReader, ReadOutcome};

fn corpus() -> Vec<u8> {
    let mut data = Vec::with_capacity(64 << 20);
    let mut i: u64 = 0;
    while data.len() < 32 << 20 {
        data.extend_from_slice(
            format!("2026-11-26T04:00:00.{:03} INFO request handled user session request_id={:016x} latency_ms={}\n", i % 1000, i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i % 500).as_bytes(),
        );
        i += 1;
    }
    data
}

fn bench(c: &mut Criterion) {
    let data = corpus();
    let mut g = c.benchmark_group("line_reader");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    g.bench_function("split_256KiB_reads", |b| {
        b.iter(|| {
            let mut r = LineReader::new(0, 256 * 1024, 256 * 1024);
            let mut cursor = Cursor::new(&data[..]);
            let mut lines = 0usize;
            while let Ok(ReadOutcome::Data(batch)) = r.read_from(&mut cursor) {
                lines += batch.lines.len();
            }
            lines
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
