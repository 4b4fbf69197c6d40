//! Throughput of the transforms on ~2,000 generated lines, against a straightforward baseline
//! (a `serde_json::Value` per event, a `String` per field, chrono's generic time parser).
//!
//! Run: `cargo bench --bench transforms` (add `-- --quick` for a fast look).

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{NaiveDateTime, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use skiff::codec::json::JsonEncoder;
use skiff::event::{Batch, LineSpan, Lines, Origin, Payload};
use skiff::time::{Dialect, TimestampParser};
use skiff::transforms::Transform;

const LINES: usize = 2000;
const LEVELS: [&str; 4] = ["INFO", "WARN", "ERROR", "DEBUG"];
const WORDS: [&str; 8] = [
    "request", "handled", "user", "session", "timeout", "retry", "upstream", "database",
];

/// A small deterministic generator, so that every run sees the same lines.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.next() as usize % of.len()]
    }

    fn words(&mut self) -> String {
        let n = 2 + self.next() % 4;
        (0..n)
            .map(|_| self.pick(&WORDS))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One generated record: time, level, message, request id, latency.
struct Record {
    time: String,
    level: &'static str,
    message: String,
    request_id: String,
    latency: u64,
}

fn records() -> Vec<Record> {
    let mut g = Gen(42);
    (0..LINES)
        .map(|i| Record {
            time: format!(
                "2026-11-26T04:{:02}:{:02}.{:03}",
                (i / 60) % 60,
                i % 60,
                i % 1000
            ),
            level: g.pick(&LEVELS),
            message: g.words(),
            request_id: format!("{:016x}", g.next() << 20 | g.next()),
            latency: g.next() % 500,
        })
        .collect()
}

fn text_lines() -> Vec<String> {
    records()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} request_id={} latency_ms={}",
                r.time, r.level, r.message, r.request_id, r.latency
            )
        })
        .collect()
}

fn json_lines() -> Vec<String> {
    records()
        .iter()
        .map(|r| {
            format!(
                r#"{{"timestamp":"{}","level":"{}","message":"{}","request_id":"{}","latency_ms":{}}}"#,
                r.time, r.level, r.message, r.request_id, r.latency
            )
        })
        .collect()
}

fn logfmt_lines() -> Vec<String> {
    records()
        .iter()
        .map(|r| {
            format!(
                r#"time={} level={} msg="{}" request_id={} latency_ms={}"#,
                r.time, r.level, r.message, r.request_id, r.latency
            )
        })
        .collect()
}

fn cri_lines() -> Vec<String> {
    text_lines()
        .into_iter()
        .enumerate()
        .map(|(i, l)| format!("2026-11-26T04:00:{:02}.{:09}Z stdout F {l}", i % 60, i))
        .collect()
}

fn docker_lines() -> Vec<String> {
    text_lines()
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            format!(
                r#"{{"log":"{l}\n","stream":"stdout","time":"2026-11-26T04:00:{:02}.{:09}Z"}}"#,
                i % 60,
                i
            )
        })
        .collect()
}

/// nginx access log lines (combined format).
fn nginx_lines() -> Vec<String> {
    let mut g = Gen(7);
    (0..LINES)
        .map(|i| {
            format!(
                r#"10.0.{}.{} - - [26/Nov/2026:04:{:02}:{:02} +0100] "{} /{}/{} HTTP/1.1" {} {} "-" "Mozilla/5.0 ({})""#,
                g.next() % 256,
                g.next() % 256,
                (i / 60) % 60,
                i % 60,
                g.pick(&["GET", "POST", "PUT"]),
                g.pick(&WORDS),
                g.next() % 1000,
                g.pick(&["200", "404", "500", "304"]),
                g.next() % 100_000,
                g.pick(&WORDS),
            )
        })
        .collect()
}

/// A batch of raw lines, as the file source makes them.
fn batch(lines: &[String]) -> Batch {
    let mut buf = Vec::new();
    let mut spans = Vec::with_capacity(lines.len());
    for l in lines {
        let start = buf.len() as u32;
        buf.extend_from_slice(l.as_bytes());
        spans.push(LineSpan {
            offset: u64::from(start),
            start,
            end: buf.len() as u32,
            truncated: false,
        });
        buf.push(b'\n');
    }
    Batch {
        origin: Some(Arc::new(Origin {
            source: "bench".into(),
            path: Bytes::from_static(b"/var/log/app/app.log"),
            file_id: 1,
        })),
        read_at: Utc::now(),
        payload: Payload::Lines(Lines {
            buf: Bytes::from(buf),
            spans,
        }),
        file_key: Some(Bytes::from_static(b"file")),
        end_of_file: false,
        acks: Vec::new(),
    }
}

