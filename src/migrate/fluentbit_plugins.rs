//! Fluent Bit's `tail` input options and its `[PARSER]` definitions (as `parse_json` /
//! `parse_regex` / `parse_logfmt` transforms). Filters live in [`super::fluentbit_filters`],
//! outputs in [`super::fluentbit_outputs`].
//!
//! Each function consumes the properties it understands from a [`Props`]; whatever is left is
//! reported by the caller, so nothing is dropped without a comment.

use super::fluentbit::{Prop, Section};
use super::fluentbit_props::{bad_value, report_rest, sval, what, Props};
use super::ir::{Component, Ctx, Item, Severity, Spec, Val};
use super::translate::{
    check_glob, check_time_format, fb_bool, fb_duration, fb_env, fb_size, fb_time_format,
    fb_time_offset, onigmo_to_rust,
};

/// The comment lines for a section left out: the warning, then the section as written.
pub fn left_out(ctx: &mut Ctx, s: &Section, why: &str) -> Vec<String> {
    let mut lines = vec![ctx.note(Severity::Warning, &s.place, &what(s), why)];
    lines.extend(s.raw.iter().map(|l| format!("  {l}")));
    lines
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

pub fn note_each(ctx: &mut Ctx, p: &mut Props, items: &mut Vec<Item>, keys: &[&str], why: &str) {
    for v in p.take_each(keys) {
        let line = ctx.note(Severity::Note, &v.place, &v.key, why);
        items.push(Item::Comment(line));
    }
}

/// Converts the `tail` input's options into `source`, and returns the transforms every line
/// goes through before the filters (container log parsing, the `Parser`).
pub fn tail(
    ctx: &mut Ctx,
    p: &mut Props,
    source: &mut Component,
    parsers: &[&Section],
) -> Vec<Spec> {
    let s = p.section;
    let mut items = Vec::new();
    let mut chain = Vec::new();
    if let Some(v) = p.take("path") {
        let include = globs(ctx, v, &mut items);
        if include != Val::List(Vec::new()) {
            items.push(Item::Key("include".into(), include));
        }
    }
    if let Some(v) = p.take("exclude_path") {
        let exclude = globs(ctx, v, &mut items);
        items.push(Item::Key("exclude".into(), exclude));
    }
    match p.take("read_from_head") {
        Some(v) => match fb_bool(&v.value) {
            Some(head) => items.push(Item::Key(
                "read_from".into(),
                Val::text(if head { "beginning" } else { "end" }),
            )),
            None => bad_value(ctx, v, &mut items),
        },
        None => {
            let line = ctx.note(
                Severity::Note,
                &s.place,
                "Read_from_Head",
                "not set: Fluent Bit starts at the end of files found at startup; skiff reads them from the beginning, then resumes from its checkpoints (set read_from = \"end\" for Fluent Bit's behaviour)",
            );
            items.push(Item::Comment(line));
        }
    }
    for (key, to, conv) in [
        (
            "refresh_interval",
            "glob_interval",
            fb_duration as fn(&str) -> Option<String>,
        ),
        ("rotate_wait", "rotate_wait", fb_duration),
        ("buffer_max_size", "max_line_bytes", fb_size),
        ("buffer_chunk_size", "read_buffer", fb_size),
    ] {
        if let Some(v) = p.take(key) {
            match conv(&v.value) {
                Some(x) if x.chars().all(|c| c.is_ascii_digit()) => {
                    items.push(Item::Key(to.into(), Val::Int(x.parse().unwrap_or(0))));
                }
                Some(x) => items.push(Item::Key(to.into(), Val::text(&x))),
                None => bad_value(ctx, v, &mut items),
            }
        }
    }
    match p.take("path_key") {
        Some(v) => items.push(Item::Key("file_key".into(), sval(v))),
        // Fluent Bit adds the path only when Path_Key names a field.
        None => items.push(Item::Key("file_key".into(), Val::text(""))),
    }
    note_each(
        ctx,
        p,
        &mut items,
        &[
            "db",
            "db.sync",
            "db.locking",
            "db.journal_mode",
            "db.compare_filename",
        ],
        "skiff keeps checkpoints in data_dir; there is no per-source database",
    );
    note_each(ctx, p, &mut items, &["skip_long_lines"], "skiff cuts lines longer than max_line_bytes and marks them with _skiff_truncated instead of skipping them (drop them with a filter on that field if you must)");
    note_each(
        ctx,
        p,
        &mut items,
        &["inotify_watcher"],
        "skiff uses inotify and a periodic scan (glob_interval) together",
    );
    note_each(
        ctx,
        p,
        &mut items,
        &["exit_on_eof"],
        "run `skiff run --once` to read the files to their end and exit",
    );
    note_each(
        ctx,
        p,
        &mut items,
        &["mem_buf_limit"],
        "skiff's memory is bounded by design (the file is the buffer); nothing to set",
    );
    let field = p
        .take("key")
        .map_or_else(|| "log".to_owned(), |v| v.value.clone());
    if let Some(v) = p.take("skip_empty_lines") {
        if fb_bool(&v.value) == Some(true) {
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
            chain.push(f);
        }
    }
    let mut structured = false;
    if let Some(v) = p.take("multiline.parser") {
        match container_parser(ctx, v, "message") {
            Ok(spec) => chain.push(spec),
            Err(line) => items.push(Item::Comment(line)),
        }
    }
    if let Some(v) = p.take("parser") {
        match parsers.iter().find(|ps| ps.name() == v.value) {
            Some(ps) => {
                let spec = parser_spec(ctx, ps, "message", None);
                structured = spec.is_ok();
                match spec {
                    Ok(spec) => chain.push(spec),
                    Err(lines) => items.extend(lines.into_iter().map(Item::Comment)),
                }
            }
            None => {
                let line = ctx.note(
                    Severity::Warning,
                    &v.place,
                    &format!("Parser {}", v.value),
                    "no [PARSER] has this name; lines are left unparsed",
                );
                items.push(Item::Comment(line));
            }
        }
    }
    if !structured {
        let mut r = Spec::new(format!("{}_field", field), "rename_fields");
        r.leading.push(format!(
            "Fluent Bit's tail puts each line under `{field}`; skiff under `message`."
        ));
        r.set(
            "fields",
            Val::Table(vec![("message".into(), Val::text(&field))]),
        );
        chain.push(r);
    }
    source.items.extend(items);
    chain
}

/// `multiline.parser cri` / `docker` as `parse_cri` / `parse_docker` on `field`.
pub fn container_parser(ctx: &mut Ctx, v: &Prop, field: &str) -> Result<Spec, String> {
    let names: Vec<String> = v
        .value
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    let kind = match names.first().map(String::as_str) {
        Some("cri") => "parse_cri",
        Some("docker") => "parse_docker",
        _ => {
            return Err(ctx.note(
                Severity::Warning,
                &v.place,
                &format!("{} {}", v.key, v.value),
                "skiff knows the cri and docker formats; for stack traces add a multiline transform by hand; left out",
            ))
        }
    };
    let mut spec = Spec::new(kind, kind);
    spec.leading.push(format!(
        "From {} {} ({}).",
        v.key,
        v.value,
        ctx.place_text(&v.place)
    ));
    if field != "message" {
        spec.set("field", Val::text(field));
    }
    if names.len() > 1 {
        let line = ctx.note(
            Severity::Warning,
            &v.place,
            &format!("{} {}", v.key, v.value),
            &format!(
                "skiff reads one container format; only {} was kept",
                names[0]
            ),
        );
        spec.comment(line);
    }
    Ok(spec)
}

/// A `[PARSER]` as a parsing transform reading `field`. `keep_source` is set when the caller
/// knows it (the parser filter's `Preserve_Key`).
pub fn parser_spec(
    ctx: &mut Ctx,
    s: &Section,
    field: &str,
    keep_source: Option<bool>,
) -> Result<Spec, Vec<String>> {
    let mut p = Props::new(s);
    p.take("name");
    let format = p
        .take("format")
        .map(|v| v.value.to_ascii_lowercase())
        .unwrap_or_default();
    let kind = match format.as_str() {
        "json" => "parse_json",
        "regex" => "parse_regex",
        "logfmt" => "parse_logfmt",
        other => {
            let why = format!("the `{other}` format has no skiff parser; lines are left unparsed");
            return Err(left_out(ctx, s, &why));
        }
    };
    let mut spec = Spec::new(format!("parse_{}", s.name()), kind);
    spec.leading.push(format!(
        "From [PARSER] {} ({}).",
        s.name(),
        ctx.place_text(&s.place)
    ));
    if field != "message" {
        spec.set("field", Val::text(field));
    }
    if let Some(keep) = keep_source {
        if keep {
            spec.set("keep_source", Val::Bool(true));
        }
    }
    if kind == "parse_regex" {
        let Some(v) = p.take("regex") else {
            return Err(left_out(
                ctx,
                s,
                "a regex parser without `Regex`; lines are left unparsed",
            ));
        };
        match onigmo_to_rust(&v.value) {
            Ok(re) => spec.set("pattern", Val::text(&re)),
            Err(why) => {
                return Err(left_out(
                    ctx,
                    s,
                    &format!("the regex {why}; lines are left unparsed"),
                ))
            }
        }
    }
    if let Some(v) = p.take("types") {
        if kind == "parse_json" {
            let line = ctx.note(
                Severity::Warning,
                &v.place,
                &v.key,
                "skiff's parse_json keeps JSON's own types; left out",
            );
            spec.comment(line);
        } else {
            let mut types = Vec::new();
            for pair in v.value.split_whitespace() {
                let (k, t) = pair.split_once(':').unwrap_or((pair, "string"));
                let t = match t {
                    "integer" => "int",
                    "float" => "float",
                    "bool" => "bool",
                    "string" => "string",
                    other => {
                        let line = ctx.note(
                            Severity::Warning,
                            &v.place,
                            &format!("Types {pair}"),
                            &format!(
                                "the type `{other}` has no skiff equivalent; left as a string"
                            ),
                        );
                        spec.comment(line);
                        continue;
                    }
                };
                types.push((k.to_owned(), Val::text(t)));
            }
            if !types.is_empty() {
                spec.set("types", Val::Table(types));
            }
        }
    }
    timestamp(ctx, &mut p, &mut spec);
    note_each(
        ctx,
        &mut p,
        &mut spec.items,
        &["time_strict"],
        "skiff's on_error decides what happens to a line whose time does not parse",
    );
    note_each(
        ctx,
        &mut p,
        &mut spec.items,
        &["skip_empty_values"],
        "skiff keeps empty values",
    );
    report_rest(ctx, &mut p, &mut spec.items);
    Ok(spec)
}

fn timestamp(ctx: &mut Ctx, p: &mut Props, spec: &mut Spec) {
    let key = p.take("time_key");
    let format = p.take("time_format");
    let keep = p.take("time_keep");
    let offset = p.take("time_offset");
    let system_tz = p.take("time_system_timezone");
    let converted = format.map(|f| (f, fb_time_format(&f.value)));
    if let Some((f, why)) = converted
        .as_ref()
        .and_then(|(f, c)| check_time_format(c).err().map(|w| (f, w)))
    {
        let line = ctx.note(
            Severity::Warning,
            &f.place,
            &format!("Time_Format {}", f.value),
            &format!("{why}; the time is not parsed"),
        );
        spec.comment(line);
        return;
    }
    let Some((_, format)) = converted else {
        if let Some(k) = key {
            let line = ctx.note(Severity::Note, &k.place, &k.key, "without Time_Format neither Fluent Bit nor skiff parses the time; the field is kept as it is");
            spec.comment(line);
        }
        return;
    };
    let mut t = vec![
        (
            "field".to_owned(),
            Val::text(key.map_or("time", |k| k.value.as_str())),
        ),
        ("format".to_owned(), Val::text(&format)),
    ];
    if let Some(o) = offset {
        match fb_time_offset(&o.value) {
            Some(tz) => t.push(("timezone".into(), Val::text(&tz))),
            None => bad_value(ctx, o, &mut spec.items),
        }
    } else if system_tz.is_some_and(|v| fb_bool(&v.value) == Some(true)) {
        t.push(("timezone".into(), Val::text("local")));
    }
    // Fluent Bit drops the time field unless Time_Keep is on; skiff keeps it unless told.
    if keep.is_none_or(|k| fb_bool(&k.value) != Some(true)) {
        t.push(("keep".into(), Val::Bool(false)));
    }
    spec.set("timestamp", Val::Table(t));
}

/// A Fluent Bit record accessor (`$kubernetes['labels']['app']`) or plain key as a skiff
/// field path (`kubernetes.labels.app`).
pub fn record_accessor(s: &str) -> String {
    let s = s.trim();
    let Some(rest) = s.strip_prefix('$') else {
        return s.to_owned();
    };
    let mut parts = Vec::new();
    let (head, mut tail) = rest.split_once('[').map_or((rest, ""), |(h, t)| (h, t));
    parts.push(head.to_owned());
    while let Some(end) = tail.find(']') {
        let part = tail[..end].trim_matches(|c| c == '\'' || c == '"');
        parts.push(part.to_owned());
        tail = tail[end + 1..].trim_start_matches('[');
    }
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_accessors_become_paths() {
        assert_eq!(record_accessor("log"), "log");
        assert_eq!(record_accessor("$log"), "log");
        assert_eq!(
            record_accessor("$kubernetes['labels']['app']"),
            "kubernetes.labels.app"
        );
    }
}
