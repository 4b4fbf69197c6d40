//! The HTTP layer of the test Elasticsearch server: one hyper HTTP/1.1
//! connection per task (Elasticsearch speaks HTTP/1.1 only), routing,
//! authentication, body decoding, fault injection and request recording.
//!
//! It is a plain hyper service rather than a framework router because a
//! dropped-connection fault has to close the socket without any answer: the
//! handler asks its connection task to stop, and the task drops the socket.

use std::convert::Infallible;
use std::io::Read;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::bulk::{error_body, filter_path};
use super::{RecordedRequest, RequestFault, Shared};

type Reply = Response<Full<Bytes>>;

/// Serves one accepted connection until the client leaves, the server stops
/// or starts an outage (`cancel`), or a handler asks to drop it.
pub(crate) async fn serve_connection<S>(shared: Arc<Shared>, stream: S, cancel: CancellationToken)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let kill = Arc::new(Notify::new());
    let handler_kill = kill.clone();
    let service = service_fn(move |req| handle(shared.clone(), handler_kill.clone(), req));
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        biased;
        _ = cancel.cancelled() => {}
        _ = kill.notified() => {}
        _ = conn => {}
    }
}

/// Query string pairs, percent-decoded (`+` is a space).
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reply(shared: &Shared, status: u16, body: Bytes, json: bool) -> Reply {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    if json {
        h.insert("content-type", HeaderValue::from_static("application/json"));
    }
    // Elasticsearch leaves the product header off authentication failures.
    if !shared.opts.omit_product_header && status != 401 && status != 403 {
        h.insert(
            "x-elastic-product",
            HeaderValue::from_static("Elasticsearch"),
        );
    }
    resp
}

fn json_reply(shared: &Shared, status: u16, body: &Value, filter: Option<&str>) -> Reply {
    let text = match filter {
        Some(f) => filter_path(body, f).to_string(),
        None => body.to_string(),
    };
    reply(shared, status, Bytes::from(text), true)
}

/// Decodes the body per `Content-Encoding`, refusing to grow past `max`.
/// Unknown encodings pass through untouched, as with Elasticsearch.
fn decode_body(headers: &HeaderMap, wire: &Bytes, max: usize) -> Result<Bytes, (u16, Value)> {
    let encoding = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let limit = max as u64 + 1;
    let mut out = Vec::new();
    let result = match encoding.as_str() {
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(&wire[..])
            .take(limit)
            .read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(&wire[..])
            .take(limit)
            .read_to_end(&mut out),
        _ if wire.len() > max => return Err((413, Value::Null)),
        _ => return Ok(wire.clone()),
    };
    if let Err(e) = result {
        return Err((
            400,
            error_body(
                400,
                "illegal_argument_exception",
                &format!("failed to decode request body with content encoding [{encoding}]: {e}"),
            ),
        ));
    }
    if out.len() > max {
        return Err((413, Value::Null));
    }
    Ok(Bytes::from(out))
}

enum Auth {
    Ok,
    Missing,
    BadUser(String),
    BadCredentials,
}

fn check_auth(shared: &Shared, headers: &HeaderMap) -> Auth {
    let creds = shared.creds.read().unwrap();
    if creds.basic.is_none() && creds.api_key.is_none() {
        return Auth::Ok;
    }
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Auth::Missing;
    };
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let (user, pass) = decoded.split_once(':').unwrap_or((&decoded, ""));
        match &creds.basic {
            Some((u, p)) if u == user && p == pass => Auth::Ok,
            _ => Auth::BadUser(user.to_string()),
        }
    } else if scheme.eq_ignore_ascii_case("apikey") {
        match &creds.api_key {
            Some(k) if k == token => Auth::Ok,
            _ => Auth::BadCredentials,
        }
    } else {
        Auth::BadCredentials
    }
}

