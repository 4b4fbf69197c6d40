//! Vector's `file` sink as skiff's: the path (Vector's template syntax, strftime specifiers on
//! the event time in UTC and `{{ field }}`, is skiff's) and the encoding.

use crate::migrate::ir::{Ctx, Item, Severity, Val};
use crate::migrate::vector::keys::Keys;
use crate::migrate::vector::values::text;

/// The `file` sink's options.
pub fn file(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    match keys.take("path").and_then(|(n, _)| text(n)) {
        Some(p) => items.push(Item::Key("path".into(), Val::interp(p))),
        None => {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(keys.line),
                "path",
                "not set: Vector's sink needs one; fill in path before use",
            );
            items.push(Item::Comment(c));
            items.push(Item::Key("path".into(), Val::text("vector-%Y-%m-%d.log")));
        }
    }
    let codec = keys
        .take("encoding.codec")
        .or_else(|| keys.take("encoding"));
    let encoding = match codec.map(|(n, l)| (text(n), l)) {
        Some((Some(c), _)) if c == "json" || c == "ndjson" => "ndjson",
        Some((Some(c), _)) if c == "text" => "text",
        Some((c, line)) => {
            let note = ctx.note(
                Severity::Warning,
                &keys.place(line),
                &format!("encoding.codec = {}", c.as_deref().unwrap_or("?")),
                "skiff writes JSON lines or text lines; JSON lines were written",
            );
            items.push(Item::Comment(note));
            "ndjson"
        }
        None => "ndjson",
    };
    items.push(Item::Key("encoding".into(), Val::text(encoding)));
    if let Some((n, line)) = keys.take("compression") {
        let c = text(n).unwrap_or_default();
        if c != "none" {
            let note = ctx.note(
                Severity::Warning,
                &keys.place(line),
                &format!("compression = {c}"),
                "skiff writes files uncompressed; left out",
            );
            items.push(Item::Comment(note));
        }
    }
    if let Some((_, line)) = keys.take("idle_timeout_secs") {
        let note = ctx.note(
            Severity::Note,
            &keys.place(line),
            "idle_timeout_secs",
            "skiff closes a file not written for 30 s",
        );
        items.push(Item::Comment(note));
    }
}
