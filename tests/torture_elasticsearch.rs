//! Torture: Elasticsearch misbehaving in every way the test server can, at once, while lines are
//! written and the log rotated: documents refused with 429, requests answered 503 and 429,
//! connections dropped after the request was read, slow answers, and an outage. Every line must
//! be in the index exactly once (deterministic ids, `create` actions).
//!
//! During an outage, the events skiff holds (read, not yet acknowledged: the gauge
//! `skiff_source_unacked_events`) must stay bounded however much the file holds: the data waits
//! in the file. The pipeline runs in the test process there, so the gauge is read directly.
//!
//! Short mode: 4 s of writing at 10,000 lines/s with a 2 s outage; `SKIFF_TORTURE=long`: 20 s
//! with a 10 s outage.

mod support;

use std::time::{Duration, Instant};

use skiff::metrics::{component, metrics};
use support::compare::assert_exactly_once;
use support::es::indexed_messages;
use support::es_server::{EsServer, EsServerOptions, Faults};
use support::inproc::InProc;
use support::skiff::Skiff;
use support::torture::{pick, seed};
use support::wait::{wait_until, wait_until_settled};
use support::workspace::Workspace;
use support::writers::{append, checked_lines, Reopen, Rotator, Writer};

const T: Duration = Duration::from_secs(120);

#[test]
fn every_fault_at_once_indexes_every_line_once() {
    let seed = seed(41);
    let (secs, outage) = pick((4, 2), (20, 10));
    let server = EsServer::start(EsServerOptions {
        seed,
        faults: Faults {
            item_429_prob: 0.1,
            status_503_prob: 0.1,
            status_429_prob: 0.05,
            drop_prob: 0.05,
            delay: Duration::from_millis(10),
            ..Default::default()
        },
        ..Default::default()
    });
    let ws = Workspace::new();
    let config = ws.config(&format!(
        r#"
data_dir = "{{dir}}/data"
shutdown_timeout = "60s"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{{dir}}/logs/app.log*"]
glob_interval = "100ms"
[sinks.es]
type = "elasticsearch"
inputs = ["app"]
endpoints = ["{}"]
request_timeout = "2s"
batch = {{ max_events = 500, timeout = "50ms" }}
retry = {{ initial_backoff = "10ms", max_backoff = "500ms" }}
"#,
        server.url()
    ));
    let mut skiff = Skiff::start(&config, &[]);
    skiff.wait_for_log("Source started.", T);
    let live = ws.log("app.log");
    std::fs::write(&live, b"").unwrap();
    let writer = Writer::start(live.clone(), 10_000, 100, Reopen::WhenInodeChanges);
    let rotator = Rotator::start(live.clone(), 300, 900, seed);
    std::thread::sleep(Duration::from_secs(secs) / 2);
    server.outage(Duration::from_secs(outage));
    let down = Instant::now();
    std::thread::sleep(Duration::from_secs(secs) / 2);
    let rotations = rotator.stop();
    let written = writer.stop();
    let arrived = wait_until(T, || server.total_docs() as u64 >= written);
    assert!(
        arrived,
        "seed {seed}: {} of {written} lines indexed\n{}",
        server.total_docs(),
        skiff.stderr()
    );
    assert!(down.elapsed() >= Duration::from_secs(outage));
    let exit = skiff.terminate(T);
    let stderr = exit.stderr;
    assert_eq!(exit.code, 0, "{stderr}");

    let expected = checked_lines(0..written);
    assert_exactly_once(
        &indexed_messages(&server),
        &expected,
        &format!("seed {seed}"),
    );
    assert_eq!(
        server.duplicates(),
        0,
        "seed {seed}: an id was written twice"
    );
    // The faults did happen.
    let requests = server.bulk_requests();
    let status = |s: Option<u16>| requests.iter().filter(|r| r.status == s).count();
    let (s503, s429, dropped) = (status(Some(503)), status(Some(429)), status(None));
    assert!(
        s503 > 0 && s429 > 0 && dropped > 0,
        "503: {s503}, 429: {s429}, dropped: {dropped}"
    );
    assert!(
        stderr.contains("Cannot reach Elasticsearch endpoint"),
        "{stderr}"
    );
    eprintln!(
        "every fault: {written} lines, {rotations} rotations, {}s outage, {} bulk requests ({s503} answered 503, {s429} answered 429, {dropped} dropped), {} documents sent; each line indexed once",
        outage,
        requests.len(),
        server.bulk_items_received()
    );
}

#[test]
fn events_in_flight_stay_bounded_during_an_outage() {
    let server = EsServer::start(EsServerOptions::default());
    let ws = Workspace::new();
    // 200,000 lines of 100 bytes: 20 MB waiting in the file.
    let lines: Vec<String> = (0..200_000).map(|i| format!("{i:099}")).collect();
    append(&ws.log("big.log"), &lines);
    let (max_events, max_in_flight, read_buffer) = (500, 2, 64 * 1024);
    let toml = format!(
        r#"
data_dir = "{d}/data"
shutdown_timeout = "30s"
[api]
enabled = false
[sources.flight]
type = "file"
include = ["{d}/logs/*.log"]
read_buffer = "{read_buffer}"
[sinks.es]
type = "elasticsearch"
inputs = ["flight"]
endpoints = ["{url}"]
max_in_flight = {max_in_flight}
healthcheck = false
batch = {{ max_events = {max_events}, timeout = "50ms" }}
retry = {{ initial_backoff = "10ms", max_backoff = "200ms" }}
"#,
        d = ws.dir().display(),
        url = server.url()
    );
    server.outage(Duration::from_secs(600));
    let run = InProc::start_as_configured(&toml);
    let labels = component("flight");
    let gauge = || metrics().events_unacked.get_or_create(&labels).get();
    // Wait until the source is held back: the gauge stops moving.
    let mut peak = 0;
    wait_until_settled(Duration::from_secs(10), Duration::from_millis(100), || {
        let now = gauge();
        peak = peak.max(now);
        now
    });
    // Still held after a while longer (retries keep failing).
    std::thread::sleep(Duration::from_secs(1));
    peak = peak.max(gauge());
    let read = metrics().bytes_read.get_or_create(&labels).get();
    // What may be held: the channel's batches (one per read of 64 KiB, ~650 lines), the bodies
    // the sink fills and has in flight, and a batch each body boundary cuts.
    let per_batch = read_buffer / 100 + 1;
    let bound =
        (skiff::topology::CHANNEL_BATCHES + 2) * per_batch + (max_in_flight + 1) * max_events;
    eprintln!(
        "outage: {peak} events held at most (bound {bound}), {} KiB read of {} KiB",
        read >> 10,
        (lines.len() * 100) >> 10
    );
    assert!(peak > 0, "the source read nothing");
    assert!(peak as usize <= bound, "{peak} events held, bound {bound}");
    assert!(read < 4 << 20, "the source kept reading: {read} bytes");

    server.end_outage();
    assert!(
        wait_until(T, || server.total_docs() >= lines.len()),
        "{} of {} indexed after the outage",
        server.total_docs(),
        lines.len()
    );
    let (result, _) = run.stop();
    assert!(result.is_ok(), "{result:?}");
    assert_exactly_once(&indexed_messages(&server), &lines, "");
}
