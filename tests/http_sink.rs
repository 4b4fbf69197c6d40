//! The `http` and `file` sinks with the real binary: what is sent (encodings, gzip, headers,
//! secrets from files, methods), faults (429 with `Retry-After`, 503, dropped connections, slow
//! answers past the timeout) that lose nothing, 4xx answers that go to dead letters, a Loki
//! stand-in that checks the push API's JSON shape, and files rotated by size.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::http_server::{Chaos, Fault, HttpServer, Recorded};
use support::skiff::Skiff;
use support::workspace::{read_ndjson, Workspace};
use support::writers::{append, numbered};

const WAIT: Duration = Duration::from_secs(60);

fn http_sink(uri: &str, extra: &str) -> String {
    format!("[sinks.out]\ntype = \"http\"\ninputs = [\"app\"]\nuri = {uri:?}\n{extra}")
}

/// How many times each line was accepted.
fn counts(lines: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for l in lines {
        *m.entry(l.clone()).or_insert(0) += 1;
    }
    m
}

fn messages(server: &HttpServer) -> Vec<String> {
    server
        .accepted_lines()
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["message"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn ndjson_gzip_put_headers_and_a_token_file() {
    let server = HttpServer::start();
    let ws = Workspace::new();
    ws.write("token", "s3cret\n");
    let lines = numbered("a", 0..300);
    append(&ws.log("a.log"), &lines);
    let mut skiff = Skiff::start(
        &ws.config_with_sink(
            "*.log",
            "",
            &http_sink(
                &format!("{}/ingest/%Y?q=INSERT INTO t", server.url()),
                "method = \"put\"\ncompression = \"gzip\"\nheaders = { X-Tenant = \"t1\" }\n\
                 auth = { token_file = \"token\" }\nbatch = { max_events = 100, timeout = \"100ms\" }",
            ),
        ),
        &[],
    );
    skiff.wait_for("every line", WAIT, || server.accepted_lines().len() >= 300);
    assert!(skiff.terminate(WAIT).success());
    // Two requests in flight may arrive in either order; each line arrives once.
    let mut got = messages(&server);
    got.sort();
    assert_eq!(got, lines, "once each");
    let reqs = server.accepted();
    assert!(reqs.len() >= 3, "batches of at most 100: {}", reqs.len());
    let year = chrono::Utc::now().format("%Y").to_string();
    for r in &reqs {
        assert_eq!(r.method, "PUT");
        assert_eq!(r.uri, format!("/ingest/{year}?q=INSERT%20INTO%20t"));
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
        assert_eq!(r.header("x-tenant"), Some("t1"));
        assert_eq!(r.header("authorization"), Some("Bearer s3cret"));
        assert!(r.lines().len() <= 100);
    }
}

#[test]
fn faults_lose_nothing_and_retry_after_is_honoured() {
    let server = HttpServer::start();
    server.script([
        Fault::Status(429, Some("1".into())),
        Fault::Status(503, None),
        Fault::Drop,
        Fault::Slow(Duration::from_secs(3)),
    ]);
    let ws = Workspace::new();
    let first = numbered("first", 0..50);
    append(&ws.log("a.log"), &first);
    let mut skiff = Skiff::start(
        &ws.config_with_sink(
            "*.log",
            "",
            &http_sink(
                &server.url(),
                "request_timeout = \"1s\"\nmax_in_flight = 1\n\
                 batch = { max_events = 50, timeout = \"50ms\" }\n\
                 retry = { initial_backoff = \"10ms\", max_backoff = \"100ms\" }",
            ),
        ),
        &[],
    );
    skiff.wait_for("the first batch", WAIT, || !server.accepted().is_empty());
    let reqs = server.requests();
    let statuses: Vec<u16> = reqs.iter().map(|r| r.status).collect();
    assert_eq!(&statuses[..4], [429, 503, 0, 200], "{statuses:?}");
    // The same body every time; the 503 came no sooner than the 429's Retry-After allowed (the
    // backoff alone is at most 10 ms).
    assert!(reqs.windows(2).all(|w| w[0].body == w[1].body));
    assert!(reqs[1].at.duration_since(reqs[0].at) >= Duration::from_secs(1));
    // Then chaos: every line arrives, duplicates only from slow answers the client gave up on.
    server.set_chaos(Chaos {
        p429: 0.1,
        p503: 0.1,
        pdrop: 0.1,
        pslow: 0.05,
        slow: Duration::from_millis(1500),
    });
    let mut expected = first.clone();
    for round in 0..10 {
        let lines = numbered(&format!("r{round}"), 0..200);
        append(&ws.log("a.log"), &lines);
        expected.extend(lines);
    }
    skiff.wait_for("every line through chaos", WAIT, || {
        let got = counts(&messages(&server));
        expected.iter().all(|l| got.contains_key(l))
    });
    let exit = skiff.terminate(WAIT);
    assert!(exit.success());
    let got = counts(&messages(&server));
    assert_eq!(got.len(), expected.len(), "no line that was not written");
    let stderr = exit.stderr;
    assert!(stderr.contains("overloaded or failing"), "{stderr}");
    assert!(
        stderr.contains("Cannot reach the HTTP endpoint"),
        "{stderr}"
    );
}

#[test]
fn a_4xx_goes_to_dead_letters_with_status_and_response() {
    let server = HttpServer::start();
    server.script([Fault::Status(422, None)]);
    let ws = Workspace::new();
    let lines = numbered("d", 0..20);
    append(&ws.log("a.log"), &lines);
    let mut skiff = Skiff::start(
        &ws.config_with_sink(
            "*.log",
            "",
            &http_sink(
                &server.url(),
                "max_in_flight = 1\nbatch = { max_events = 10, timeout = \"50ms\" }",
            ),
        ),
        &[],
    );
    let dl = ws.data().join("dead-letter/out.ndjson");
    skiff.wait_for("dead letters and the rest", WAIT, || {
        read_ndjson(&dl).len() == 10 && server.accepted_lines().len() == 10
    });
    assert!(skiff.terminate(WAIT).success());
    let records = read_ndjson(&dl);
    for (r, line) in records.iter().zip(&lines) {
        assert_eq!(r["status"], 422);
        assert_eq!(r["response"], "fault 422");
        assert_eq!(r["sink"], "out");
        assert_eq!(r["event"]["message"], line.as_str());
    }
    assert_eq!(messages(&server), lines[10..]);
    // Acknowledged: a restart reads nothing again.
    let mut again = Skiff::start(&ws.path("skiff.toml"), &[]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(again.terminate(WAIT).success());
    assert_eq!(server.accepted_lines().len(), 10);
}

/// Loki's push API shape: `{"streams":[{"stream":{label:value},"values":[["<ns>","<line>"]]}]}`,
/// label values strings, timestamps strings of decimal nanoseconds.
fn loki_shape(r: &Recorded) -> Result<(), String> {
    if r.uri != "/loki/api/v1/push" || r.header("content-type") != Some("application/json") {
        return Err(format!("wrong endpoint or type: {}", r.uri));
    }
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
    let streams = v["streams"].as_array().ok_or("no streams")?;
    for s in streams {
        let labels = s["stream"].as_object().ok_or("no stream labels")?;
        if labels.is_empty() || !labels.values().all(serde_json::Value::is_string) {
            return Err("labels must be strings".into());
        }
        for pair in s["values"].as_array().ok_or("no values")? {
            let p = pair.as_array().ok_or("value not a pair")?;
            let ns = p
                .first()
                .and_then(|t| t.as_str())
                .ok_or("ts not a string")?;
            if p.len() != 2 || !p[1].is_string() || ns.len() != 19 || ns.parse::<u64>().is_err() {
                return Err(format!("bad value {pair}"));
            }
        }
    }
    Ok(())
}

#[test]
fn loki_push_api_shape() {
    let server = HttpServer::with_validator(Some(Box::new(loki_shape)));
    let ws = Workspace::new();
    append(
        &ws.log("a.log"),
        &[
            r#"{"level":"info","msg":"one"}"#.to_owned(),
            r#"{"level":"error","msg":"two"}"#.to_owned(),
        ],
    );
    let config = ws.config(&format!(
        r#"data_dir = "{{dir}}/data"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{{dir}}/logs/*.log"]
[transforms.json]
type = "parse_json"
inputs = ["app"]
[sinks.loki]
type = "http"
inputs = ["json"]
uri = "{}/loki/api/v1/push"
encoding = "loki"
loki = {{ labels = {{ job = "skiff", level = "{{{{ level }}}}" }} }}
batch = {{ timeout = "50ms" }}
"#,
        server.url()
    ));
    let mut skiff = Skiff::start(&config, &[]);
    skiff.wait_for("a push", WAIT, || !server.requests().is_empty());
    assert!(skiff.terminate(WAIT).success());
    let reqs = server.requests();
    assert!(
        reqs.iter().all(|r| r.status == 204 || r.status == 200),
        "{reqs:?}"
    );
    let v = reqs[0].json();
    let streams = v["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 2);
    assert_eq!(streams[0]["stream"]["level"], "info");
    assert_eq!(streams[1]["stream"]["job"], "skiff");
    let line: serde_json::Value =
        serde_json::from_str(streams[1]["values"][0][1].as_str().unwrap()).unwrap();
    assert_eq!(line["msg"], "two");
}

#[test]
fn file_sink_writes_rotates_and_acknowledges() {
    let ws = Workspace::new();
    let lines = numbered("f", 0..1000);
    append(&ws.log("a.log"), &lines);
    let mut skiff = Skiff::start(
        &ws.config_with_sink(
            "*.log",
            "",
            "[sinks.out]\ntype = \"file\"\ninputs = [\"app\"]\npath = \"out/app-%Y.log\"\n\
             encoding = \"text\"\nmax_bytes = \"4KiB\"\nmax_files = 3",
        ),
        &[],
    );
    let year = chrono::Utc::now().format("%Y").to_string();
    let current = ws.path(&format!("out/app-{year}.log"));
    let last = lines.last().unwrap().clone();
    skiff.wait_for("the last line", WAIT, || {
        std::fs::read_to_string(&current).is_ok_and(|t| t.ends_with(&format!("{last}\n")))
    });
    assert!(skiff.terminate(WAIT).success());
    let mut kept = Vec::new();
    for suffix in [".2", ".1", ""] {
        let text = std::fs::read_to_string(format!("{}{suffix}", current.display())).unwrap();
        assert!(text.len() <= 4096);
        kept.extend(text.lines().map(str::to_owned));
    }
    assert!(!ws.path(&format!("out/app-{year}.log.3")).exists());
    assert_eq!(
        kept,
        lines[lines.len() - kept.len()..],
        "the newest lines, in order"
    );
    let checkpoints = ws.checkpoints("app");
    assert_eq!(
        checkpoints[0].1,
        std::fs::metadata(ws.log("a.log")).unwrap().len()
    );
}
