//! Tests of the in-process Elasticsearch test server itself, over real HTTP.
//!
//! skiff's sink tests and benchmarks trust this server to behave like
//! Elasticsearch; these tests pin down each behaviour they rely on (response
//! shapes, request-level and item-level errors, data streams, dynamic mapping,
//! auth, and every injectable fault).

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::es_server::{EsServer, EsServerOptions, Faults, OutageMode};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A client that opens a fresh connection per request, for tests where a
/// pooled connection would blur what happened.
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

fn ndjson(lines: &[Value]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(&l.to_string());
        s.push('\n');
    }
    s
}

async fn send(
    c: &reqwest::Client,
    url: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = c
        .post(url)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, headers, v)
}

async fn bulk(s: &EsServer, lines: &[Value]) -> (u16, Value) {
    let (status, _, v) = send(&client(), &format!("{}/_bulk", s.url()), ndjson(lines)).await;
    (status, v)
}

fn item(resp: &Value, i: usize) -> &Value {
    let obj = resp["items"][i].as_object().expect("item object");
    assert_eq!(obj.len(), 1, "one action key per item: {obj:?}");
    obj.values().next().unwrap()
}

fn statuses(resp: &Value) -> Vec<u64> {
    (0..resp["items"].as_array().unwrap().len())
        .map(|i| item(resp, i)["status"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn cluster_info_and_product_header() {
    let s = EsServer::start(EsServerOptions::default());
    let resp = client().get(s.url()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-elastic-product"], "Elasticsearch");
    let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(v["version"]["number"], "8.15.0");
    assert_eq!(v["tagline"], "You Know, for Search");

    let os = EsServer::start(EsServerOptions {
        omit_product_header: true,
        ..Default::default()
    });
    let resp = client().get(os.url()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("x-elastic-product").is_none());
}

#[tokio::test]
async fn bulk_creates_documents_with_documented_shape() {
    let s = EsServer::start(EsServerOptions::default());
    let (status, r) = bulk(
        &s,
        &[
            json!({"create": {"_index": "app", "_id": "a"}}),
            json!({"msg": "one", "n": 1}),
            json!({"index": {"_index": "app", "_id": "b"}}),
            json!({"msg": "two", "n": 2}),
            json!({"create": {"_index": "app"}}),
            json!({"msg": "three", "n": 3}),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(r["errors"], false);
    assert!(r["took"].is_u64());
    assert_eq!(statuses(&r), vec![201, 201, 201]);
    let first = &r["items"][0]["create"];
    assert_eq!(first["_index"], "app");
    assert_eq!(first["_id"], "a");
    assert_eq!(first["_version"], 1);
    assert_eq!(first["result"], "created");
    assert_eq!(first["_shards"]["successful"], 1);
    assert_eq!(first["_seq_no"], 0);
    assert_eq!(first["_primary_term"], 1);
    assert!(r["items"][1]["index"].is_object());
    let generated = item(&r, 2)["_id"].as_str().unwrap().to_string();
    assert_eq!(generated.len(), 20);

    assert_eq!(s.total_docs(), 3);
    assert_eq!(s.doc_count("app"), 3);
    assert_eq!(s.doc_count("ap*"), 3);
    assert_eq!(s.doc_count("other"), 0);
    assert_eq!(s.bulk_items_received(), 3);
    let docs = s.docs("app");
    let ids: Vec<&str> = docs.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, vec!["a", "b", generated.as_str()]);
    assert_eq!(docs[1].1, json!({"msg": "two", "n": 2}));
    assert_eq!(s.doc("app", "a").unwrap()["msg"], "one");
    assert_eq!(s.raw_docs("app")[0].1, r#"{"msg":"one","n":1}"#);
    assert_eq!(s.all_docs().len(), 3);
    assert!(s.wait_for_docs(3, Duration::from_millis(10)));
    assert!(!s.wait_for_docs(4, Duration::from_millis(30)));
    assert!(s.wait_for_docs_async(3, Duration::from_millis(10)).await);
}

#[tokio::test]
async fn index_from_path_and_recorded_requests() {
    let s = EsServer::start(EsServerOptions::default());
    let (status, _, r) = send(
        &client(),
        &format!("{}/from-path/_bulk?pipeline=p1&refresh=false", s.url()),
        ndjson(&[json!({"create": {}}), json!({"x": 1})]),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(item(&r, 0)["_index"], "from-path");
    assert_eq!(s.doc_count("from-path"), 1);
    let reqs = s.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/from-path/_bulk");
    assert_eq!(req.query.as_deref(), Some("pipeline=p1&refresh=false"));
    assert_eq!(req.query_param("pipeline").as_deref(), Some("p1"));
    assert_eq!(req.header("Content-Type"), Some("application/x-ndjson"));
    assert_eq!(req.ndjson(), vec![json!({"create": {}}), json!({"x": 1})]);
    assert_eq!(req.status, Some(200));
    assert!(req.is_bulk());
    assert_eq!(s.bulk_requests().len(), 1);
    assert_eq!(s.request_count(), 1);
}

#[tokio::test]
async fn missing_final_newline_is_rejected_whole() {
    let s = EsServer::start(EsServerOptions::default());
    let mut body = ndjson(&[json!({"create": {"_index": "a"}}), json!({"x": 1})]);
    body.pop();
    let (status, _, r) = send(&client(), &format!("{}/_bulk", s.url()), body).await;
    assert_eq!(status, 400);
    assert_eq!(r["status"], 400);
    assert_eq!(r["error"]["type"], "illegal_argument_exception");
    assert_eq!(
        r["error"]["reason"],
        "The bulk request must be terminated by a newline [\\n]"
    );
    assert_eq!(
        r["error"]["root_cause"][0]["type"],
        "illegal_argument_exception"
    );
    assert_eq!(s.total_docs(), 0);
}

#[tokio::test]
async fn create_on_existing_id_conflicts() {
    let s = EsServer::start(EsServerOptions::default());
    let lines = [
        json!({"create": {"_index": "a", "_id": "1"}}),
        json!({"v": 1}),
    ];
    assert_eq!(bulk(&s, &lines).await.1["errors"], false);
    let (status, r) = bulk(
        &s,
        &[
            json!({"create": {"_index": "a", "_id": "1"}}),
            json!({"v": 2}),
            json!({"create": {"_index": "a", "_id": "2"}}),
            json!({"v": 3}),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(r["errors"], true);
    assert_eq!(statuses(&r), vec![409, 201]);
    let err = &item(&r, 0)["error"];
    assert_eq!(err["type"], "version_conflict_engine_exception");
    assert!(err["reason"]
        .as_str()
        .unwrap()
        .contains("document already exists"));
    assert_eq!(s.doc("a", "1").unwrap(), json!({"v": 1}));
    assert_eq!(s.writes_of("a", "1"), 1);
    assert_eq!(s.duplicates(), 0);
}

#[tokio::test]
async fn index_replaces_and_counts_duplicates() {
    let s = EsServer::start(EsServerOptions::default());
    let (_, r1) = bulk(
        &s,
        &[
            json!({"index": {"_index": "a", "_id": "1"}}),
            json!({"v": 1}),
        ],
    )
    .await;
    let (_, r2) = bulk(
        &s,
        &[
            json!({"index": {"_index": "a", "_id": "1"}}),
            json!({"v": 2}),
        ],
    )
    .await;
    assert_eq!(item(&r1, 0)["result"], "created");
    assert_eq!(item(&r2, 0)["status"], 200);
    assert_eq!(item(&r2, 0)["result"], "updated");
    assert_eq!(item(&r2, 0)["_version"], 2);
    assert_eq!(s.doc("a", "1").unwrap(), json!({"v": 2}));
    assert_eq!(s.total_docs(), 1);
    assert_eq!(s.writes_of("a", "1"), 2);
    assert_eq!(s.writes_of("a", "nope"), 0);
    assert_eq!(s.duplicates(), 1);
}

#[tokio::test]
async fn data_streams_require_create_and_timestamp() {
    let s = EsServer::start(EsServerOptions::default());
    let (status, r) = bulk(
        &s,
        &[
            json!({"index": {"_index": "logs-app-default"}}),
            json!({"@timestamp": "2024-05-01T10:00:00Z", "message": "a"}),
            json!({"create": {"_index": "logs-app-default"}}),
            json!({"message": "no timestamp"}),
            json!({"create": {"_index": "logs-app-default"}}),
            json!({"@timestamp": "not a date", "message": "b"}),
            json!({"create": {"_index": "logs-app-default"}}),
            json!({"@timestamp": "2024-05-01T10:00:00.123+02:00", "message": "c"}),
            json!({"index": {"_index": "plain"}}),
            json!({"message": "d"}),
            // Epoch milliseconds are a valid @timestamp...
            json!({"create": {"_index": "logs-app-default"}}),
            json!({"@timestamp": 1714557600000u64, "message": "e"}),
            // ...a space between date and time is not.
            json!({"create": {"_index": "logs-app-default"}}),
            json!({"@timestamp": "2024-05-01 10:00:00", "message": "f"}),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(statuses(&r), vec![400, 400, 400, 201, 201, 201, 400]);
    let e0 = &item(&r, 0)["error"];
    assert_eq!(e0["type"], "illegal_argument_exception");
    assert_eq!(
        e0["reason"],
        "only write ops with an op_type of create are allowed in data streams"
    );
    let e1 = &item(&r, 1)["error"];
    assert_eq!(e1["type"], "document_parsing_exception");
    assert!(
        e1["reason"].as_str().unwrap().contains("@timestamp"),
        "{e1}"
    );
    let e2 = &item(&r, 2)["error"];
    assert!(
        e2["reason"]
            .as_str()
            .unwrap()
            .contains("[@timestamp] of type [date]"),
        "{e2}"
    );
    let backing = item(&r, 3)["_index"].as_str().unwrap();
    assert!(backing.starts_with(".ds-logs-app-default-"), "{backing}");
    assert_eq!(s.doc_count("logs-*"), 2);
    assert_eq!(s.docs("logs-app-default")[0].1["message"], "c");
    assert_eq!(s.doc_count("plain"), 1);

    let custom = EsServer::start(EsServerOptions {
        data_stream_prefixes: vec!["ds-".into()],
        ..Default::default()
    });
    let (_, r) = bulk(
        &custom,
        &[
            json!({"index": {"_index": "logs-x"}}),
            json!({"m": 1}),
            json!({"index": {"_index": "ds-x"}}),
            json!({"m": 1}),
        ],
    )
    .await;
    assert_eq!(statuses(&r), vec![201, 400]);
}

#[tokio::test]
async fn dynamic_mapping_conflicts() {
    let s = EsServer::start(EsServerOptions::default());
    let (_, r) = bulk(
        &s,
        &[
            json!({"index": {"_index": "m", "_id": "1"}}),
            json!({"status": 200, "user": {"name": "ann"}, "ok": true, "at": "2024-01-02T03:04:05Z", "ratio": 0.5, "tags": ["a", "b"]}),
            // Numeric strings are coerced into numeric fields.
            json!({"index": {"_index": "m", "_id": "2"}}),
            json!({"status": "404", "user.name": "bob", "ok": "false", "ratio": 2}),
            json!({"index": {"_index": "m", "_id": "3"}}),
            json!({"status": "abc"}),
            json!({"index": {"_index": "m", "_id": "4"}}),
            json!({"user": "carl"}),
            json!({"index": {"_index": "m", "_id": "5"}}),
            json!({"status": {"code": 1}}),
            json!({"index": {"_index": "m", "_id": "6"}}),
            json!({"at": "yesterday"}),
            json!({"index": {"_index": "m", "_id": "7"}}),
            json!({"ok": "maybe"}),
            json!({"index": {"_index": "m", "_id": "8"}}),
            json!({"_id": "inside"}),
            // A field added by a rejected document is not kept.
            json!({"index": {"_index": "m", "_id": "9"}}),
            json!({"fresh": 1, "status": "bad"}),
            json!({"index": {"_index": "m", "_id": "10"}}),
            json!({"fresh": "now text"}),
        ],
    )
    .await;
    assert_eq!(
        statuses(&r),
        vec![201, 201, 400, 400, 400, 400, 400, 400, 400, 201]
    );
    let e = &item(&r, 2)["error"];
    assert_eq!(e["type"], "document_parsing_exception");
    let reason = e["reason"].as_str().unwrap();
    assert!(reason.starts_with("[1:"), "{reason}");
    assert!(
        reason.contains("failed to parse field [status] of type [long] in document with id '3'"),
        "{reason}"
    );
    let e = &item(&r, 3)["error"];
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .contains("object mapping for [user]"),
        "{e}"
    );
    let e = &item(&r, 4)["error"];
    assert!(e["reason"]
        .as_str()
        .unwrap()
        .contains("field [status] of type [long]"));
    assert!(item(&r, 5)["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("[at] of type [date]"));
    assert!(item(&r, 6)["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("[ok] of type [boolean]"));
    assert!(item(&r, 7)["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("Field [_id] is a metadata field"));
    let mapping = s.mapping("m");
    let get = |p: &str| {
        mapping
            .iter()
            .find(|(k, _)| k == p)
            .map(|(_, t)| t.as_str())
    };
    assert_eq!(get("status"), Some("long"));
    assert_eq!(get("user"), Some("object"));
    assert_eq!(get("user.name"), Some("text"));
    assert_eq!(get("ok"), Some("boolean"));
    assert_eq!(get("at"), Some("date"));
    assert_eq!(get("ratio"), Some("float"));
    assert_eq!(get("tags"), Some("text"));
    assert_eq!(get("fresh"), Some("text"));
    assert_eq!(s.doc_count("m"), 3);

    let legacy = EsServer::start(EsServerOptions {
        legacy_mapper_errors: true,
        ..Default::default()
    });
    let (_, r) = bulk(
        &legacy,
        &[
            json!({"index": {"_index": "m"}}),
            json!({"a": {"b": 1}}),
            json!({"index": {"_index": "m"}}),
            json!({"a": "flat"}),
        ],
    )
    .await;
    assert_eq!(statuses(&r), vec![201, 400]);
    assert_eq!(item(&r, 1)["error"]["type"], "mapper_parsing_exception");
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    let s = EsServer::start(EsServerOptions::default());
    let plain = ndjson(&[
        json!({"create": {"_index": "gz"}}),
        json!({"message": "x".repeat(2000)}),
    ]);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(plain.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let gz_len = gz.len();
    let resp = client()
        .post(format!("{}/_bulk", s.url()))
        .header("content-type", "application/x-ndjson")
        .header("content-encoding", "gzip")
        .body(gz)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(s.doc_count("gz"), 1);
    let req = &s.requests()[0];
    assert_eq!(req.body, plain.as_bytes());
    assert_eq!(req.wire_body_len, gz_len);
    assert!(gz_len < plain.len());
}

#[tokio::test]
async fn auth_rejects_then_accepts_fixed_credentials() {
    let s = EsServer::start(EsServerOptions {
        basic_auth: Some(("elastic".into(), "secret".into())),
        ..Default::default()
    });
    let c = client();
    let url = format!("{}/_bulk", s.url());
    let body = ndjson(&[json!({"create": {"_index": "a"}}), json!({"x": 1})]);
    let post = || {
        c.post(&url)
            .header("content-type", "application/x-ndjson")
            .body(body.clone())
    };

    let resp = post().send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let challenges: Vec<_> = resp.headers().get_all("www-authenticate").iter().collect();
    assert!(challenges
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("Basic")));
    assert!(challenges.iter().any(|v| v.to_str().unwrap() == "ApiKey"));
    assert!(resp.headers().get("x-elastic-product").is_none());
    let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(v["status"], 401);
    assert_eq!(v["error"]["type"], "security_exception");
    assert!(v["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("missing authentication credentials"));

    let resp = post()
        .basic_auth("elastic", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert!(v["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("unable to authenticate user [elastic]"));

    let resp = post()
        .basic_auth("elastic", Some("secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(s.total_docs(), 1);

    // Credentials rotated at runtime: the old password stops working, the
    // new API key works.
    s.set_credentials(None, Some("aWQ6a2V5".into()));
    let resp = post()
        .basic_auth("elastic", Some("secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = post()
        .header("authorization", "ApiKey bm9wZTpub3Bl")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = post()
        .header("authorization", "ApiKey aWQ6a2V5")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(s.total_docs(), 2);

    // GET / needs credentials too.
    assert_eq!(c.get(s.url()).send().await.unwrap().status(), 401);
    s.set_credentials(None, None);
    assert_eq!(c.get(s.url()).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn item_level_429_injection() {
    let s = EsServer::start(EsServerOptions::default());
    let lines: Vec<Value> = (0..4)
        .flat_map(|i| {
            [
                json!({"create": {"_index": "r", "_id": i.to_string()}}),
                json!({"i": i}),
            ]
        })
        .collect();

    s.set_faults(Faults {
        item_429_next: 1,
        ..Default::default()
    });
    let (status, r) = bulk(&s, &lines).await;
    assert_eq!(status, 200);
    assert_eq!(r["errors"], true);
    assert_eq!(statuses(&r), vec![429, 201, 201, 201]);
    let e = &item(&r, 0)["error"];
    assert_eq!(e["type"], "es_rejected_execution_exception");
    assert_eq!(item(&r, 0)["_id"], "0");
    assert_eq!(s.total_docs(), 3);
    assert_eq!(s.faults().get().item_429_next, 0);

    s.faults().update(|f| f.item_429_prob = 1.0);
    let (_, r) = bulk(&s, &lines).await;
    assert_eq!(statuses(&r), vec![429; 4]);
    assert_eq!(s.writes_of("r", "0"), 0);
    s.faults().clear();
    let (_, r) = bulk(&s, &lines).await;
    assert_eq!(statuses(&r), vec![201, 409, 409, 409]);

    // The same seed gives the same rejections.
    let pattern = |seed: u64| {
        let lines = lines.clone();
        async move {
            let s = EsServer::start(EsServerOptions {
                seed,
                faults: Faults {
                    item_429_prob: 0.5,
                    ..Default::default()
                },
                ..Default::default()
            });
            let mut all = Vec::new();
            for _ in 0..5 {
                all.extend(
                    statuses(&bulk(&s, &lines).await.1)
                        .into_iter()
                        .map(|c| c == 429),
                );
            }
            all
        }
    };
    let a = pattern(7).await;
    assert_eq!(a, pattern(7).await);
    assert!(a.iter().any(|r| *r) && a.iter().any(|r| !*r), "{a:?}");
}

#[tokio::test]
async fn request_level_503_and_429() {
    let s = EsServer::start(EsServerOptions::default());
    let lines = [json!({"create": {"_index": "a"}}), json!({"x": 1})];
    s.set_faults(Faults {
        status_503_next: 2,
        status_429_next: 1,
        ..Default::default()
    });
    // GET / is not affected unless `all_endpoints` is set.
    assert_eq!(client().get(s.url()).send().await.unwrap().status(), 200);
    let (st, r) = bulk(&s, &lines).await;
    assert_eq!(st, 503);
    assert_eq!(r["status"], 503);
    assert!(r["error"]["type"].is_string());
    assert_eq!(bulk(&s, &lines).await.0, 503);
    let (st, r) = bulk(&s, &lines).await;
    assert_eq!(st, 429);
    assert_eq!(r["error"]["type"], "es_rejected_execution_exception");
    assert_eq!(bulk(&s, &lines).await.0, 200);
    assert_eq!(s.total_docs(), 1);
    assert_eq!(s.faults().get(), Faults::default());
    let recorded: Vec<_> = s.bulk_requests().iter().map(|r| r.status).collect();
    assert_eq!(recorded, vec![Some(503), Some(503), Some(429), Some(200)]);

    s.set_faults(Faults {
        status_503_prob: 1.0,
        all_endpoints: true,
        ..Default::default()
    });
    assert_eq!(client().get(s.url()).send().await.unwrap().status(), 503);
}

#[tokio::test]
async fn dropped_connection() {
    let s = EsServer::start(EsServerOptions::default());
    let body = ndjson(&[json!({"create": {"_index": "a"}}), json!({"x": 1})]);
    s.set_faults(Faults {
        drop_next: 1,
        ..Default::default()
    });
    let c = fresh_client();
    let err = c
        .post(format!("{}/_bulk", s.url()))
        .header("content-type", "application/x-ndjson")
        .body(body.clone())
        .send()
        .await
        .expect_err("connection should be dropped");
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(s.total_docs(), 0);
    let reqs = s.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].status, None);
    assert_eq!(reqs[0].body, body.as_bytes());
    let resp = c
        .post(format!("{}/_bulk", s.url()))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(s.total_docs(), 1);
}

#[tokio::test]
async fn outage_refuses_then_recovers_on_same_port() {
    let s = EsServer::start(EsServerOptions::default());
    let c = client();
    assert_eq!(c.get(s.url()).send().await.unwrap().status(), 200);
    let started = Instant::now();
    s.outage(Duration::from_millis(500));
    // The kept-alive connection was closed by the server...
    assert!(c.get(s.url()).send().await.is_err());
    // ...and new connections are refused.
    let err = fresh_client()
        .get(s.url())
        .send()
        .await
        .expect_err("server is down");
    assert!(err.is_connect(), "{err:?}");
    tokio::time::sleep(Duration::from_millis(700).saturating_sub(started.elapsed())).await;
    let mut ok = false;
    for _ in 0..50 {
        if c.get(s.url()).send().await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "server came back");

    s.outage_with(Duration::from_secs(30), OutageMode::Reset);
    assert!(fresh_client().get(s.url()).send().await.is_err());
    s.end_outage();
    let mut ok = false;
    for _ in 0..50 {
        if fresh_client().get(s.url()).send().await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "server came back after an early end");
}

#[tokio::test]
async fn slow_answers() {
    let s = EsServer::start(EsServerOptions::default());
    s.set_faults(Faults {
        delay: Duration::from_millis(300),
        ..Default::default()
    });
    let t = Instant::now();
    let (st, _) = bulk(&s, &[json!({"create": {"_index": "a"}}), json!({"x": 1})]).await;
    assert_eq!(st, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn type_parameter_is_rejected() {
    let s = EsServer::start(EsServerOptions::default());
    let (st, r) = bulk(
        &s,
        &[
            json!({"create": {"_index": "a"}}),
            json!({"x": 1}),
            json!({"index": {"_index": "a", "_type": "_doc"}}),
            json!({"x": 2}),
        ],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(r["error"]["type"], "illegal_argument_exception");
    assert_eq!(
        r["error"]["reason"],
        "Action/metadata line [3] contains an unknown parameter [_type]"
    );
    assert_eq!(s.total_docs(), 0);
}

#[tokio::test]
async fn malformed_requests() {
    let s = EsServer::start(EsServerOptions::default());
    let url = format!("{}/_bulk", s.url());
    let c = client();

    let (st, _, r) = send(&c, &url, "{\"create\": {\"_index\": \n{}\n").await;
    assert_eq!(st, 400);
    assert_eq!(r["error"]["type"], "x_content_parse_exception");

    let (st, _, r) = send(&c, &url, "{\"upsert\": {}}\n{}\n").await;
    assert_eq!(st, 400);
    assert!(r["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("found [upsert]"));

    let (st, _, r) = send(&c, &url, "\n").await;
    assert_eq!(st, 400);
    assert_eq!(r["error"]["type"], "action_request_validation_exception");

    let (st, _, r) = send(&c, &url, ndjson(&[json!({"create": {}}), json!({})])).await;
    assert_eq!(st, 400);
    assert_eq!(r["error"]["type"], "action_request_validation_exception");
    assert!(r["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("index is missing"));

    // A broken source line fails only its own item.
    let (st, _, r) = send(
        &c,
        &url,
        "{\"create\":{\"_index\":\"a\"}}\n{\"x\":\n{\"create\":{\"_index\":\"a\"}}\n{\"x\":1}\n",
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(statuses(&r), vec![400, 201]);
    assert_eq!(item(&r, 0)["error"]["type"], "document_parsing_exception");

    let resp = c
        .post(&url)
        .header("content-type", "text/plain")
        .body(ndjson(&[json!({"create": {"_index": "a"}}), json!({})]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 406);
    let resp = c
        .post(&url)
        .header("content-type", "application/json; charset=UTF-8")
        .body(ndjson(&[json!({"create": {"_index": "a"}}), json!({})]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let (st, _, r) = send(
        &c,
        &format!("{url}?bogus=1"),
        ndjson(&[json!({"create": {"_index": "a"}}), json!({})]),
    )
    .await;
    assert_eq!(st, 400);
    assert!(r["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("unrecognized parameter: [bogus]"));

    let (st, r) = bulk(&s, &[json!({"create": {"_index": "Upper"}}), json!({})]).await;
    assert_eq!(st, 200);
    assert_eq!(item(&r, 0)["error"]["type"], "invalid_index_name_exception");

    assert_eq!(c.get(&url).send().await.unwrap().status(), 405);
    assert_eq!(
        c.get(format!("{}/nope", s.url()))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
}

#[tokio::test]
async fn size_limit_and_pipelines_and_filter_path() {
    let s = EsServer::start(EsServerOptions {
        max_content_length: 100,
        pipelines: Some(vec!["known".into()]),
        ..Default::default()
    });
    let big = ndjson(&[
        json!({"create": {"_index": "a"}}),
        json!({"m": "x".repeat(200)}),
    ]);
    let (st, _, _) = send(&client(), &format!("{}/_bulk", s.url()), big).await;
    assert_eq!(st, 413);

    let (_, r) = bulk(
        &s,
        &[
            json!({"create": {"_index": "a", "pipeline": "known"}}),
            json!({}),
            json!({"create": {"_index": "a", "pipeline": "missing"}}),
            json!({}),
        ],
    )
    .await;
    assert_eq!(statuses(&r), vec![201, 400]);
    assert!(item(&r, 1)["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("pipeline with id [missing] does not exist"));

    let (st, _, r) = send(
        &client(),
        &format!(
            "{}/_bulk?filter_path=errors,items.*.error,items.*.status",
            s.url()
        ),
        ndjson(&[json!({"create": {"_index": "a", "_id": "f"}}), json!({})]),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        r,
        json!({"errors": false, "items": [{"create": {"status": 201}}]})
    );
}

#[tokio::test]
async fn update_and_delete() {
    let s = EsServer::start(EsServerOptions::default());
    let (_, r) = bulk(
        &s,
        &[
            json!({"index": {"_index": "u", "_id": "1"}}),
            json!({"a": 1, "o": {"x": 1}}),
            json!({"update": {"_index": "u", "_id": "1"}}),
            json!({"doc": {"b": 2, "o": {"y": 2}}}),
            json!({"update": {"_index": "u", "_id": "2"}}),
            json!({"doc": {"b": 2}}),
            json!({"update": {"_index": "u", "_id": "3"}}),
            json!({"doc": {"c": 3}, "doc_as_upsert": true}),
            json!({"delete": {"_index": "u", "_id": "3"}}),
            json!({"delete": {"_index": "u", "_id": "4"}}),
        ],
    )
    .await;
    assert_eq!(statuses(&r), vec![201, 200, 404, 201, 200, 404]);
    assert_eq!(item(&r, 2)["error"]["type"], "document_missing_exception");
    assert_eq!(item(&r, 4)["result"], "deleted");
    assert_eq!(item(&r, 5)["result"], "not_found");
    assert!(item(&r, 5).get("error").is_none());
    assert_eq!(
        s.doc("u", "1").unwrap(),
        json!({"a": 1, "b": 2, "o": {"x": 1, "y": 2}})
    );
    assert_eq!(s.total_docs(), 1);
}

#[tokio::test]
async fn counting_without_sources() {
    let s = EsServer::start(EsServerOptions {
        store_sources: false,
        record_bodies: false,
        ..Default::default()
    });
    let lines: Vec<Value> = (0..100)
        .flat_map(|i| {
            [
                json!({"create": {"_index": format!("i{}", i % 3), "_id": i.to_string()}}),
                json!({"i": i}),
            ]
        })
        .collect();
    assert_eq!(bulk(&s, &lines).await.0, 200);
    assert_eq!(bulk(&s, &lines[..2]).await.1["errors"], true);
    assert_eq!(s.total_docs(), 100);
    assert_eq!(s.doc_count("i0,i1"), 67);
    assert_eq!(s.doc_counts().len(), 3);
    assert_eq!(s.docs("i0")[0].1, Value::Null);
    assert!(s.requests()[0].body.is_empty());
    assert_eq!(s.bulk_items_received(), 101);
    s.reset();
    assert_eq!(s.total_docs(), 0);
    assert!(s.requests().is_empty());
}

#[test]
fn usable_from_sync_code_and_shuts_down() {
    let s = EsServer::start(EsServerOptions::default());
    let addr = s.addr();
    assert!(std::net::TcpStream::connect(addr).is_ok());
    s.shutdown();
    assert!(std::net::TcpStream::connect(addr).is_err());
}
