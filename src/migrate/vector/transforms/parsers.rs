//! Vector's older parsing transforms, `json_parser` and `regex_parser` (still found in many
//! configs), as skiff's `parse_json` and `parse_regex`: the field, the target, whether the
//! source field stays, what happens to an event that does not parse, and the types.

use crate::migrate::ir::{Ctx, Item, Severity, Spec, Val};
use crate::migrate::translate::check_regex;
use crate::migrate::tree::{Kind, Node};
use crate::migrate::vector::keys::Keys;
use crate::migrate::vector::values::{text, texts};

/// Vector's `types` names that skiff's `types` reads the same.
const TYPES: &[(&str, &str)] = &[
    ("int", "int"),
    ("integer", "int"),
    ("float", "float"),
    ("bool", "bool"),
    ("boolean", "bool"),
    ("string", "string"),
    ("bytes", "string"),
];

fn flag(node: Option<(&Node, usize)>) -> Option<bool> {
    match node?.0.kind {
        Kind::Bool(b) => Some(b),
        _ => None,
    }
}

/// The keys both transforms share: `field`, `target_field`, `drop_field` and the option that
/// drops events that do not parse (`drop_invalid` / `drop_failed`).
fn common(ctx: &mut Ctx, keys: &mut Keys, spec: &mut Spec, drop_key: &str) {
    if let Some(field) = keys.take("field").and_then(|(n, _)| text(n)) {
        spec.set("field", Val::interp(field));
    }
    if let Some(target) = keys.take("target_field").and_then(|(n, _)| text(n)) {
        spec.set("target", Val::interp(target));
    }
    if let Some((_, line)) = keys.take("overwrite_target") {
        let c = ctx.note(
            Severity::Note,
            &keys.place(line),
            "overwrite_target",
            "skiff always writes the parsed data over the target",
        );
        spec.comment(c);
    }
    // Vector removes the source field by default (drop_field = true), as skiff does.
    if flag(keys.take("drop_field")) == Some(false) {
        spec.set("keep_source", Val::Bool(true));
    }
    if flag(keys.take(drop_key)) == Some(true) {
        spec.set("on_error", Val::text("drop"));
    } else {
        let c = ctx.note(
            Severity::Note,
            &keys.place(keys.line),
            drop_key,
            "an event that does not parse goes on unchanged, as in Vector, marked with _skiff_error",
        );
        spec.comment(c);
    }
}

/// `json_parser` as `parse_json`.
pub fn json_parser(ctx: &mut Ctx, keys: &mut Keys) -> Result<Vec<Spec>, Vec<String>> {
    let mut spec = Spec::new("parse_json", "parse_json");
    common(ctx, keys, &mut spec, "drop_invalid");
    Ok(vec![spec])
}

/// `regex_parser` as `parse_regex`.
pub fn regex_parser(ctx: &mut Ctx, keys: &mut Keys) -> Result<Vec<Spec>, Vec<String>> {
    let place = keys.place(keys.line);
    let patterns = keys
        .take("patterns")
        .or_else(|| keys.take("regex"))
        .and_then(|(n, _)| match &n.kind {
            Kind::Str(s) => Some(vec![s.clone()]),
            _ => texts(n),
        })
        .unwrap_or_default();
    if patterns.is_empty() {
        return Err(vec![ctx.note(
            Severity::Warning,
            &place,
            "regex_parser",
            "has no patterns; events go on without it",
        )]);
    }
    for p in &patterns {
        if let Err(why) = check_regex(p) {
            return Err(vec![ctx.note(
                Severity::Warning,
                &place,
                &format!("regex_parser pattern {p}"),
                &format!("{why}; events go on without this parser"),
            )]);
        }
    }
    let mut spec = Spec::new("parse_regex", "parse_regex");
    // Regexes are written literally: `$` is not a variable here.
    let list: Vec<Val> = patterns.iter().map(|p| Val::text(p)).collect();
    if list.len() == 1 {
        spec.set("pattern", list.into_iter().next().unwrap_or(Val::text("")));
    } else {
        spec.set("patterns", Val::List(list));
    }
    common(ctx, keys, &mut spec, "drop_failed");
    let mut types = Vec::new();
    for (name, node, line) in keys.take_prefix("types") {
        let t = text(node).unwrap_or_default();
        match TYPES.iter().find(|(v, _)| *v == t) {
            Some((_, to)) => types.push((name, Val::text(to))),
            None => {
                let c = ctx.note(
                    Severity::Warning,
                    &keys.place(line),
                    &format!("types.{name} = {t}"),
                    "skiff converts to int, float, bool or string only; the value stays a string",
                );
                spec.items.push(Item::Comment(c));
            }
        }
    }
    if !types.is_empty() {
        spec.set("types", Val::Table(types));
    }
    Ok(vec![spec])
}
