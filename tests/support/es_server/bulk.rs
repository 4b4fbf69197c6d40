//! The `_bulk` endpoint of the test Elasticsearch server: NDJSON parsing,
//! request validation and the response body.
//!
//! As in Elasticsearch, the whole body is parsed and validated first, so a
//! request-level error (missing final newline, malformed action line, unknown
//! action parameter such as `_type`) writes nothing; then each item is applied
//! in order and reported in the same order, failures included.

use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::store::{EsError, Outcome, Store, WriteOp};
use super::Shared;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Create,
    Index,
    Update,
    Delete,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Index => "index",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

struct Item<'a> {
    op: Op,
    index: String,
    id: Option<String>,
    pipeline: Option<String>,
    source: &'a [u8],
}

/// Action-line parameters Elasticsearch accepts but the test server ignores.
const IGNORED_PARAMS: &[&str] = &[
    "routing",
    "version",
    "version_type",
    "if_seq_no",
    "if_primary_term",
    "require_alias",
    "require_data_stream",
    "dynamic_templates",
    "retry_on_conflict",
    "_source",
    "list_executed_pipelines",
];

/// `{"error":{"root_cause":[..],"type","reason"},"status"}`, Elasticsearch's
/// request-level error body.
pub(crate) fn error_body(status: u16, ty: &str, reason: &str) -> Value {
    json!({
        "error": {
            "root_cause": [{"type": ty, "reason": reason}],
            "type": ty,
            "reason": reason,
        },
        "status": status,
    })
}

fn bad_request(ty: &str, reason: impl Into<String>) -> (u16, Value) {
    (400, error_body(400, ty, &reason.into()))
}

fn malformed(line: usize, what: &str) -> (u16, Value) {
    bad_request(
        "illegal_argument_exception",
        format!("Malformed action/metadata line [{line}], {what}"),
    )
}

fn token_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "VALUE_NULL",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Number(_) => "VALUE_NUMBER",
        Value::String(_) => "VALUE_STRING",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parses and validates a whole bulk body.
fn parse<'a>(
    body: &'a [u8],
    path_index: Option<&str>,
    query_pipeline: Option<&str>,
) -> Result<Vec<Item<'a>>, (u16, Value)> {
    if body.is_empty() {
        return Err(bad_request("parse_exception", "request body is required"));
    }
    if body.last() != Some(&b'\n') {
        return Err(bad_request(
            "illegal_argument_exception",
            "The bulk request must be terminated by a newline [\\n]",
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad_request(
            "action_request_validation_exception",
            "Validation Failed: 1: no requests added;",
        ));
    }
    let mut lines = body[..body.len() - 1].split(|b| *b == b'\n').enumerate();
    let mut items = Vec::new();
    let mut validation = Vec::new();
    while let Some((n, line)) = lines.next() {
        let line_no = n + 1;
        let action: Value = serde_json::from_slice(line).map_err(|e| {
            bad_request(
                "x_content_parse_exception",
                format!("[{}:{}] {e}", e.line(), e.column()),
            )
        })?;
        let Value::Object(action) = action else {
            return Err(malformed(
                line_no,
                &format!("expected START_OBJECT but found [{}]", token_name(&action)),
            ));
        };
        let mut entries = action.into_iter();
        let Some((op_name, meta)) = entries.next() else {
            return Err(malformed(
                line_no,
                "expected FIELD_NAME but found [END_OBJECT]",
            ));
        };
        if entries.next().is_some() {
            return Err(malformed(
                line_no,
                "expected END_OBJECT but found [FIELD_NAME]",
            ));
        }
        let op = match op_name.as_str() {
            "create" => Op::Create,
            "index" => Op::Index,
            "update" => Op::Update,
            "delete" => Op::Delete,
            other => {
                return Err(malformed(
                    line_no,
                    &format!(
                        "expected field [create], [delete], [index] or [update] but found [{other}]"
                    ),
                ))
            }
        };
        let Value::Object(meta) = meta else {
            return Err(malformed(
                line_no,
                &format!("expected START_OBJECT but found [{}]", token_name(&meta)),
            ));
        };
        let (mut index, mut id, mut pipeline) = (None, None, None);
        for (key, value) in &meta {
            let slot = match key.as_str() {
                "_index" => &mut index,
                "_id" => &mut id,
                "pipeline" => &mut pipeline,
                k if IGNORED_PARAMS.contains(&k) => continue,
                other => {
                    return Err(bad_request(
                        "illegal_argument_exception",
                        format!(
                        "Action/metadata line [{line_no}] contains an unknown parameter [{other}]"
                    ),
                    ))
                }
            };
            *slot = Some(scalar_text(value).ok_or_else(|| {
                bad_request(
                    "illegal_argument_exception",
                    format!(
                        "Malformed action/metadata line [{line_no}], expected a simple value for field [{key}] but found [{}]",
                        token_name(value)
                    ),
                )
            })?);
        }
        let index = index.or_else(|| path_index.map(str::to_string));
        if index.is_none() {
            validation.push("index is missing".to_string());
        }
        match &id {
            Some(id) if id.is_empty() => {
                validation.push("if _id is specified it must not be empty".to_string())
            }
            Some(id) if id.len() > 512 => validation.push(format!(
                "id [{id}] is too long, must be no longer than 512 bytes but was: {}",
                id.len()
            )),
            None if matches!(op, Op::Update | Op::Delete) => {
                validation.push("id is missing".to_string())
            }
            _ => {}
        }
        let source: &[u8] = if op == Op::Delete {
            b""
        } else {
            match lines.next() {
                Some((_, src)) => src,
                None => {
                    return Err(malformed(
                        line_no,
                        "expected a source line after it but the request ended",
                    ))
                }
            }
        };
        items.push(Item {
            op,
            index: index.unwrap_or_default(),
            id,
            pipeline: pipeline.or_else(|| query_pipeline.map(str::to_string)),
            source,
        });
    }
    if !validation.is_empty() {
        let mut reason = "Validation Failed: ".to_string();
        for (i, v) in validation.iter().enumerate() {
            reason.push_str(&format!("{}: {v};", i + 1));
        }
        return Err(bad_request("action_request_validation_exception", reason));
    }
    Ok(items)
}

