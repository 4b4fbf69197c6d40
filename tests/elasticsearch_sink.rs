//! The `elasticsearch` sink driven in-process, batch by batch, against the test server: what
//! needs events with their own timestamps and fields (no parser is involved), and a precise view
//! of acknowledgements (order, delivered or not at shutdown).

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use skiff::acks::{AckResult, AckSink, AckToken};
use skiff::event::{Batch, Event, Origin, Value};
use skiff::sinks::{SinkContext, SinkError};
use support::es_server::{EsServer, EsServerOptions, Faults};
use support::workspace::Workspace;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct Harness {
    input: Option<mpsc::Sender<Batch>>,
    abort: CancellationToken,
    task: JoinHandle<Result<(), SinkError>>,
    acks: Arc<Mutex<Vec<AckResult>>>,
    ack_sink: AckSink,
    origin: Arc<Origin>,
    next_seq: u64,
    ws: Workspace,
}

impl Harness {
    fn start(url: &str, extra: &str) -> Harness {
        let table: toml::Table =
            toml::from_str(&format!("endpoints = [{url:?}]\n{extra}")).unwrap();
        let config = skiff::sinks::parse("elasticsearch", table).unwrap();
        let ws = Workspace::new();
        let abort = CancellationToken::new();
        let (tx, rx) = mpsc::channel(4);
        let ctx = SinkContext {
            name: "es".into(),
            data_dir: ws.data(),
            abort: abort.clone(),
        };
        let task = tokio::spawn(config.build(ctx, rx).unwrap());
        let acks = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&acks);
        let ack_sink: AckSink = Arc::new(move |r| seen.lock().unwrap().push(r));
        Harness {
            input: Some(tx),
            abort,
            task,
            acks,
            ack_sink,
            origin: Arc::new(Origin {
                source: "app".into(),
                path: Bytes::from_static(b"/var/log/app/a.log"),
                file_id: 0xfeed,
            }),
            next_seq: 0,
            ws,
        }
    }

    /// Sends events as one batch from file 0xfeed, with one acknowledgement token.
    async fn send(&mut self, events: Vec<Event>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut batch = Batch::from_events(events);
        batch.origin = Some(Arc::clone(&self.origin));
        batch.acks = vec![AckToken::new(&self.ack_sink, 0xfeed, seq, (seq + 1) * 1000)];
        self.input.as_ref().unwrap().send(batch).await.unwrap();
    }

    /// Closes the input and waits for the sink to return.
    async fn finish(mut self) -> (Vec<AckResult>, Workspace) {
        self.input = None;
        let result = tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the sink drains")
            .unwrap();
        assert!(result.is_ok(), "{result:?}");
        let acks = self.acks.lock().unwrap().clone();
        (acks, self.ws)
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn event(message: &str, offset: u64) -> Event {
    Event::from_message(Bytes::copy_from_slice(message.as_bytes()), offset)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_goes_to_the_index_of_its_own_day() {
    let server = EsServer::start(EsServerOptions::default());
    let mut h = Harness::start(&server.url(), "index = \"app-logs-%Y.%m.%d\"");
    let mut a = event("new year's eve", 0);
    a.timestamp = Some(at("2025-12-31T23:59:59.999+00:00"));
    let mut b = event("new year", 10);
    b.timestamp = Some(at("2026-01-01T00:00:00Z"));
    // UTC decides, whatever the offset the time was written with.
    let mut c = event("still new year's eve in UTC", 20);
    c.timestamp = Some(at("2026-01-01T00:30:00+01:00"));
    h.send(vec![a, b, c]).await;
    let (acks, _) = h.finish().await;
    assert!(acks.iter().all(|r| r.delivered));
    let names = |index: &str| -> Vec<String> {
        server
            .docs(index)
            .into_iter()
            .map(|(_, d)| d["message"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names("app-logs-2025.12.31"),
        ["new year's eve", "still new year's eve in UTC"]
    );
    assert_eq!(names("app-logs-2026.01.01"), ["new year"]);
    let doc = server
        .doc("app-logs-2026.01.01", "000000000000feed-a")
        .unwrap();
    assert_eq!(doc["@timestamp"], "2026-01-01T00:00:00.000Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_confirmed_in_order_once_all_their_documents_are_in() {
    let server = EsServer::start(EsServerOptions {
        faults: Faults {
            item_429_prob: 0.4,
            ..Default::default()
        },
        ..Default::default()
    });
    let mut h = Harness::start(
        &server.url(),
        "max_in_flight = 4\nbatch = { max_events = 10, timeout = \"20ms\" }\nretry = { initial_backoff = \"5ms\", max_backoff = \"50ms\" }",
    );
    let mut offset = 0;
    for b in 0..20 {
        // 7 then 25 events: batches span requests, requests span batches.
        let n = if b % 2 == 0 { 7 } else { 25 };
        let events = (0..n)
            .map(|i| {
                offset += 100;
                event(&format!("b{b}-e{i}"), offset)
            })
            .collect();
        h.send(events).await;
    }
    let (acks, _) = h.finish().await;
    assert_eq!(
        acks.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (0..20).collect::<Vec<_>>(),
        "confirmed in order"
    );
    assert!(acks.iter().all(|r| r.delivered));
    assert_eq!(server.total_docs(), 10 * 7 + 10 * 25);
    assert_eq!(server.duplicates(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_deadline_leaves_undelivered_batches_unconfirmed() {
    let server = EsServer::start(EsServerOptions::default());
    let mut h = Harness::start(
        &server.url(),
        "batch = { timeout = \"10ms\" }\nretry = { max_backoff = \"100ms\" }",
    );
    h.send(vec![event("delivered", 0)]).await;
    assert!(server.wait_for_docs_async(1, Duration::from_secs(10)).await);
    server.outage(Duration::from_secs(20));
    h.send(vec![event("stuck", 10)]).await;
    h.send(vec![event("stuck too", 20)]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The input closes (shutdown), but Elasticsearch stays down: the deadline passes.
    h.input = None;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!h.task.is_finished(), "the sink keeps trying while it may");
    let started = Instant::now();
    h.abort.cancel();
    let (acks, _) = h.finish().await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let fates: Vec<(u64, bool)> = acks.iter().map(|r| (r.seq, r.delivered)).collect();
    assert_eq!(fates, [(0, true), (1, false), (2, false)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_conflicts_are_dead_lettered_in_both_error_dialects() {
    for legacy in [false, true] {
        let server = EsServer::start(EsServerOptions {
            legacy_mapper_errors: legacy,
            ..Default::default()
        });
        let mut h = Harness::start(&server.url(), "index = \"typed\"");
        let mut events = Vec::new();
        for (i, v) in [Value::Int(1), Value::from("abc"), Value::Int(2)]
            .into_iter()
            .enumerate()
        {
            let mut e = event("m", i as u64 * 10);
            e.fields.insert(Bytes::from_static(b"n"), v);
            events.push(e);
        }
        h.send(events).await;
        let (acks, ws) = h.finish().await;
        assert!(
            acks[0].delivered,
            "dead-lettered documents count as handled"
        );
        assert_eq!(server.doc_count("typed"), 2);
        let text = std::fs::read_to_string(ws.data().join("dead-letter/es.ndjson")).unwrap();
        let records: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(r["document"]["n"], "abc");
        assert_eq!(r["id"], "000000000000feed-a");
        assert_eq!(r["status"], 400);
        let kind = if legacy {
            "mapper_parsing_exception"
        } else {
            "document_parsing_exception"
        };
        assert_eq!(r["error_type"], kind);
        assert!(!r["reason"].as_str().unwrap().is_empty());
    }
}