fn unauthorized(shared: &Shared, reason: &str) -> Reply {
    let challenges = [r#"Basic realm="security", charset="UTF-8""#, "ApiKey"];
    let header = json!({ "WWW-Authenticate": challenges });
    let body = json!({
        "error": {
            "root_cause": [{"type": "security_exception", "reason": reason, "header": header}],
            "type": "security_exception",
            "reason": reason,
            "header": header,
        },
        "status": 401,
    });
    let mut resp = json_reply(shared, 401, &body, None);
    for c in challenges {
        resp.headers_mut()
            .append("www-authenticate", HeaderValue::from_static(c));
    }
    resp
}

fn cluster_info(shared: &Shared) -> Value {
    json!({
        "name": "skiff-test-node",
        "cluster_name": "skiff-test",
        "cluster_uuid": "c2tpZmYtdGVzdC1jbHVzdGVy",
        "version": {
            "number": shared.opts.version_number,
            "build_flavor": "default",
            "build_type": "docker",
            "build_hash": "0000000000000000000000000000000000000000",
            "build_date": "2024-08-05T10:05:34.233336849Z",
            "build_snapshot": false,
            "lucene_version": "9.11.1",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    })
}

/// Query parameters the bulk endpoint accepts; others are rejected with 400
/// as Elasticsearch does.
const BULK_PARAMS: &[&str] = &[
    "pipeline",
    "refresh",
    "routing",
    "timeout",
    "wait_for_active_shards",
    "require_alias",
    "require_data_stream",
    "list_executed_pipelines",
    "include_source_on_error",
    "_source",
    "_source_includes",
    "_source_excludes",
    "filter_path",
    "pretty",
    "human",
    "error_trace",
];

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/x-ndjson",
    "application/vnd.elasticsearch+json",
    "application/vnd.elasticsearch+x-ndjson",
];

enum Route {
    Root,
    Bulk(Option<String>),
    Health,
    Unknown,
}

fn route(path: &str) -> Route {
    let segs: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    match segs.as_slice() {
        [""] => Route::Root,
        ["_bulk"] => Route::Bulk(None),
        [index, "_bulk"] => Route::Bulk(Some(percent_decode(index, false))),
        ["_cluster", "health"] => Route::Health,
        _ => Route::Unknown,
    }
}

fn method_not_allowed(shared: &Shared, path: &str, method: &Method, allowed: &str) -> Reply {
    let body = json!({
        "error": format!("Incorrect HTTP method for uri [{path}] and method [{method}], allowed: [{allowed}]"),
        "status": 405,
    });
    let mut resp = json_reply(shared, 405, &body, None);
    if let Ok(v) = HeaderValue::from_str(allowed) {
        resp.headers_mut().insert("allow", v);
    }
    resp
}

async fn handle(
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let seq = shared.request_seq.fetch_add(1, Ordering::SeqCst);
    let received_at = Instant::now();
    let (parts, body) = req.into_parts();
    let wire = match body.collect().await {
        Ok(c) => c.to_bytes(),
        // The client went away mid-body; nobody will read an answer.
        Err(_) => Bytes::new(),
    };
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let mut record = RecordedRequest {
        seq,
        received_at,
        method: parts.method.to_string(),
        path: path.clone(),
        query: query.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: Bytes::new(),
        wire_body_len: wire.len(),
        status: None,
    };
    let decoded = decode_body(&parts.headers, &wire, shared.opts.max_content_length);
    if shared.opts.record_bodies {
        record.body = match &decoded {
            Ok(b) => b.clone(),
            Err(_) => wire.clone(),
        };
    }

    let route = route(&path);
    let faults_apply = matches!(route, Route::Bulk(_)) || {
        let f = shared.faults.lock().unwrap();
        f.faults.all_endpoints
    };
    if faults_apply {
        let delay = shared.faults.lock().unwrap().faults.delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let drop_it = shared.faults.lock().unwrap().drop_connection();
        if drop_it {
            shared.requests.lock().unwrap().push(record);
            kill.notify_one();
            // The connection task drops the socket; this answer never goes out.
            return std::future::pending().await;
        }
    }

    let resp = respond(
        &shared,
        &parts.method,
        &path,
        query.as_deref(),
        &parts.headers,
        route,
        faults_apply,
        decoded,
    );
    record.status = Some(resp.status().as_u16());
    shared.requests.lock().unwrap().push(record);
    Ok(resp)
}

#[allow(clippy::too_many_arguments)]
fn respond(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    route: Route,
    faults_apply: bool,
    decoded: Result<Bytes, (u16, Value)>,
) -> Reply {
    let params = query_pairs(query.unwrap_or(""));
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let filter = param("filter_path");
    let uri = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };

    if let Err((413, _)) = decoded {
        return reply(shared, 413, Bytes::new(), false);
    }
    match check_auth(shared, headers) {
        Auth::Ok => {}
        Auth::Missing => {
            return unauthorized(
                shared,
                &format!("missing authentication credentials for REST request [{uri}]"),
            )
        }
        Auth::BadUser(user) => {
            return unauthorized(
                shared,
                &format!("unable to authenticate user [{user}] for REST request [{uri}]"),
            )
        }
        Auth::BadCredentials => {
            return unauthorized(
                shared,
                "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
            )
        }
    }
    if faults_apply {
        let fault = shared.faults.lock().unwrap().request_status();
        match fault {
            RequestFault::Status503 => {
                let reason =
                    "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];";
                return json_reply(
                    shared,
                    503,
                    &error_body(503, "cluster_block_exception", reason),
                    filter,
                );
            }
            RequestFault::Status429 => {
                let reason = "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=0, max_coordinating_and_primary_bytes=0]";
                return json_reply(
                    shared,
                    429,
                    &error_body(429, "es_rejected_execution_exception", reason),
                    filter,
                );
            }
            RequestFault::None => {}
        }
    }

    match route {
        Route::Root => match *method {
            Method::GET => json_reply(shared, 200, &cluster_info(shared), filter),
            Method::HEAD => reply(shared, 200, Bytes::new(), true),
            _ => method_not_allowed(shared, path, method, "HEAD, GET"),
        },
        Route::Health if *method == Method::GET => {
            let body = json!({
                "cluster_name": "skiff-test",
                "status": "green",
                "timed_out": false,
                "number_of_nodes": 1,
                "number_of_data_nodes": 1,
            });
            json_reply(shared, 200, &body, filter)
        }
        Route::Bulk(index) => {
            if *method != Method::POST && *method != Method::PUT {
                return method_not_allowed(shared, path, method, "POST, PUT");
            }
            let content_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let mime = content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if !CONTENT_TYPES.contains(&mime.as_str()) {
                let msg = if content_type.is_empty() {
                    "Content-Type header is missing".to_string()
                } else {
                    format!("Content-Type header [{content_type}] is not supported")
                };
                return json_reply(shared, 406, &json!({"error": msg, "status": 406}), None);
            }
            if let Some((k, _)) = params
                .iter()
                .find(|(k, _)| !BULK_PARAMS.contains(&k.as_str()))
            {
                let reason = format!("request [{path}] contains unrecognized parameter: [{k}]");
                return json_reply(
                    shared,
                    400,
                    &error_body(400, "illegal_argument_exception", &reason),
                    filter,
                );
            }
            let body = match decoded {
                Ok(b) => b,
                Err((status, body)) => return json_reply(shared, status, &body, filter),
            };
            match super::bulk::handle(shared, &body, index.as_deref(), param("pipeline")) {
                Ok(text) => match filter {
                    Some(f) => {
                        let full: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                        json_reply(shared, 200, &full, Some(f))
                    }
                    None => reply(shared, 200, Bytes::from(text), true),
                },
                Err((status, body)) => json_reply(shared, status, &body, filter),
            }
        }
        _ => {
            let body = json!({
                "error": format!("no handler found for uri [{uri}] and method [{method}]"),
                "status": 400,
            });
            json_reply(shared, 400, &body, None)
        }
    }
}
