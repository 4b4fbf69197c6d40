//! Vector's `console` sink as skiff's `console` sink: JSON or text lines on stdout or stderr.

use crate::migrate::ir::{Ctx, Item, Severity, Val};
use crate::migrate::vector::keys::Keys;
use crate::migrate::vector::values::text;

/// The `console` sink's options.
pub fn console(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    match keys
        .take("encoding.codec")
        .or_else(|| keys.take("encoding"))
    {
        Some((n, line)) => match text(n).as_deref() {
            Some(codec @ ("json" | "text")) => {
                items.push(Item::Key("encoding".into(), Val::text(codec)))
            }
            Some("native_json") => items.push(Item::Key("encoding".into(), Val::text("json"))),
            other => {
                let c = ctx.note(
                    Severity::Warning,
                    &keys.place(line),
                    &format!("encoding.codec = {}", other.unwrap_or("?")),
                    "skiff writes json or text; json was kept",
                );
                items.push(Item::Comment(c));
                items.push(Item::Key("encoding".into(), Val::text("json")));
            }
        },
        None => items.push(Item::Key("encoding".into(), Val::text("json"))),
    }
    if let Some((n, _)) = keys.take("target") {
        if let Some(t) = text(n) {
            items.push(Item::Key("target".into(), Val::interp(t)));
        }
    }
}
