//! Vector sources: the `file` source becomes skiff's `file` source (its `multiline` option a
//! `multiline` transform right after it); other sources are left out with a warning.

use super::ir::{Component, Ctx, Item, Severity, Val};
use super::translate::{check_glob, check_regex};
use super::tree::{Kind, Node};
use super::vector::{report_rest, secs, text, texts, Graph, Keys, COMMON_NOTES};

/// Converts source `name`, recording what carries its output in `g.heads`.
pub fn source(ctx: &mut Ctx, g: &mut Graph, name: &str, node: &Node, line: usize) {
    let mut keys = Keys::new(node, g.file.clone(), line);
    let kind = keys
        .take("type")
        .and_then(|(n, _)| text(n))
        .unwrap_or_default();
    let place = keys.place(line);
    let own = g
        .names
        .get(name)
        .cloned()
        .unwrap_or_else(|| name.to_owned());
    if kind != "file" {
        let why = if kind == "kubernetes_logs" {
            "skiff reads files in a shared volume: use a file source on the pod's log files with parse_cri and the kubernetes transform; left out"
        } else {
            "skiff reads files only; left out"
        };
        let c = ctx.note(
            Severity::Warning,
            &place,
            &format!("[sources.{name}] type = \"{kind}\""),
            why,
        );
        g.pending.entry(name.to_owned()).or_default().push(c);
        g.heads.insert(name.to_owned(), Vec::new());
        return;
    }
    let mut c = Component::new(own.clone(), "file", Vec::new());
    c.leading.push(format!(
        "From [sources.{name}] file ({}).",
        ctx.place_text(&place)
    ));
    let mut items = Vec::new();
    file_options(ctx, &mut keys, &mut items);
    let multiline = multiline(ctx, &mut keys, &mut items);
    report_rest(ctx, &mut keys, &mut items, &[
        ("fingerprint", "skiff identifies a file by a hash of its first fingerprint_bytes plus device and inode"),
        ("data_dir", "skiff keeps checkpoints in the global data_dir"),
        ("ignore_not_found", "skiff waits for files that do not exist yet"),
        ("internal_metrics", "skiff's metrics are always on at /metrics"),
        ("oldest_first", "skiff reads all matched files side by side"),
        ("buffer", COMMON_NOTES[0].1),
        ("acknowledgements", COMMON_NOTES[1].1),
    ]);
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
            g.heads.insert(name.to_owned(), vec![mname]);
        }
        None => {
            g.heads.insert(name.to_owned(), vec![own]);
        }
    }
}

fn file_options(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
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
    for (key, to, ms) in [
        ("glob_minimum_cooldown_ms", "glob_interval", true),
        ("rotate_wait_secs", "rotate_wait", false),
    ] {
        if let Some(v) = keys.take(key).and_then(|(n, _)| secs(n, ms)) {
            items.push(Item::Key(to.into(), v));
        }
    }
    for (key, to) in [
        ("max_line_bytes", "max_line_bytes"),
        ("max_read_bytes", "read_buffer"),
    ] {
        if let Some((n, _)) = keys.take(key) {
            if let Kind::Int(i) = n.kind {
                items.push(Item::Key(to.into(), Val::Int(i)));
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
    match (get("mode").as_deref(), condition) {
        (Some("halt_before"), Some(c)) => {
            m.set("mode", Val::text("start"));
            m.set("start_pattern", Val::interp(c));
        }
        (Some("continue_through"), Some(c)) => {
            m.set("mode", Val::text("continuation"));
            m.set("continuation_pattern", Val::interp(c));
        }
        _ => {
            let c = ctx.note(Severity::Warning, &keys.place(line), "multiline", "only the halt_before and continue_through modes map onto skiff's multiline transform; left out");
            items.push(Item::Comment(c));
            return None;
        }
    }
    if let Some(t) = timeout {
        m.set("timeout", t);
    }
    Some(m)
}
