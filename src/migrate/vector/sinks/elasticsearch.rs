//! Vector's `elasticsearch` sink as skiff's: endpoints, index or data stream, action,
//! pipeline, id, compression, request options, headers, auth, TLS, batch and retry.
//!
//! Most options map one to one: they are rows of the tables below, read by `Read`.

use crate::migrate::ir::{Ctx, Item, Severity, Val};
use crate::migrate::translate::with_scheme;
use crate::migrate::tree::{Kind, Node};
use crate::migrate::vector::keys::Keys;
use crate::migrate::vector::values::{secs, text, texts};

/// How an option's value reads.
#[derive(Debug, Clone, Copy)]
pub enum Read {
    /// A string (environment variables kept).
    Text,
    Bool,
    Int,
    /// Seconds, as a skiff duration.
    Secs,
}

impl Read {
    fn val(self, node: &Node) -> Option<Val> {
        match (self, &node.kind) {
            (Read::Text, _) => text(node).map(Val::interp),
            (Read::Bool, Kind::Bool(b)) => Some(Val::Bool(*b)),
            (Read::Int, Kind::Int(i)) => Some(Val::Int(*i)),
            (Read::Secs, _) => secs(node, false),
            _ => None,
        }
    }
}

/// Options mapped one to one: the Vector key, the skiff key, and how the value reads.
pub type Row = (&'static str, &'static str, Read);

const PIPELINE_AND_ID: &[Row] = &[
    ("pipeline", "pipeline", Read::Text),
    ("id_key", "id_field", Read::Text),
];

pub const REQUEST: &[Row] = &[
    ("request.timeout_secs", "request_timeout", Read::Secs),
    ("request.concurrency", "max_in_flight", Read::Int),
];

/// The sink's tables, in the order they are written.
pub const TABLES: &[(&str, &[Row])] = &[
    (
        "tls",
        &[
            ("tls.ca_file", "ca_file", Read::Text),
            ("tls.crt_file", "crt_file", Read::Text),
            ("tls.key_file", "key_file", Read::Text),
            ("tls.verify_certificate", "verify", Read::Bool),
        ],
    ),
    (
        "batch",
        &[
            ("batch.max_events", "max_events", Read::Int),
            ("batch.max_bytes", "max_bytes", Read::Int),
            ("batch.timeout_secs", "timeout", Read::Secs),
        ],
    ),
    (
        "retry",
        &[
            (
                "request.retry_initial_backoff_secs",
                "initial_backoff",
                Read::Secs,
            ),
            ("request.retry_max_duration_secs", "max_backoff", Read::Secs),
        ],
    ),
];

/// The `elasticsearch` sink's options.
pub fn elasticsearch(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    endpoints(ctx, keys, items);
    index(keys, items);
    choice(
        ctx,
        keys,
        items,
        ("bulk.action", "action"),
        &["create", "index"],
        "skiff writes with create or index only; left out",
    );
    set_rows(keys, items, PIPELINE_AND_ID);
    choice(
        ctx,
        keys,
        items,
        ("compression", "compression"),
        &["gzip", "none"],
        "skiff compresses with gzip or not at all; left out",
    );
    set_rows(keys, items, REQUEST);
    headers(keys, items);
    auth(ctx, keys, items);
    tables(keys, items);
}

/// `request.headers.*` as the `headers` table.
pub fn headers(keys: &mut Keys, items: &mut Vec<Item>) {
    let headers: Vec<(String, Val)> = keys
        .take_prefix("request.headers")
        .into_iter()
        .filter_map(|(k, n, _)| text(n).map(|v| (k, Val::interp(v))))
        .collect();
    set_table(items, "headers", headers);
}

/// The `tls`, `batch` and `retry` tables, shared with the `http` sink.
pub fn tables(keys: &mut Keys, items: &mut Vec<Item>) {
    for (name, rows) in TABLES {
        let entries = rows
            .iter()
            .filter_map(|(key, to, read)| {
                let v = keys.take(key).and_then(|(n, _)| read.val(n))?;
                Some(((*to).to_owned(), v))
            })
            .collect();
        set_table(items, name, entries);
    }
}

