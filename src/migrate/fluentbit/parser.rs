//! Fluent Bit's parsers as skiff parsing transforms: a `[PARSER]` definition becomes
//! `parse_json` / `parse_regex` / `parse_logfmt` (with its time options as the `timestamp`
//! option), and the built-in container parsers (`multiline.parser cri` / `docker`) become
//! `parse_cri` / `parse_docker`. Used by the `tail` input's `Parser` and by the `parser` and
//! `multiline` filters.

use super::props::{bad_value, left_out, note_each, report_rest, Props};
use super::section::{Prop, Section};
use crate::migrate::ir::{Ctx, Severity, Spec, Val};
use crate::migrate::translate::{fb_bool, fb_time_offset, onigmo_to_rust};

/// `[PARSER] Format` values and the skiff transform that parses each.
const FORMATS: &[(&str, &str)] = &[
    ("json", "parse_json"),
    ("regex", "parse_regex"),
    ("logfmt", "parse_logfmt"),
];

/// `Types` names and skiff's names for them.
const TYPES: &[(&str, &str)] = &[
    ("integer", "int"),
    ("float", "float"),
    ("bool", "bool"),
    ("string", "string"),
];

/// Parser options skiff needs no setting for, with the reason.
const NOTES: &[(&str, &str)] = &[
    (
        "time_strict",
        "skiff's on_error decides what happens to a line whose time does not parse",
    ),
    ("skip_empty_values", "skiff keeps empty values"),
];

/// A parser the config names but does not define, when it is one of Fluent Bit's stock parsers
/// (its image ships them in `parsers.conf`): skiff's `parse` transform runs it by name.
pub fn stock_parser(ctx: &Ctx, v: &Prop, field: &str) -> Option<Spec> {
    let name = v.value.trim();
    crate::transforms::parsers::table::find(name)?;
    let mut spec = Spec::new(format!("parse_{name}"), "parse");
    spec.leading.push(format!(
        "From {} {} ({}): Fluent Bit's stock parser, by name.",
        v.key,
        v.value,
        ctx.place_text(&v.place)
    ));
    spec.set("parser", Val::text(name));
    if field != "message" {
        spec.set("field", Val::text(field));
    }
    Some(spec)
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
    let Some(&(_, kind)) = FORMATS.iter().find(|(f, _)| *f == format) else {
        let why = format!("the `{format}` format has no skiff parser; lines are left unparsed");
        return Err(left_out(ctx, s, &why));
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
    if keep_source == Some(true) {
        spec.set("keep_source", Val::Bool(true));
    }
    if kind == "parse_regex" {
        let pattern = regex(ctx, &mut p)?;
        spec.set("pattern", Val::text(&pattern));
    }
    if let Some(v) = p.take("types") {
        types(ctx, v, &mut spec);
    }
    timestamp(ctx, &mut p, &mut spec);
    for (key, why) in NOTES {
        note_each(ctx, &mut p, &mut spec.items, &[*key], why);
    }
    report_rest(ctx, &mut p, &mut spec.items);
    Ok(spec)
}

/// A regex parser's `Regex` in Rust syntax; `Err` holds the comment lines when there is none
/// skiff can use.
fn regex(ctx: &mut Ctx, p: &mut Props) -> Result<String, Vec<String>> {
    let s = p.section;
    let Some(v) = p.take("regex") else {
        return Err(left_out(
            ctx,
            s,
            "a regex parser without `Regex`; lines are left unparsed",
        ));
    };
    onigmo_to_rust(&v.value)
        .map_err(|why| left_out(ctx, s, &format!("the regex {why}; lines are left unparsed")))
}

/// `Types name:type ...` as the `types` table; JSON keeps its own types.
fn types(ctx: &mut Ctx, v: &Prop, spec: &mut Spec) {
    if spec.kind == "parse_json" {
        let line = ctx.note(
            Severity::Warning,
            &v.place,
            &v.key,
            "skiff's parse_json keeps JSON's own types; left out",
        );
        spec.comment(line);
        return;
    }
    let mut types = Vec::new();
    for pair in v.value.split_whitespace() {
        let (k, t) = pair.split_once(':').unwrap_or((pair, "string"));
        match TYPES.iter().find(|(fb, _)| *fb == t) {
            Some((_, skiff)) => types.push((k.to_owned(), Val::text(skiff))),
            None => {
                let line = ctx.note(
                    Severity::Warning,
                    &v.place,
                    &format!("Types {pair}"),
                    &format!("the type `{t}` has no skiff equivalent; left as a string"),
                );
                spec.comment(line);
            }
        }
    }
    if !types.is_empty() {
        spec.set("types", Val::Table(types));
    }
}

/// `Time_Key`, `Time_Format`, `Time_Keep`, `Time_Offset`, `Time_Zone` and
/// `Time_System_Timezone` as the parser's `timestamp` option. skiff reads Fluent Bit's strptime
/// dialect, so `Time_Format` is written as it is, with `dialect = "fluentbit"`.
fn timestamp(ctx: &mut Ctx, p: &mut Props, spec: &mut Spec) {
    let key = p.take("time_key");
    let format = p.take("time_format");
    let keep = p.take("time_keep");
    let offset = p.take("time_offset");
    let zone = p.take("time_zone");
    let system_tz = p.take("time_system_timezone");
    let Some(format) = format else {
        if let Some(k) = key {
            let line = ctx.note(Severity::Note, &k.place, &k.key, "without Time_Format neither Fluent Bit nor skiff parses the time; the field is kept as it is");
            spec.comment(line);
        }
        return;
    };
    if let Err(why) = crate::time::check_fluentbit_format(&format.value) {
        let line = ctx.note(
            Severity::Warning,
            &format.place,
            &format!("Time_Format {}", format.value),
            &format!("{why}; the time is not parsed"),
        );
        spec.comment(line);
        return;
    }
    let mut t = vec![
        (
            "field".to_owned(),
            Val::text(key.map_or("time", |k| k.value.as_str())),
        ),
        ("format".to_owned(), Val::text(&format.value)),
        ("dialect".to_owned(), Val::text("fluentbit")),
    ];
    if let Some(z) = zone {
        t.push(("timezone".into(), Val::text(z.value.trim())));
    } else if let Some(o) = offset {
        match fb_time_offset(&o.value) {
            Some(tz) => t.push(("timezone".into(), Val::text(&tz))),
            None => bad_value(ctx, o, &mut spec.items),
        }
    } else if system_tz.is_some_and(|v| fb_bool(&v.value) == Some(true)) {
        t.push(("timezone".into(), Val::text("local")));
    }
    // Fluent Bit drops the time field unless Time_Keep is on, and then keeps its text.
    if keep.is_some_and(|k| fb_bool(&k.value) == Some(true)) {
        t.push(("keep".into(), Val::text("original")));
    } else {
        t.push(("keep".into(), Val::Bool(false)));
    }
    spec.set("timestamp", Val::Table(t));
}
