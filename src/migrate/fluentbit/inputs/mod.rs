//! Fluent Bit `[INPUT]`s as skiff file sources. skiff reads files only, so `tail` is the one
//! input converted (in [`tail`]); any other input is left out, commented, with a warning.
//!
//! To convert another input, add its converter to [`INPUTS`].

pub mod tail;

use crate::migrate::fluentbit::props::{left_out, report_rest, what, Props};
use crate::migrate::fluentbit::section::Section;
use crate::migrate::ir::{Component, Ctx, Place, Severity, Spec, Val};

/// Fills a file source from an input's properties and returns the transforms every record of
/// it goes through first.
type Convert = fn(&mut Ctx, &mut Props, &mut Component, &[&Section]) -> Vec<Spec>;

/// The inputs skiff converts, by plugin name.
pub const INPUTS: &[(&str, Convert)] = &[("tail", tail::tail)];

/// A converted input: its source, the transforms every record of it goes through first, and
/// its tag for routing.
pub struct Input {
    pub tag: String,
    /// The name of the last component of its own chain (where filters attach).
    pub head: String,
    pub place: Place,
    /// The name of its file source, to tell apart copies of a filter made per input.
    pub source: String,
    /// Its `Path` globs, for the tags a `*` in `tag` expands to.
    pub globs: Vec<String>,
}

/// Converts the `idx`th `[INPUT]`; `None` when it was left out (with a comment in the footer).
pub fn convert_input(
    s: &Section,
    idx: usize,
    parsers: &[&Section],
    ctx: &mut Ctx,
) -> Option<Input> {
    let name = s.name().to_ascii_lowercase();
    let tag = s
        .get("tag")
        .map(|p| p.value.clone())
        .unwrap_or_else(|| format!("{name}.{idx}"));
    let Some(&(_, convert)) = INPUTS.iter().find(|(n, _)| *n == name) else {
        let lines = left_out(
            ctx,
            s,
            "skiff reads files only (the `tail` input); this input was left out",
        );
        ctx.doc.footer.extend(lines);
        return None;
    };
    let wanted = s.get("alias").or_else(|| s.get("tag")).map_or_else(
        || name.clone(),
        |p| p.value.trim_end_matches(".*").to_owned(),
    );
    let source_name = ctx.claim_name(&wanted);
    let mut p = Props::new(s);
    p.take("name");
    p.take("tag");
    p.take("alias");
    let mut source = Component::new(source_name.clone(), "file", Vec::new());
    source.leading.push(format!(
        "From {} ({}), Tag {tag}.",
        what(s),
        ctx.place_text(&s.place)
    ));
    let chain = convert(ctx, &mut p, &mut source, parsers);
    let mut items = Vec::new();
    report_rest(ctx, &mut p, &mut items);
    source.items.extend(items);
    if source.get("include").is_none() {
        let line = ctx.note(
            Severity::Warning,
            &s.place,
            &what(s),
            "has no Path; left out",
        );
        ctx.doc.footer.push(line);
        return None;
    }
    let globs = match source.get("include") {
        Some(Val::List(list)) => list
            .iter()
            .filter_map(|v| match v {
                Val::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut head = source_name.clone();
    ctx.doc.sources.push(source);
    for spec in chain {
        head = ctx.add_transform(spec, vec![head], Vec::new());
    }
    Some(Input {
        tag,
        head,
        place: s.place.clone(),
        source: source_name,
        globs,
    })
}
