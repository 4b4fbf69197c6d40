//! Vector's `http` sink as skiff's: uri, method, encoding (a JSON array, NDJSON or text),
//! compression, auth (basic or bearer), headers, request, TLS, batch and retry options.

use super::elasticsearch::{choice, headers, set_rows, tables, REQUEST};
use crate::migrate::ir::{Ctx, Item, Severity, Val};
use crate::migrate::vector::keys::Keys;
use crate::migrate::vector::values::text;

/// The `http` sink's options.
pub fn http(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    match keys.take("uri").and_then(|(n, _)| text(n)) {
        Some(uri) => items.push(Item::Key("uri".into(), Val::interp(uri))),
        None => {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(keys.line),
                "uri",
                "not set: Vector's sink needs one; fill in uri before use",
            );
            items.push(Item::Comment(c));
            items.push(Item::Key("uri".into(), Val::text("http://localhost/")));
        }
    }
    choice(
        ctx,
        keys,
        items,
        ("method", "method"),
        &["post", "put"],
        "skiff sends with POST or PUT only; POST was kept",
    );
    encoding(ctx, keys, items);
    request(ctx, keys, items);
}

/// The options the `http` and `clickhouse` sinks share: compression, request, headers, auth,
/// TLS, batch and retry.
pub fn request(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
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

/// `encoding.codec` and `framing.method`: `json` is a JSON array unless the framing is
/// newline-delimited (NDJSON); `ndjson` is NDJSON; `text` text lines. Others are warnings,
/// and NDJSON is written.
fn encoding(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    let codec = keys
        .take("encoding.codec")
        .or_else(|| keys.take("encoding"));
    let framing = keys.take("framing.method");
    let framed = framing.and_then(|(n, _)| text(n));
    let encoding = match (
        codec.and_then(|(n, _)| text(n)).as_deref(),
        framed.as_deref(),
    ) {
        (Some("json"), None) => "json_array",
        (Some("json"), Some("newline_delimited")) | (Some("ndjson"), None) => "ndjson",
        (Some("text"), None | Some("newline_delimited")) => "text",
        (c, f) => {
            let line = codec.or(framing).map_or(keys.line, |(_, l)| l);
            let what = match f {
                Some(f) => format!(
                    "encoding.codec = {}, framing.method = {f}",
                    c.unwrap_or("?")
                ),
                None => format!("encoding.codec = {}", c.unwrap_or("?")),
            };
            let note = ctx.note(
                Severity::Warning,
                &keys.place(line),
                &what,
                "skiff sends NDJSON, a JSON array or text lines; NDJSON was written",
            );
            items.push(Item::Comment(note));
            "ndjson"
        }
    };
    items.push(Item::Key("encoding".into(), Val::text(encoding)));
}

/// `auth.strategy` `basic` (user, password) or `bearer` (token) as the `auth` table.
fn auth(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    let strategy = keys.take("auth.strategy");
    let mut t = Vec::new();
    for (key, to) in [
        ("auth.user", "user"),
        ("auth.password", "password"),
        ("auth.token", "token"),
    ] {
        if let Some(v) = keys.take(key).and_then(|(n, _)| text(n)) {
            t.push((to.to_owned(), Val::interp(v)));
        }
    }
    if let Some((n, line)) = strategy {
        let s = text(n).unwrap_or_default();
        if s != "basic" && s != "bearer" {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(line),
                &format!("auth.strategy = {s}"),
                "skiff authenticates with basic auth or a bearer token; left out",
            );
            items.push(Item::Comment(c));
            return;
        }
    }
    if !t.is_empty() {
        items.push(Item::Key("auth".into(), Val::Table(t)));
    }
}
