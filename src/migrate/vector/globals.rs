//! Vector's global options: `data_dir`, the `api` (as skiff's `[api]`), and notes for the
//! rest.

use std::path::PathBuf;
use std::sync::Arc;

use super::keys::{report_rest, Keys};
use super::values::text;
use crate::migrate::ir::{Ctx, Item, Severity, Val};
use crate::migrate::tree::{Kind, Node};

/// Global options skiff needs no setting for, with the reason.
const NOTES: &[(&str, &str)] = &[
    ("api.playground", "skiff has no GraphQL playground"),
    (
        "acknowledgements",
        "skiff acknowledges every event end to end, always",
    ),
    (
        "healthchecks",
        "set `healthcheck` on each elasticsearch sink",
    ),
    (
        "expire_metrics_secs",
        "skiff's metrics are fixed per component",
    ),
];

/// Converts the options outside `sources`, `transforms` and `sinks`.
pub fn globals(root: &Node, file: &Arc<PathBuf>, ctx: &mut Ctx) {
    let mut keys = Keys::new(root, file.clone(), 1);
    keys.take_prefix("sources");
    keys.take_prefix("transforms");
    keys.take_prefix("sinks");
    for k in ["sources", "transforms", "sinks"] {
        keys.take(k);
    }
    if let Some((n, _)) = keys.take("data_dir") {
        if let Some(s) = text(n) {
            ctx.doc
                .globals
                .push(Item::Key("data_dir".into(), Val::interp(s)));
        }
    }
    if let Some((n, _)) = keys.take("api.enabled") {
        if let Kind::Bool(b) = n.kind {
            ctx.doc.api.push(Item::Key("enabled".into(), Val::Bool(b)));
        }
    }
    if let Some((n, line)) = keys.take("api.address") {
        if let Some(s) = text(n) {
            ctx.doc
                .api
                .push(Item::Key("address".into(), Val::interp(s)));
            let c = ctx.note(
                Severity::Note,
                &keys.place(line),
                "api",
                "skiff serves /health, /ready and /metrics (Prometheus); there is no GraphQL API",
            );
            ctx.doc.api.push(Item::Comment(c));
        }
    }
    let mut items = Vec::new();
    report_rest(ctx, &mut keys, &mut items, NOTES);
    ctx.doc.globals.extend(items);
}