/// Handles a `_bulk` body: the response body text on success (status 200,
/// written directly rather than through `serde_json::Value`, since it can
/// hold hundreds of thousands of items), or a request-level error.
pub(crate) fn handle(
    shared: &Shared,
    body: &[u8],
    path_index: Option<&str>,
    query_pipeline: Option<&str>,
) -> Result<String, (u16, Value)> {
    let started = Instant::now();
    let items = parse(body, path_index, query_pipeline)?;
    shared
        .bulk_items
        .fetch_add(items.len() as u64, Ordering::SeqCst);
    let rejected: Vec<bool> = {
        let mut faults = shared.faults.lock().unwrap();
        items.iter().map(|_| faults.reject_item()).collect()
    };

    let mut out = String::with_capacity(items.len() * 192 + 64);
    let mut errors = false;
    let mut store = shared.store.lock().unwrap();
    for (n, (item, rejected)) in items.iter().zip(rejected).enumerate() {
        let outcome = apply(shared, &mut store, item, rejected);
        errors |= outcome.error.is_some();
        if n > 0 {
            out.push(',');
        }
        let uuid = store.index_uuid(&item.index).unwrap_or("_na_");
        write_item(&mut out, item.op.name(), &outcome, uuid);
    }
    drop(store);
    Ok(format!(
        "{{\"took\":{},\"errors\":{errors},\"items\":[{out}]}}",
        started.elapsed().as_millis()
    ))
}

