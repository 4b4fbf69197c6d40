//! The filters that parse a field: `parser` (a `[PARSER]` applied to `Key_Name`) and
//! `multiline` with a container format (`cri`, `docker`).

use crate::migrate::fluentbit::multiline::multiline_parser;
use crate::migrate::fluentbit::parser::parser_spec;
use crate::migrate::fluentbit::props::{left_out, record_accessor, Props};
use crate::migrate::fluentbit::section::Section;
use crate::migrate::ir::{Ctx, Severity, Spec};
use crate::migrate::translate::fb_bool;

/// The `parser` filter: its first parser on `Key_Name`.
pub fn parser(
    ctx: &mut Ctx,
    p: &mut Props,
    _: &str,
    parsers: &[&Section],
) -> Result<Vec<Spec>, Vec<String>> {
    let key = p.take("key_name").map(|v| v.value.clone());
    let names = p.take_each(&["parser"]);
    let preserve = p
        .take("preserve_key")
        .and_then(|v| fb_bool(&v.value))
        .unwrap_or(false);
    let reserve = p.take("reserve_data");
    let (Some(key), Some(first)) = (key, names.first()) else {
        return Err(left_out(
            ctx,
            p.section,
            "a parser filter needs Key_Name and Parser; records go on without it",
        ));
    };
    let Some(ps) = parsers
        .iter()
        .find(|s| s.kind == "PARSER" && s.name() == first.value)
    else {
        return Err(left_out(
            ctx,
            p.section,
            &format!(
                "no [PARSER] is named `{}`; records go on without this filter",
                first.value
            ),
        ));
    };
    let mut spec = parser_spec(ctx, ps, &record_accessor(&key), Some(preserve))?;
    for extra in names.iter().skip(1) {
        let line = ctx.note(
            Severity::Warning,
            &extra.place,
            &format!("Parser {}", extra.value),
            "skiff's transform applies one parser; only the first was converted",
        );
        spec.comment(line);
    }
    if reserve.is_none_or(|v| fb_bool(&v.value) != Some(true)) {
        let place = reserve.map_or_else(|| p.section.place.clone(), |v| v.place.clone());
        let line = ctx.note(Severity::Note, &place, "Reserve_Data", "Fluent Bit keeps only the parsed fields unless Reserve_Data is On; skiff merges them into the event, keeping its other fields");
        spec.comment(line);
    }
    for v in p.take_each(&["unescape_key"]) {
        let line = ctx.note(
            Severity::Note,
            &v.place,
            &v.key,
            "skiff's parsers read escapes as their format defines them",
        );
        spec.comment(line);
    }
    Ok(vec![spec])
}

/// The `multiline` filter, when its parser is a container format.
pub fn multiline(
    ctx: &mut Ctx,
    p: &mut Props,
    _: &str,
    parsers: &[&Section],
) -> Result<Vec<Spec>, Vec<String>> {
    let key = p
        .take("multiline.key_content")
        .map_or_else(|| "log".to_owned(), |v| record_accessor(&v.value));
    let Some(v) = p.take("multiline.parser") else {
        return Err(left_out(
            ctx,
            p.section,
            "a multiline filter without multiline.parser; records go on without it",
        ));
    };
    match multiline_parser(ctx, v, &key, parsers) {
        Ok(specs) => Ok(specs),
        Err(line) => {
            let mut lines = vec![line];
            lines.extend(p.section.raw.iter().map(|l| format!("  {l}")));
            Err(lines)
        }
    }
}