fn copy(b: &Batch) -> Batch {
    Batch {
        origin: b.origin.clone(),
        read_at: b.read_at,
        payload: b.payload.clone(),
        file_key: b.file_key.clone(),
        end_of_file: false,
        acks: Vec::new(),
    }
}

fn transform(kind: &str, toml_text: &str) -> Box<dyn Transform> {
    let table: toml::Table = toml::from_str(toml_text).unwrap();
    skiff::transforms::parse(kind, table)
        .unwrap()
        .build("bench")
}

/// Benches `chain` of transforms on `lines`; with `encode`, also writes the output as JSON.
fn bench_chain(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    lines: &[String],
    chain: &mut [Box<dyn Transform>],
    encode: bool,
) {
    let input = batch(lines);
    let mut enc = JsonEncoder::new("timestamp");
    let mut out_buf = Vec::with_capacity(1 << 20);
    g.bench_function(name, |b| {
        b.iter(|| {
            let mut batches = vec![copy(&input)];
            for t in chain.iter_mut() {
                let mut next = Vec::with_capacity(1);
                for batch in batches {
                    t.transform(batch, &mut next);
                }
                batches = next;
            }
            if encode {
                out_buf.clear();
                for batch in &batches {
                    enc.write_batch(&mut out_buf, batch);
                }
                black_box(&out_buf);
            }
            black_box(batches)
        })
    });
}

fn bytes_of(lines: &[String]) -> u64 {
    lines.iter().map(|l| l.len() as u64 + 1).sum()
}

const TS: &str = r#"timestamp = { field = "timestamp", format = "%Y-%m-%dT%H:%M:%S%.3f" }"#;
const REGEX: &str = r"^(?P<timestamp>\S+) (?P<level>\S+) (?P<message>.*)$";

fn parse_json(c: &mut Criterion) {
    let lines = json_lines();
    let mut g = c.benchmark_group("parse_json");
    g.throughput(Throughput::Bytes(bytes_of(&lines)));
    bench_chain(
        &mut g,
        "skiff",
        &lines,
        &mut [transform("parse_json", TS)],
        false,
    );
    g.bench_function("baseline_serde_value", |b| {
        b.iter(|| {
            let events: Vec<(serde_json::Value, Option<NaiveDateTime>)> = lines
                .iter()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    let ts = v["timestamp"].as_str().and_then(|t| {
                        NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.3f").ok()
                    });
                    (v, ts)
                })
                .collect();
            black_box(events)
        })
    });
    g.finish();
}

fn parse_regex(c: &mut Criterion) {
    let lines = text_lines();
    let mut g = c.benchmark_group("parse_regex");
    g.throughput(Throughput::Bytes(bytes_of(&lines)));
    let cfg = format!("pattern = '{REGEX}'\n{TS}");
    bench_chain(
        &mut g,
        "skiff",
        &lines,
        &mut [transform("parse_regex", &cfg)],
        false,
    );
    let mut no_shortcut: Box<dyn Transform> = {
        use skiff::transforms::parse_regex::RegexParser;
        use skiff::transforms::parser::{ParserOptions, ParserTransform};
        let mut table: toml::Table = toml::from_str(TS).unwrap();
        let opts = ParserOptions::take_from(&mut table).unwrap();
        let parser = RegexParser::new(&[REGEX.to_owned()], &Default::default(), false).unwrap();
        Box::new(ParserTransform::new("bench", parser, opts))
    };
    bench_chain(
        &mut g,
        "skiff_without_tail_shortcut",
        &lines,
        std::slice::from_mut(&mut no_shortcut),
        false,
    );
    let re = regex::Regex::new(REGEX).unwrap();
    g.bench_function("baseline_string_fields", |b| {
        b.iter(|| {
            let events: Vec<Vec<(String, String)>> = lines
                .iter()
                .map(|l| {
                    let caps = re.captures(l).unwrap();
                    let fields: Vec<(String, String)> = re
                        .capture_names()
                        .flatten()
                        .filter_map(|n| caps.name(n).map(|m| (n.to_owned(), m.as_str().to_owned())))
                        .collect();
                    black_box(
                        NaiveDateTime::parse_from_str(&fields[0].1, "%Y-%m-%dT%H:%M:%S%.3f").ok(),
                    );
                    fields
                })
                .collect();
            black_box(events)
        })
    });
    g.finish();
}

fn other_parsers(c: &mut Criterion) {
    for (name, kind, cfg, lines) in [
        (
            "parse_logfmt",
            "parse_logfmt",
            "types = { latency_ms = \"int\" }",
            logfmt_lines(),
        ),
        ("parse_cri", "parse_cri", "", cri_lines()),
        ("parse_docker", "parse_docker", "", docker_lines()),
    ] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes_of(&lines)));
        bench_chain(&mut g, "skiff", &lines, &mut [transform(kind, cfg)], false);
        g.finish();
    }
    let lines = text_lines();
    let mut g = c.benchmark_group("multiline");
    g.throughput(Throughput::Bytes(bytes_of(&lines)));
    bench_chain(
        &mut g,
        "skiff",
        &lines,
        &mut [transform("multiline", "start_pattern = '^\\d{4}-'")],
        false,
    );
    g.finish();
}

