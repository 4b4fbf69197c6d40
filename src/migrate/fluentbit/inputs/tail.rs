//! Fluent Bit's `tail` input as skiff's `file` source: its options onto the source, and the
//! transforms every line goes through before the filters (skipping empty lines, container log
//! parsing, the `Parser`, and moving the line from `log` to `message`).
//!
//! Each function consumes the properties it understands from a [`Props`]; whatever is left is
//! reported by the caller, so nothing is dropped without a comment.

use crate::migrate::fluentbit::multiline::multiline_parser;
use crate::migrate::fluentbit::parser::{parser_spec, stock_parser};
use crate::migrate::fluentbit::props::{bad_value, note_each, sval, Props};
use crate::migrate::fluentbit::section::{Prop, Section};
use crate::migrate::ir::{Component, Ctx, Item, Severity, Spec, Val};
use crate::migrate::translate::{check_glob, clamp_size, fb_bool, fb_duration, fb_env, fb_size};

/// A reader of a Fluent Bit value as a skiff value (a duration, a size).
type Conv = fn(&str) -> Option<String>;

/// Options that map onto one source key, with how their values convert.
const OPTIONS: &[(&str, &str, Conv)] = &[
    ("refresh_interval", "glob_interval", fb_duration),
    ("rotate_wait", "rotate_wait", fb_duration),
    ("buffer_max_size", "max_line_bytes", fb_size),
    ("buffer_chunk_size", "read_buffer", fb_size),
];

/// Options skiff needs no setting for, with the reason.
const NOTES: &[(&[&str], &str)] = &[
    (
        &[
            "db",
            "db.sync",
            "db.locking",
            "db.journal_mode",
            "db.compare_filename",
        ],
        "skiff keeps checkpoints in data_dir; there is no per-source database",
    ),
    (&["skip_long_lines"], "skiff cuts lines longer than max_line_bytes and marks them with _skiff_truncated instead of skipping them (drop them with a filter on that field if you must)"),
    (
        &["inotify_watcher"],
        "skiff uses inotify and a periodic scan (glob_interval) together",
    ),
    (
        &["exit_on_eof"],
        "run `skiff run --once` to read the files to their end and exit",
    ),
    (
        &["mem_buf_limit"],
        "skiff's memory is bounded by design (the file is the buffer); nothing to set",
    ),
];

/// Converts the `tail` input's options into `source`, and returns the transforms every line
/// goes through before the filters (container log parsing, the `Parser`).
pub fn tail(
    ctx: &mut Ctx,
    p: &mut Props,
    source: &mut Component,
    parsers: &[&Section],
) -> Vec<Spec> {
    let mut items = Vec::new();
    paths(ctx, p, &mut items);
    read_from(ctx, p, &mut items);
    options(ctx, p, &mut items);
    for (keys, why) in NOTES {
        note_each(ctx, p, &mut items, keys, why);
    }
    let field = p
        .take("key")
        .map_or_else(|| "log".to_owned(), |v| v.value.clone());
    let mut chain: Vec<Spec> = skip_empty_lines(ctx, p).into_iter().collect();
    let structured = parse(ctx, p, parsers, &mut chain, &mut items);
    if !structured {
        chain.push(rename_field(&field));
    }
    source.items.extend(items);
    chain
}

/// A comma-separated list of globs; a pattern skiff cannot read is left out with a warning.
fn globs(ctx: &mut Ctx, p: &Prop, items: &mut Vec<Item>) -> Val {
    let mut out = Vec::new();
    for g in fb_env(&p.value, &[])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match check_glob(g) {
            Ok(()) => out.push(Val::interp(g.to_owned())),
            Err(why) => {
                let line = ctx.note(
                    Severity::Warning,
                    &p.place,
                    &p.key,
                    &format!("{why}; left out"),
                );
                items.push(Item::Comment(line));
            }
        }
    }
    Val::List(out)
}

/// `Path` and `Exclude_Path` as `include` and `exclude`.
fn paths(ctx: &mut Ctx, p: &mut Props, items: &mut Vec<Item>) {
    if let Some(v) = p.take("path") {
        let include = globs(ctx, v, items);
        if include != Val::List(Vec::new()) {
            items.push(Item::Key("include".into(), include));
        }
    }
    if let Some(v) = p.take("exclude_path") {
        let exclude = globs(ctx, v, items);
        items.push(Item::Key("exclude".into(), exclude));
    }
}

