//! Vector's `file` source as skiff's `file` source, its `multiline` option as a `multiline`
//! transform right after it.

use crate::migrate::ir::{Component, Ctx, Item, Severity, Val};
use crate::migrate::translate::{check_glob, check_regex, clamp_size};
use crate::migrate::tree::Kind;
use crate::migrate::vector::keys::{report_rest, Keys, COMMON_NOTES};
use crate::migrate::vector::values::{secs, text, texts};

/// Durations in seconds or milliseconds (`true`) and the source keys they set.
const DURATIONS: &[(&str, &str, bool)] = &[
    ("glob_minimum_cooldown_ms", "glob_interval", true),
    ("rotate_wait_secs", "rotate_wait", false),
];

/// Byte counts and the source keys they set.
const SIZES: &[(&str, &str)] = &[
    ("max_line_bytes", "max_line_bytes"),
    ("max_read_bytes", "read_buffer"),
];

/// Options skiff needs no setting for, with the reason.
const NOTES: &[(&str, &str)] = &[
    (
        "fingerprint",
        "skiff identifies a file by a hash of its first fingerprint_bytes plus device and inode",
    ),
    ("data_dir", "skiff keeps checkpoints in the global data_dir"),
    (
        "ignore_not_found",
        "skiff waits for files that do not exist yet",
    ),
    (
        "internal_metrics",
        "skiff's metrics are always on at /metrics",
    ),
    ("oldest_first", "skiff reads all matched files side by side"),
    ("buffer", COMMON_NOTES[0].1),
    ("acknowledgements", COMMON_NOTES[1].1),
];

/// `multiline.mode`s that map, with skiff's mode and the key its pattern goes to.
const MODES: &[(&str, &str, &str)] = &[
    ("halt_before", "start", "start_pattern"),
    ("continue_through", "continuation", "continuation_pattern"),
];

/// Converts file source `name` (skiff name `own`); returns the component carrying its events:
/// the source, or the multiline transform after it.
pub fn file(ctx: &mut Ctx, keys: &mut Keys, name: &str, own: String) -> Vec<String> {
    let place = keys.place(keys.line);
    let mut c = Component::new(own.clone(), "file", Vec::new());
    c.leading.push(format!(
        "From [sources.{name}] file ({}).",
        ctx.place_text(&place)
    ));
    let mut items = Vec::new();
    globs(ctx, keys, &mut items);
    options(ctx, keys, &mut items);
    let multiline = multiline(ctx, keys, &mut items);
    report_rest(ctx, keys, &mut items, NOTES);
    let note = ctx.note(
        Severity::Note,
        &place,
        &format!("[sources.{name}]"),
        "Vector also adds `host` and `source_type` fields; skiff does not (add them with add_fields if you need them)",
    );
    items.push(Item::Comment(note));
    c.items.extend(items);
    ctx.doc.sources.push(c);
    match multiline {
        Some(mut m) => {
            let mname = ctx.claim_name(&format!("{own}_multiline"));
            m.inputs = vec![own];
            m.name = mname.clone();
            ctx.doc.transforms.push(m);
            vec![mname]
        }
        None => vec![own],
    }
}

/// `include` and `exclude`; a glob skiff cannot read is left out with a warning.
fn globs(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    for key in ["include", "exclude"] {
        let Some((n, line)) = keys.take(key) else {
            continue;
        };
        let mut ok = Vec::new();
        for g in texts(n).unwrap_or_default() {
            match check_glob(&g) {
                Ok(()) => ok.push(Val::interp(g)),
                Err(why) => {
                    let c = ctx.note(
                        Severity::Warning,
                        &keys.place(line),
                        key,
                        &format!("{why}; left out"),
                    );
                    items.push(Item::Comment(c));
                }
            }
        }
        if key == "exclude" || !ok.is_empty() {
            items.push(Item::Key(key.into(), Val::List(ok)));
        }
    }
}

/// Where to start, the [`DURATIONS`] and [`SIZES`], `file_key` and `line_delimiter`.
fn options(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    if let Some((n, _)) = keys.take("read_from") {
        if let Some(s) = text(n) {
            items.push(Item::Key("read_from".into(), Val::interp(s)));
        }
    }
    if let Some((n, _)) = keys.take("start_at_beginning") {
        if let Kind::Bool(b) = n.kind {
            items.push(Item::Key(
                "read_from".into(),
                Val::text(if b { "beginning" } else { "end" }),
            ));
        }
    }
    for (key, to, ms) in DURATIONS {
        if let Some(v) = keys.take(key).and_then(|(n, _)| secs(n, *ms)) {
            items.push(Item::Key((*to).into(), v));
        }
    }
    for (key, to) in SIZES {
        if let Some((n, line)) = keys.take(key) {
            if let Kind::Int(i) = n.kind {
                let i = match clamp_size(to, &i.to_string()) {
                    Some((bytes, why)) => {
                        let c = ctx.note(Severity::Warning, &keys.place(line), key, &why);
                        items.push(Item::Comment(c));
                        i64::try_from(bytes).unwrap_or(i64::MAX)
                    }
                    None => i,
                };
                items.push(Item::Key((*to).into(), Val::Int(i)));
            }
        }
    }
    if let Some((n, _)) = keys.take("file_key") {
        if let Some(s) = text(n) {
            items.push(Item::Key("file_key".into(), Val::interp(s)));
        }
    }
    if let Some((n, line)) = keys.take("line_delimiter") {
        if text(n).as_deref() != Some("\n") {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(line),
                "line_delimiter",
                "skiff splits lines at \\n only; left out",
            );
            items.push(Item::Comment(c));
        }
    }
}

/// Vector's `multiline` option as a skiff `multiline` transform, when the mode maps.
fn multiline(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) -> Option<Component> {
    let opts = keys.take_prefix("multiline");
    if opts.is_empty() {
        return None;
    }
    let get = |k: &str| {
        opts.iter()
            .find(|(n, _, _)| n == k)
            .and_then(|(_, v, _)| text(v))
    };
    let line = opts[0].2;
    let condition = get("condition_pattern");
    let timeout = opts
        .iter()
        .find(|(n, _, _)| n == "timeout_ms")
        .and_then(|(_, v, _)| secs(v, true));
    let mut m = Component::new(String::new(), "multiline", Vec::new());
    m.leading.push(format!(
        "From the file source's multiline option ({}).",
        ctx.place_text(&keys.place(line))
    ));
    let start = get("start_pattern");
    if start.is_some() && start != condition {
        let c = ctx.note(
            Severity::Note,
            &keys.place(line),
            "multiline.start_pattern",
            "skiff's multiline transform groups lines by condition_pattern alone",
        );
        m.comment(c);
    }
    let condition = match condition.map(|c| (check_regex(&c), c)) {
        Some((Err(why), _)) => {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(line),
                "multiline.condition_pattern",
                &format!("{why}; left out"),
            );
            items.push(Item::Comment(c));
            return None;
        }
        other => other.map(|(_, c)| c),
    };
    let mode = get("mode");
    let mapped = MODES.iter().find(|(v, _, _)| Some(*v) == mode.as_deref());
    let (Some((_, mode, key)), Some(c)) = (mapped, condition) else {
        let c = ctx.note(Severity::Warning, &keys.place(line), "multiline", "only the halt_before and continue_through modes map onto skiff's multiline transform; left out");
        items.push(Item::Comment(c));
        return None;
    };
    m.set("mode", Val::text(mode));
    m.set(key, Val::interp(c));
    if let Some(t) = timeout {
        m.set("timeout", t);
    }
    Some(m)
}