/// Sets each row whose key is present and reads.
pub fn set_rows(keys: &mut Keys, items: &mut Vec<Item>, rows: &[Row]) {
    for (key, to, read) in rows {
        if let Some(v) = keys.take(key).and_then(|(n, _)| read.val(n)) {
            items.push(Item::Key((*to).into(), v));
        }
    }
}

/// Sets `key` to a table, unless it is empty.
pub fn set_table(items: &mut Vec<Item>, key: &str, entries: Vec<(String, Val)>) {
    if !entries.is_empty() {
        items.push(Item::Key(key.into(), Val::Table(entries)));
    }
}

/// An option whose value must be one of `allowed`; any other is left out with `why`.
pub fn choice(
    ctx: &mut Ctx,
    keys: &mut Keys,
    items: &mut Vec<Item>,
    (key, to): (&str, &str),
    allowed: &[&str],
    why: &str,
) {
    let Some((n, line)) = keys.take(key) else {
        return;
    };
    match text(n) {
        Some(v) if allowed.contains(&v.as_str()) => items.push(Item::Key(to.into(), Val::text(&v))),
        other => {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(line),
                &format!("{key} = {}", other.as_deref().unwrap_or("?")),
                why,
            );
            items.push(Item::Comment(c));
        }
    }
}

/// `endpoints` (or `endpoint`); Vector needs one, so its absence is a warning.
fn endpoints(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    let endpoints = keys
        .take("endpoints")
        .or_else(|| keys.take("endpoint"))
        .and_then(|(n, line)| texts(n).map(|t| (t, line)));
    let list = match endpoints {
        Some((e, line)) => e
            .into_iter()
            .map(|e| match with_scheme(&e) {
                Some(url) => {
                    let c = ctx.note(
                        Severity::Note,
                        &keys.place(line),
                        "endpoints",
                        &format!("`{e}` has no scheme: written {url}, as Vector assumes http"),
                    );
                    items.push(Item::Comment(c));
                    Val::interp(url)
                }
                None => Val::interp(e),
            })
            .collect(),
        None => {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(keys.line),
                "endpoints",
                "not set: Vector's sink needs one; fill in endpoints before use",
            );
            items.push(Item::Comment(c));
            vec![Val::text("http://localhost:9200")]
        }
    };
    items.push(Item::Key("endpoints".into(), Val::List(list)));
}

/// The index (unless the mode is `data_stream`), the mode, and the data stream.
fn index(keys: &mut Keys, items: &mut Vec<Item>) {
    let mode = keys.take("mode").and_then(|(n, _)| text(n));
    let index = keys
        .take("bulk.index")
        .or_else(|| keys.take("index"))
        .and_then(|(n, _)| text(n));
    if mode.as_deref() != Some("data_stream") {
        let index = index.unwrap_or_else(|| "vector-%Y.%m.%d".into());
        items.push(Item::Key("index".into(), Val::interp(index)));
    }
    if let Some(m) = mode {
        items.push(Item::Key("mode".into(), Val::interp(m)));
    }
    let ds: Vec<(String, Val)> = ["type", "dataset", "namespace"]
        .iter()
        .filter_map(|k| {
            keys.take(&format!("data_stream.{k}"))
                .and_then(|(n, _)| text(n))
                .map(|v| (k.to_string(), Val::interp(v)))
        })
        .collect();
    set_table(items, "data_stream", ds);
}

/// `auth.user` and `auth.password` as the `auth` table, when the strategy is basic.
fn auth(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    let strategy = keys.take("auth.strategy");
    let user = keys.take("auth.user").and_then(|(n, _)| text(n));
    let password = keys.take("auth.password").and_then(|(n, _)| text(n));
    match strategy {
        Some((n, line)) if text(n).as_deref() != Some("basic") => {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(line),
                &format!("auth.strategy = {}", text(n).unwrap_or_default()),
                "skiff authenticates with basic auth or an API key; left out",
            );
            items.push(Item::Comment(c));
        }
        _ => {
            let mut t = Vec::new();
            if let Some(u) = user {
                t.push(("user".to_owned(), Val::interp(u)));
            }
            if let Some(p) = password {
                t.push(("password".to_owned(), Val::interp(p)));
            }
            if !t.is_empty() {
                items.push(Item::Key("auth".into(), Val::Table(t)));
            }
        }
    }
}
