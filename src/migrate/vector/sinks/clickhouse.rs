//! Vector's `clickhouse` sink as skiff's `http` sink: endpoint, database and table become the
//! URI of ClickHouse's HTTP interface with `INSERT INTO db.table FORMAT JSONEachRow`, NDJSON
//! rows, gzip (Vector's default); auth, TLS, batch and request options as for `http`.

use super::http::request;
use crate::migrate::ir::{Ctx, Item, Severity, Val};
use crate::migrate::translate::with_scheme;
use crate::migrate::tree::Kind;
use crate::migrate::vector::keys::Keys;
use crate::migrate::vector::values::text;

/// The `clickhouse` sink's options.
pub fn clickhouse(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    let endpoint = keys.take("endpoint").and_then(|(n, _)| text(n));
    let endpoint = match endpoint {
        Some(e) => with_scheme(&e).unwrap_or(e),
        None => {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(keys.line),
                "endpoint",
                "not set: Vector's sink needs one; fill in the uri before use",
            );
            items.push(Item::Comment(c));
            "http://localhost:8123".to_owned()
        }
    };
    let database = keys
        .take("database")
        .and_then(|(n, _)| text(n))
        .unwrap_or_else(|| "default".into());
    let table = keys
        .take("table")
        .and_then(|(n, _)| text(n))
        .unwrap_or_else(|| "logs".into());
    if let Some((n, line)) = keys.take("format") {
        let f = text(n).unwrap_or_default();
        if f != "json_each_row" {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(line),
                &format!("format = {f}"),
                "skiff inserts with FORMAT JSONEachRow; left out",
            );
            items.push(Item::Comment(c));
        }
    }
    let mut uri = format!(
        "{}/?query=INSERT INTO {database}.{table} FORMAT JSONEachRow",
        endpoint.trim_end_matches('/')
    );
    for (key, setting) in [
        ("skip_unknown_fields", "input_format_skip_unknown_fields=1"),
        (
            "date_time_best_effort",
            "date_time_input_format=best_effort",
        ),
    ] {
        if let Some((n, _)) = keys.take(key) {
            if matches!(n.kind, Kind::Bool(true)) {
                uri.push('&');
                uri.push_str(setting);
            }
        }
    }
    items.push(Item::Key("uri".into(), Val::interp(uri)));
    items.push(Item::Key("encoding".into(), Val::text("ndjson")));
    // Vector's `clickhouse` sink compresses with gzip unless told otherwise.
    if !keys.has("compression") {
        items.push(Item::Key("compression".into(), Val::text("gzip")));
    }
    request(ctx, keys, items);
}