/// `Read_from_Head` as `read_from`; its absence is a note, since the defaults differ.
fn read_from(ctx: &mut Ctx, p: &mut Props, items: &mut Vec<Item>) {
    match p.take("read_from_head") {
        Some(v) => match fb_bool(&v.value) {
            Some(head) => items.push(Item::Key(
                "read_from".into(),
                Val::text(if head { "beginning" } else { "end" }),
            )),
            None => bad_value(ctx, v, items),
        },
        None => {
            let line = ctx.note(
                Severity::Note,
                &p.section.place,
                "Read_from_Head",
                "not set: Fluent Bit starts at the end of files found at startup; skiff reads them from the beginning, then resumes from its checkpoints (set read_from = \"end\" for Fluent Bit's behaviour)",
            );
            items.push(Item::Comment(line));
        }
    }
}

/// The [`OPTIONS`] that map one to one, and `Path_Key` as `file_key`.
fn options(ctx: &mut Ctx, p: &mut Props, items: &mut Vec<Item>) {
    for (key, to, conv) in OPTIONS {
        if let Some(v) = p.take(key) {
            let clamped = conv(&v.value).and_then(|x| clamp_size(to, &x));
            if let Some((bytes, why)) = clamped {
                let line = ctx.note(Severity::Warning, &v.place, &v.key, &why);
                items.push(Item::Comment(line));
                items.push(Item::Key(
                    (*to).into(),
                    Val::Int(i64::try_from(bytes).unwrap_or(i64::MAX)),
                ));
                continue;
            }
            match conv(&v.value) {
                Some(x) if x.chars().all(|c| c.is_ascii_digit()) => {
                    items.push(Item::Key((*to).into(), Val::Int(x.parse().unwrap_or(0))));
                }
                Some(x) => items.push(Item::Key((*to).into(), Val::text(&x))),
                None => bad_value(ctx, v, items),
            }
        }
    }
    match p.take("path_key") {
        Some(v) => items.push(Item::Key("file_key".into(), sval(v))),
        // Fluent Bit adds the path only when Path_Key names a field.
        None => items.push(Item::Key("file_key".into(), Val::text(""))),
    }
}

/// `Skip_Empty_Lines On` as a filter dropping empty messages.
fn skip_empty_lines(ctx: &mut Ctx, p: &mut Props) -> Option<Spec> {
    let v = p.take("skip_empty_lines")?;
    if fb_bool(&v.value) != Some(true) {
        return None;
    }
    let mut f = Spec::new("skip_empty_lines", "filter");
    f.leading.push(format!(
        "From Skip_Empty_Lines ({}).",
        ctx.place_text(&v.place)
    ));
    f.set("mode", Val::text("drop"));
    f.set(
        "conditions",
        Val::List(vec![Val::Table(vec![
            ("field".into(), Val::text("message")),
            ("matches".into(), Val::text("^$")),
        ])]),
    );
    Some(f)
}

/// `multiline.parser` and `Parser` as parsing transforms on `message`; whether the `Parser`
/// was converted (its fields then replace the line, so nothing is renamed).
fn parse(
    ctx: &mut Ctx,
    p: &mut Props,
    parsers: &[&Section],
    chain: &mut Vec<Spec>,
    items: &mut Vec<Item>,
) -> bool {
    let mut structured = false;
    if let Some(v) = p.take("multiline.parser") {
        match multiline_parser(ctx, v, "message", parsers) {
            Ok(specs) => chain.extend(specs),
            Err(line) => items.push(Item::Comment(line)),
        }
    }
    if let Some(v) = p.take("parser") {
        match parsers
            .iter()
            .find(|ps| ps.kind == "PARSER" && ps.name() == v.value)
        {
            Some(ps) => {
                let spec = parser_spec(ctx, ps, "message", None);
                structured = spec.is_ok();
                match spec {
                    Ok(spec) => chain.push(spec),
                    Err(lines) => items.extend(lines.into_iter().map(Item::Comment)),
                }
            }
            None => match stock_parser(ctx, v, "message") {
                Some(spec) => {
                    structured = true;
                    chain.push(spec);
                }
                None => {
                    let line = ctx.note(
                        Severity::Warning,
                        &v.place,
                        &format!("Parser {}", v.value),
                        "no [PARSER] or stock parser has this name; lines are left unparsed",
                    );
                    items.push(Item::Comment(line));
                }
            },
        }
    }
    structured
}

/// Fluent Bit's tail puts each line under `Key` (`log`); skiff under `message`.
fn rename_field(field: &str) -> Spec {
    let mut r = Spec::new(format!("{}_field", field), "rename_fields");
    r.leading.push(format!(
        "Fluent Bit's tail puts each line under `{field}`; skiff under `message`."
    ));
    r.set(
        "fields",
        Val::Table(vec![("message".into(), Val::text(field))]),
    );
    r
}
