//! The `elasticsearch` sink end to end: the real skiff binary tails files in a temp dir and ships
//! them to the in-process Elasticsearch-compatible test server, which records every request.
//! Tests assert on the bodies the server received and on what it indexed.
//!
//! Faults (outages, 429s, kill -9, credentials) are in `elasticsearch_faults.rs`.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::es::{dead_endpoint, indexed_messages};
use support::es_server::{EsServer, EsServerOptions, Faults};
use support::skiff::{validate, Skiff};
use support::workspace::{read_ndjson, Workspace};
use support::writers::{append, numbered};

const WAIT: Duration = Duration::from_secs(30);

fn messages(server: &EsServer, index: &str) -> BTreeSet<String> {
    server
        .docs(index)
        .into_iter()
        .map(|(_, d)| d["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `2026-11-26T04:00:00.123Z` → `2026.11.26`.
fn day_of(ts: &str) -> String {
    ts[..10].replace('-', ".")
}

/// Sends a bulk body straight to the server (to prepare an index).
fn post_bulk(url: &str, body: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/_bulk"))
            .header("content-type", "application/x-ndjson")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

#[test]
fn bulk_requests_follow_the_bulk_api() {
    let server = EsServer::start(EsServerOptions::default());
    let ws = Workspace::new();
    let lines = numbered("line", 0..50);
    append(&ws.log("a.log"), &lines);
    let mut skiff = Skiff::start(
        &ws.es_config(
            "*.log",
            &[server.url()],
            "",
            r#"
index = "app-logs-%Y.%m.%d"
pipeline = "enrich"
headers = { "X-Tenant" = "team-a" }
batch = { max_events = 20, timeout = "100ms" }
"#,
        ),
        &[],
    );
    skiff.wait_for("50 documents", WAIT, || server.total_docs() >= 50);
    assert!(skiff.terminate(WAIT).success(), "{}", skiff.stderr());

    let requests = server.bulk_requests();
    assert!(requests.len() >= 3, "max_events = 20 splits 50 lines");
    for req in &requests {
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/_bulk");
        assert_eq!(req.header("content-type"), Some("application/x-ndjson"));
        assert_eq!(req.header("content-encoding"), Some("gzip"));
        assert!(req.wire_body_len < req.body.len(), "the body is compressed");
        assert_eq!(req.header("x-tenant"), Some("team-a"));
        assert!(req.header("user-agent").unwrap().starts_with("skiff/"));
        assert_eq!(req.query_param("pipeline").as_deref(), Some("enrich"));
        assert!(req.body.ends_with(b"\n"), "a bulk body ends with a newline");
        let lines = req.ndjson();
        assert!(lines.len() % 2 == 0 && lines.len() <= 40, "{}", lines.len());
        for pair in lines.chunks(2) {
            let (action, source) = (&pair[0], &pair[1]);
            let meta = action["create"].as_object().expect("a create action");
            assert_eq!(action.as_object().unwrap().len(), 1);
            assert!(!meta.contains_key("_type"), "no _type: {action}");
            let id = meta["_id"].as_str().unwrap();
            let (file, offset) = id.split_once('-').unwrap();
            assert_eq!(file.len(), 16, "{id}");
            assert!(
                u64::from_str_radix(file, 16).is_ok() && u64::from_str_radix(offset, 16).is_ok()
            );
            let ts = source["@timestamp"].as_str().unwrap();
            assert_eq!(meta["_index"], format!("app-logs-{}", day_of(ts)));
            assert!(source["file"].as_str().unwrap().ends_with("/logs/a.log"));
            assert!(source["message"].as_str().unwrap().starts_with("line-"));
        }
    }
    let got: Vec<String> = indexed_messages(&server);
    assert_eq!(got.len(), 50);
    assert_eq!(
        got.into_iter().collect::<BTreeSet<_>>(),
        lines.into_iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(server.duplicates(), 0);
}

#[test]
fn api_key_index_action_without_ids_or_compression() {
    let server = EsServer::start(EsServerOptions {
        api_key: Some("c2tpZmY6c2VjcmV0".into()),
        ..Default::default()
    });
    let ws = Workspace::new();
    append(&ws.log("a.log"), &numbered("x", 0..10));
    let mut skiff = Skiff::start(
        &ws.es_config(
            "*.log",
            &[server.url()],
            "",
            r#"
index = "plain"
action = "index"
id = "none"
compression = "none"
auth = { api_key = "skiff:secret" }
batch = { timeout = "100ms" }
"#,
        ),
        &[],
    );
    skiff.wait_for("10 documents", WAIT, || server.total_docs() >= 10);
    assert!(skiff.terminate(WAIT).success());
    for req in server.bulk_requests() {
        assert_eq!(req.header("authorization"), Some("ApiKey c2tpZmY6c2VjcmV0"));
        assert_eq!(req.header("content-encoding"), None);
        assert_eq!(req.wire_body_len, req.body.len());
        for action in req.ndjson().iter().step_by(2) {
            assert_eq!(action.to_string(), r#"{"index":{"_index":"plain"}}"#);
        }
    }
    assert_eq!(messages(&server, "plain").len(), 10);
    assert!(!skiff.stderr().contains("skiff:secret"));
}

#[test]
fn data_streams_get_create_actions_and_timestamps() {
    let server = EsServer::start(EsServerOptions::default());
    let ws = Workspace::new();
    append(&ws.log("a.log"), &numbered("ds", 0..25));
    let mut skiff = Skiff::start(
        &ws.es_config(
            "*.log",
            &[server.url()],
            "",
            r#"
mode = "data_stream"
data_stream = { dataset = "app" }
batch = { timeout = "100ms" }
"#,
        ),
        &[],
    );
    skiff.wait_for("25 documents", WAIT, || server.total_docs() >= 25);
    assert!(skiff.terminate(WAIT).success());
    assert_eq!(server.indices(), ["logs-app-default"]);
    assert_eq!(messages(&server, "logs-app-default").len(), 25);
    for req in server.bulk_requests() {
        let lines = req.ndjson();
        for pair in lines.chunks(2) {
            assert_eq!(pair[0]["create"]["_index"], "logs-app-default");
            assert!(pair[1]["@timestamp"].is_string());
        }
    }
}

#[test]
fn mapping_conflict_is_dead_lettered_and_the_pipeline_goes_on() {
    let server = EsServer::start(EsServerOptions::default());
    // The index maps `message` as a number; numeric strings still fit, text does not.
    let seed = "{\"create\":{\"_index\":\"conflict\",\"_id\":\"seed\"}}\n{\"message\":1}\n";
    assert_eq!(post_bulk(&server.url(), seed), 200);
    let ws = Workspace::new();
    append(
        &ws.log("a.log"),
        &["10", "20", "not a number", "30"].map(String::from),
    );
    let mut skiff = Skiff::start(
        &ws.es_config(
            "*.log",
            &[server.url()],
            "",
            "index = \"conflict\"\nbatch = { timeout = \"100ms\" }",
        ),
        &[],
    );
    let dead = ws.data().join("dead-letter/es.ndjson");
    skiff.wait_for("the dead letter", WAIT, || !read_ndjson(&dead).is_empty());
    skiff.wait_for("3 documents", WAIT, || server.total_docs() >= 4);
    // Later lines still flow.
    append(&ws.log("a.log"), &["40".to_owned()]);
    skiff.wait_for("the next line", WAIT, || server.total_docs() >= 5);
    assert!(skiff.terminate(WAIT).success());

    let records = read_ndjson(&dead);
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r["document"]["message"], "not a number");
    assert!(r["document"]["@timestamp"].is_string());
    assert_eq!(r["status"], 400);
    assert_eq!(r["error_type"], "document_parsing_exception");
    assert!(r["reason"].as_str().unwrap().contains("message"), "{r}");
    assert_eq!(r["index"], "conflict");
    assert_eq!(r["sink"], "es");
    assert!(r["id"].as_str().unwrap().contains('-'));
    assert!(r["time"].is_string());
    assert_eq!(server.doc_count("conflict"), 5);
    assert!(skiff.stderr().contains("refused documents for good"));
}

#[test]
fn opensearch_without_product_header_is_a_warning() {
    let server = EsServer::start(EsServerOptions {
        omit_product_header: true,
        ..Default::default()
    });
    let ws = Workspace::new();
    append(&ws.log("a.log"), &numbered("os", 0..5));
    let mut skiff = Skiff::start(
        &ws.es_config(
            "*.log",
            &[server.url()],
            "",
            "batch = { timeout = \"100ms\" }",
        ),
        &[],
    );
    skiff.wait_for("5 documents", WAIT, || server.total_docs() >= 5);
    assert!(skiff.terminate(WAIT).success());
    let log = skiff.stderr();
    assert!(log.contains("X-Elastic-Product"), "{log}");
    assert!(!log.contains("ERROR"), "{log}");
}

#[test]
fn a_dead_endpoint_is_skipped() {
    let server = EsServer::start(EsServerOptions::default());
    let ws = Workspace::new();
    append(&ws.log("a.log"), &numbered("ep", 0..200));
    let mut skiff = Skiff::start(&ws.es_config("*.log", 
        &[dead_endpoint(), server.url()],
        "",
        "batch = { max_events = 10, timeout = \"50ms\" }\nretry = { max_backoff = \"500ms\" }\nhealthcheck = false",
    ), &[]);
    skiff.wait_for("200 documents", WAIT, || server.total_docs() >= 200);
    assert!(skiff.terminate(WAIT).success());
    assert_eq!(server.duplicates(), 0);
    assert!(skiff
        .stderr()
        .contains("Cannot reach Elasticsearch endpoint"));
}

#[test]
fn request_failures_are_retried_without_duplicates() {
    let server = EsServer::start(EsServerOptions {
        faults: Faults {
            status_503_next: 2,
            status_429_next: 2,
            drop_next: 2,
            ..Default::default()
        },
        ..Default::default()
    });
    let ws = Workspace::new();
    let lines = numbered("rq", 0..300);
    append(&ws.log("a.log"), &lines);
    let mut skiff = Skiff::start(&ws.es_config("*.log", 
        &[server.url()],
        "",
        "batch = { max_events = 50, timeout = \"50ms\" }\nretry = { initial_backoff = \"10ms\", max_backoff = \"200ms\" }",
    ), &[]);
    skiff.wait_for("300 documents", WAIT, || server.total_docs() >= 300);
    assert!(skiff.terminate(WAIT).success());
    let statuses: Vec<Option<u16>> = server.bulk_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == Some(503)).count(), 2);
    assert_eq!(statuses.iter().filter(|s| **s == Some(429)).count(), 2);
    assert_eq!(statuses.iter().filter(|s| s.is_none()).count(), 2);
    assert_eq!(server.duplicates(), 0);
    assert_eq!(indexed_messages(&server).len(), 300);
}

#[test]
fn oversized_requests_are_split_and_a_lone_giant_is_dead_lettered() {
    let server = EsServer::start(EsServerOptions {
        max_content_length: 4096,
        ..Default::default()
    });
    let ws = Workspace::new();
    let mut lines = numbered("split", 0..100);
    lines.insert(50, "g".repeat(5000));
    append(&ws.log("a.log"), &lines);
    let mut skiff = Skiff::start(&ws.es_config("*.log", 
        &[server.url()],
        "",
        "index = \"split\"\ncompression = \"none\"\nbatch = { max_bytes = \"64KiB\", timeout = \"100ms\" }",
    ), &[]);
    let dead = ws.data().join("dead-letter/es.ndjson");
    skiff.wait_for("100 documents and a dead letter", WAIT, || {
        server.total_docs() >= 100 && !read_ndjson(&dead).is_empty()
    });
    assert!(skiff.terminate(WAIT).success());
    assert!(server.bulk_requests().iter().any(|r| r.status == Some(413)));
    assert_eq!(server.doc_count("split"), 100);
    let records = read_ndjson(&dead);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], 413);
    assert_eq!(
        records[0]["document"]["message"].as_str().unwrap().len(),
        5000
    );
}

#[test]
fn an_unusable_tls_file_stops_skiff_with_a_clear_error() {
    let ws = Workspace::new();
    let ca = ws.path("missing-ca.pem");
    let mut skiff = Skiff::start(
        &ws.es_config(
            "*.log",
            &["https://127.0.0.1:1".into()],
            "",
            &format!("tls = {{ ca_file = {:?} }}", ca.display().to_string()),
        ),
        &[],
    );
    let status = skiff.wait_exit(WAIT);
    assert!(!status.success());
    let log = skiff.stderr();
    assert!(
        log.contains("cannot read TLS CA file") && log.contains("missing-ca.pem"),
        "{log}"
    );
}

#[test]
fn invalid_configs_are_refused_with_their_place() {
    let ws = Workspace::new();
    let config = ws.es_config(
        "*.log",
        &["http://es:9200".into()],
        "",
        "mode = \"data_stream\"\naction = \"index\"",
    );
    let out = validate(&config);
    assert!(!out.success());
    let err = out.stderr;
    assert!(
        err.contains("sinks.es.action") && err.contains("only accept `create`"),
        "{err}"
    );
}

#[test]
fn the_seed_fluent_bit_config_has_a_valid_sink() {
    // The whole file needs `parse_json`; its sink section must be valid on its own.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/fluent-bit-elasticsearch.toml"
    ))
    .unwrap()
    .replace("${ELASTICSEARCH_HOST}", "elasticsearch.logging")
    .replace("${ELASTICSEARCH_PORT}", "9200");
    let v: toml::Table = toml::from_str(&text).unwrap();
    let mut sink = v["sinks"]["elasticsearch"].as_table().unwrap().clone();
    assert_eq!(sink.remove("type").unwrap().as_str(), Some("elasticsearch"));
    assert_eq!(
        sink.remove("inputs").unwrap()[0].as_str(),
        Some("parse_logs")
    );
    assert_eq!(sink["index"].as_str(), Some("app-logs-%Y.%m.%d"));
    let parsed = skiff::sinks::parse("elasticsearch", sink).unwrap();
    assert_eq!(parsed.kind(), "elasticsearch");
    let parser = &v["transforms"]["parse_logs"];
    assert_eq!(parser["type"].as_str(), Some("parse_json"));
    assert_eq!(parser["timestamp"]["field"].as_str(), Some("timestamp"));
}