fn apply(shared: &Shared, store: &mut Store, item: &Item<'_>, rejected: bool) -> Outcome {
    let mut id = || item.id.clone().unwrap_or_else(|| store.generate_id());
    if rejected {
        let id = id();
        return store.reject(
            &item.index,
            &id,
            EsError::new(
                429,
                "es_rejected_execution_exception",
                "rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, primary_operation_bytes=0, max_coordinating_and_primary_bytes=0]",
            ),
        );
    }
    let missing_pipeline = item.pipeline.as_deref().filter(|p| {
        *p != "_none"
            && shared
                .opts
                .pipelines
                .as_ref()
                .is_some_and(|known| !known.iter().any(|k| k == p))
    });
    if let Some(missing) = missing_pipeline {
        let id = id();
        return store.reject(
            &item.index,
            &id,
            EsError::new(
                400,
                "illegal_argument_exception",
                format!("pipeline with id [{missing}] does not exist"),
            ),
        );
    }
    let source = match std::str::from_utf8(item.source) {
        Ok(s) => s,
        Err(e) => {
            let id = id();
            return store.parse_failure(&item.index, &id, &format!("[1:1] failed to parse: {e}"));
        }
    };
    let id = item.id.as_deref();
    match item.op {
        Op::Create => store.write(WriteOp::Create, &item.index, id, source),
        Op::Index => store.write(WriteOp::Index, &item.index, id, source),
        Op::Delete => store.delete(&item.index, id.unwrap_or_default()),
        Op::Update => match serde_json::from_str::<Value>(source) {
            Ok(Value::Object(body)) => store.update(&item.index, id.unwrap_or_default(), &body),
            Ok(_) => store.parse_failure(
                &item.index,
                id.unwrap_or_default(),
                "[1:1] failed to parse: Malformed content, must start with an object",
            ),
            Err(e) => store.parse_failure(
                &item.index,
                id.unwrap_or_default(),
                &format!("[{}:{}] failed to parse: {e}", e.line(), e.column()),
            ),
        },
    }
}

/// Appends `s` as a JSON string.
fn push_str(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&Value::from(s).to_string());
    }
}

/// Appends one response item, `{"<op>":{...}}`, in Elasticsearch's shape.
fn write_item(out: &mut String, op: &str, o: &Outcome, uuid: &str) {
    use std::fmt::Write as _;
    out.push_str("{\"");
    out.push_str(op);
    out.push_str("\":{\"_index\":");
    push_str(out, &o.index);
    out.push_str(",\"_id\":");
    push_str(out, &o.id);
    match &o.error {
        None => {
            let _ = write!(
                out,
                ",\"_version\":{},\"result\":\"{}\",\"_shards\":{{\"total\":2,\"successful\":1,\"failed\":0}},\"_seq_no\":{},\"_primary_term\":1,\"status\":{}}}}}",
                o.version, o.result, o.seq_no, o.status
            );
        }
        Some(e) => {
            let _ = write!(out, ",\"status\":{},\"error\":{{\"type\":", o.status);
            push_str(out, &e.ty);
            out.push_str(",\"reason\":");
            push_str(out, &e.reason);
            if let Some((ty, reason)) = &e.caused_by {
                out.push_str(",\"caused_by\":{\"type\":");
                push_str(out, ty);
                out.push_str(",\"reason\":");
                push_str(out, reason);
                out.push('}');
            }
            if e.status != 429 {
                out.push_str(",\"index_uuid\":");
                push_str(out, uuid);
                out.push_str(",\"shard\":\"0\",\"index\":");
                push_str(out, &o.index);
            }
            out.push_str("}}}");
        }
    }
}

/// Applies a `filter_path` query parameter (comma-separated dotted paths,
/// `*` matching within a segment, `**` any depth; arrays are transparent)
/// to a response body, as Elasticsearch does.
pub(crate) fn filter_path(v: &Value, filter: &str) -> Value {
    let patterns: Vec<Vec<&str>> = filter
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.starts_with('-'))
        .map(|p| p.split('.').collect())
        .collect();
    if patterns.is_empty() {
        return v.clone();
    }
    let refs: Vec<&[&str]> = patterns.iter().map(Vec::as_slice).collect();
    filter_value(v, &refs).unwrap_or_else(|| json!({}))
}

fn filter_value(v: &Value, patterns: &[&[&str]]) -> Option<Value> {
    if patterns.iter().any(|p| p.is_empty()) {
        return Some(v.clone());
    }
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, child) in map {
                let mut next: Vec<&[&str]> = Vec::new();
                for p in patterns {
                    if p[0] == "**" {
                        next.push(p);
                        if p.len() == 1 {
                            next.push(&p[1..]);
                        } else if super::glob_match(p[1], k) {
                            next.push(&p[2..]);
                        }
                    } else if super::glob_match(p[0], k) {
                        next.push(&p[1..]);
                    }
                }
                if next.is_empty() {
                    continue;
                }
                if let Some(f) = filter_value(child, &next) {
                    out.insert(k.clone(), f);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .filter_map(|i| filter_value(i, patterns))
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        _ => None,
    }
}
