//! Vector sinks as skiff sinks: `elasticsearch` ([`elasticsearch`]), `console` ([`console`]),
//! `http` ([`http`]), `file` ([`mod@file`]) and `blackhole` become their skiff namesakes,
//! `clickhouse` an `http` sink ([`clickhouse`]); other sinks are left out with a warning.
//!
//! To convert another sink, write its options converter (a [`Convert`]) and add it to
//! [`SINKS`].

pub mod clickhouse;
pub mod console;
pub mod elasticsearch;
pub mod file;
pub mod http;

use super::graph::{Comp, Graph};
use super::keys::{report_rest, Keys, COMMON_NOTES};
use super::values::text;
use crate::migrate::ir::{Component, Ctx, Item, Severity, Val};
use crate::migrate::tree::Kind;

/// Converts a sink's options (other than `type`, `inputs` and `healthcheck`) into items.
pub type Convert = fn(&mut Ctx, &mut Keys, &mut Vec<Item>);

/// The sinks skiff converts: Vector type, skiff type, and the converter of its options.
pub const SINKS: &[(&str, &str, Option<Convert>)] = &[
    (
        "elasticsearch",
        "elasticsearch",
        Some(elasticsearch::elasticsearch),
    ),
    ("console", "console", Some(console::console)),
    ("http", "http", Some(http::http)),
    ("file", "file", Some(file::file)),
    ("clickhouse", "http", Some(clickhouse::clickhouse)),
    ("blackhole", "blackhole", None),
];

/// Sink options skiff needs no setting for, with the reason (after [`COMMON_NOTES`]).
const NOTES: &[(&str, &str)] = &[
    (
        "print_interval_secs",
        "skiff's metrics count what the blackhole drops",
    ),
    ("rate", "skiff's blackhole takes what comes"),
    (
        "encoding.timestamp_format",
        "skiff writes timestamps in RFC 3339",
    ),
    (
        "api_version",
        "skiff talks to Elasticsearch 7 and 8 and never sends a mapping type",
    ),
    ("doc_type", "skiff never sends a mapping type (_type)"),
    (
        "suppress_type_name",
        "skiff never sends a mapping type (_type)",
    ),
    (
        "data_stream.auto_routing",
        "skiff routes to the configured data stream",
    ),
    (
        "data_stream.sync_fields",
        "skiff routes to the configured data stream",
    ),
    (
        "request.retry_attempts",
        "skiff retries forever with backoff: the file is the buffer",
    ),
    (
        "request.rate_limit_num",
        "skiff sends as fast as Elasticsearch accepts (max_in_flight)",
    ),
    (
        "request.rate_limit_duration_secs",
        "skiff sends as fast as Elasticsearch accepts (max_in_flight)",
    ),
    (
        "request.adaptive_concurrency",
        "skiff uses a fixed max_in_flight",
    ),
    (
        "distribution",
        "skiff sends to the endpoints in turn and retries on the next",
    ),
    ("healthcheck", "skiff checks the cluster once at start"),
];

/// Converts sink `c`, reading from the skiff components `inputs`.
pub fn sink(ctx: &mut Ctx, g: &mut Graph, c: Comp, inputs: Vec<String>) {
    let name = c.name;
    let mut keys = Keys::new(c.node, g.file.clone(), c.line);
    keys.take("inputs");
    let kind = keys
        .take("type")
        .and_then(|(n, _)| text(n))
        .unwrap_or_default();
    let place = keys.place(c.line);
    let own = g.own_name(name);
    let leading = g.pending.remove(name).unwrap_or_default();
    let Some(&(_, skiff_kind, convert)) = SINKS.iter().find(|(k, _, _)| *k == kind) else {
        let note = ctx.note(
            Severity::Warning,
            &place,
            &format!("[sinks.{name}] type = \"{kind}\""),
            "skiff ships to Elasticsearch, HTTP, files and stdout only; left out",
        );
        ctx.doc.footer.extend(leading);
        ctx.doc.footer.push(note);
        return;
    };
    if inputs.is_empty() {
        let note = ctx.note(
            Severity::Warning,
            &place,
            &format!("[sinks.{name}]"),
            "none of its inputs could be converted; left out",
        );
        ctx.doc.footer.extend(leading);
        ctx.doc.footer.push(note);
        return;
    }
    let mut sink = Component::new(own, skiff_kind, inputs);
    sink.leading = leading;
    sink.leading.push(format!(
        "From [sinks.{name}] {kind} ({}).",
        ctx.place_text(&place)
    ));
    let mut items = Vec::new();
    if let Some(convert) = convert {
        convert(ctx, &mut keys, &mut items);
    }
    let healthcheck = keys
        .take("healthcheck.enabled")
        .or_else(|| keys.take("healthcheck"));
    if let Some((n, _)) = healthcheck {
        if let Kind::Bool(b) = n.kind {
            items.push(Item::Key("healthcheck".into(), Val::Bool(b)));
        }
    }
    let mut notes = COMMON_NOTES.to_vec();
    notes.extend_from_slice(NOTES);
    report_rest(ctx, &mut keys, &mut items, &notes);
    sink.items.extend(items);
    ctx.doc.sinks.push(sink);
}