/// The built-in `nginx` parser against `parse_regex` with the same pattern and time.
fn named_parsers(c: &mut Criterion) {
    let lines = nginx_lines();
    let mut g = c.benchmark_group("parse_named");
    g.throughput(Throughput::Bytes(bytes_of(&lines)));
    bench_chain(
        &mut g,
        "nginx_builtin",
        &lines,
        &mut [transform("parse", "parser = \"nginx\"")],
        false,
    );
    let regex = r#"^(?P<remote>[^ ]*) (?P<host>[^ ]*) (?P<user>[^ ]*) \[(?P<time>[^\]]*)\] "(?P<method>[^\t\n\x0B\x0C\r ]+)(?: +(?P<path>[^"]*?)(?: +[^\t\n\x0B\x0C\r ]*)?)?" (?P<code>[^ ]*) (?P<size>[^ ]*) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)""#;
    let cfg = format!(
        "pattern = '{regex}'\ntimestamp = {{ field = \"time\", format = \"%d/%b/%Y:%H:%M:%S %z\", keep = false }}"
    );
    bench_chain(
        &mut g,
        "parse_regex_same_pattern",
        &lines,
        &mut [transform("parse_regex", &cfg)],
        false,
    );
    g.finish();
}

fn timestamps(c: &mut Criterion) {
    let times: Vec<String> = records().into_iter().map(|r| r.time).collect();
    let mut g = c.benchmark_group("timestamp");
    g.throughput(Throughput::Bytes(
        times.iter().map(|t| t.len() as u64).sum(),
    ));
    let parser = TimestampParser::new(Some("%Y-%m-%dT%H:%M:%S%.3f"), &[], "UTC").unwrap();
    g.bench_function("skiff_fast_path", |b| {
        b.iter(|| times.iter().filter_map(|t| parser.parse_str(t)).count())
    });
    g.bench_function("chrono_parse_from_str", |b| {
        b.iter(|| {
            times
                .iter()
                .filter_map(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.3f").ok())
                .count()
        })
    });
    g.finish();

    // Container runtimes' times, nine fraction digits and Z, read by the stock `docker` and
    // `cri` parsers' formats in the Fluent Bit dialect, and by chrono's `%+`.
    let runtime: Vec<String> = (0..LINES)
        .map(|i| format!("2026-11-26T04:{:02}:{:02}.{:09}Z", (i / 60) % 60, i % 60, i))
        .collect();
    let mut g = c.benchmark_group("timestamp_runtime");
    g.throughput(Throughput::Bytes(
        runtime.iter().map(|t| t.len() as u64).sum(),
    ));
    for (name, format, dialect) in [
        (
            "fluentbit_docker",
            "%Y-%m-%dT%H:%M:%S.%L",
            Dialect::Fluentbit,
        ),
        (
            "fluentbit_cri",
            "%Y-%m-%dT%H:%M:%S.%L%z",
            Dialect::Fluentbit,
        ),
        ("chrono_rfc3339_items", "%+", Dialect::Chrono),
        ("rfc3339", "rfc3339", Dialect::Chrono),
    ] {
        let parser = TimestampParser::build(Some(format), &[], dialect, "UTC").unwrap();
        assert!(parser.parse_str(&runtime[0]).is_some(), "{name}");
        g.bench_function(name, |b| {
            b.iter(|| runtime.iter().filter_map(|t| parser.parse_str(t)).count())
        });
    }
    g.finish();
}

/// Whole transform chains with JSON output, as the seed pipelines run them.
fn pipelines(c: &mut Criterion) {
    let enrich =
        r#"fields = { "kubernetes.pod_name" = "web-7d9f8", "kubernetes.namespace" = "shop" }"#;
    let lines = json_lines();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(bytes_of(&lines)));
    bench_chain(
        &mut g,
        "json_parse_encode",
        &lines,
        &mut [transform("parse_json", TS)],
        true,
    );
    let lines = text_lines();
    g.throughput(Throughput::Bytes(bytes_of(&lines)));
    let cfg = format!("pattern = '{REGEX}'\n{TS}");
    bench_chain(
        &mut g,
        "regex_time_fields_encode",
        &lines,
        &mut [
            transform("parse_regex", &cfg),
            transform("add_fields", enrich),
        ],
        true,
    );
    g.finish();
}

criterion_group!(
    benches,
    parse_json,
    parse_regex,
    other_parsers,
    named_parsers,
    timestamps,
    pipelines
);
criterion_main!(benches);
