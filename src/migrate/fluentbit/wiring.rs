//! Fluent Bit's routing as skiff's explicit graph.
//!
//! Fluent Bit routes records by tag: each input has a tag, and filters and outputs take the
//! records whose tag their `Match` (a `*` wildcard) or `Match_Regex` accepts, filters in the
//! order written. skiff wires an explicit graph, so inputs are grouped by what they go through
//! (the same filters, the same outputs); each group gets one chain of transforms, and each
//! output becomes a sink reading the ends of the chains of the groups it matches. A single
//! input, the usual sidecar, gives one straight pipeline.
//!
//! A `Tag` with a `*` differs per file ([`super::tags`]): a filter or output that takes the
//! records of some files only is reached through a `filter` on the file's path (its source
//! then sets `file_key`, removed again before the sinks when Fluent Bit had no `Path_Key`).

use super::filters::filter;
use super::inputs::Input;
use super::outputs::output;
use super::props::what;
use super::section::Section;
use super::service::Service;
use super::tags::{route, Route};
use crate::migrate::ir::{Component, Ctx, Item, Severity, Spec, Val};
use crate::migrate::wildcard::tag_matches;

/// The field that carries the file path for routing when Fluent Bit had no `Path_Key`.
const ROUTE_FIELD: &str = "fluentbit_route_path";

/// Inputs whose records go through the same filters and outputs.
struct Group {
    /// Indexes into the filters, in order, with the files they take.
    filters: Vec<(usize, Route)>,
    /// Indexes into the outputs, with the files they take.
    outputs: Vec<(usize, Route)>,
    /// Indexes into the inputs.
    members: Vec<usize>,
    /// The field holding the file path, when a route needs it: (name, added for routing).
    path_field: Option<(String, bool)>,
}

/// A filter converted once, before copies are made per group: `None` when no input's records
/// reach it, `Err` (the comment lines) when it has no equivalent.
type Converted = Option<Result<Vec<Spec>, Vec<String>>>;

/// What the sections being wired are.
pub struct Sections<'a> {
    pub filters: &'a [&'a Section],
    pub outputs: &'a [&'a Section],
    pub parsers: &'a [&'a Section],
    /// The tags of the inputs that were left out.
    pub left_out: &'a [String],
}

/// Adds the filters and outputs that the `inputs` reach to `ctx`, as transforms and sinks.
pub fn wire(ctx: &mut Ctx, inputs: &[Input], sections: &Sections, service: &Service) {
    let mut groups = group(ctx, inputs, sections);
    for g in &mut groups {
        g.path_field = path_field(ctx, inputs, g);
    }
    let converted = convert_filters(ctx, sections, &groups);
    let mut reported = vec![false; sections.filters.len()];
    let mut sink_inputs: Vec<Vec<String>> = vec![Vec::new(); sections.outputs.len()];
    // Comments on left-out filters wait for the first sink of their group.
    let mut waiting: Vec<(Vec<usize>, Vec<String>)> = Vec::new();
    for g in &groups {
        let (heads, pending) = chain(ctx, inputs, &groups, g, &converted, &mut reported);
        if g.outputs.is_empty() {
            for &i in &g.members {
                let line = ctx.note(
                    Severity::Warning,
                    &inputs[i].place,
                    &format!("Tag {}", inputs[i].tag),
                    "no [OUTPUT] matches this tag: Fluent Bit discards these records; skiff reads them and delivers them nowhere",
                );
                ctx.doc.footer.push(line);
            }
        }
        let mut cleaned: Option<Vec<String>> = None;
        for (o, r) in &g.outputs {
            let name = &inputs[g.members[0]].source;
            let reads = match (r, &g.path_field) {
                (Route::Some(re), Some((field, _))) => {
                    let spec = path_filter(&format!("route_{name}"), field, re, "keep");
                    vec![ctx.add_transform(spec, heads.clone(), Vec::new())]
                }
                _ => heads.clone(),
            };
            let reads = match &g.path_field {
                Some((field, true)) if matches!(r, Route::Some(_)) => {
                    vec![ctx.add_transform(remove_path(name, field), reads, Vec::new())]
                }
                Some((field, true)) => cleaned
                    .get_or_insert_with(|| {
                        vec![ctx.add_transform(remove_path(name, field), reads, Vec::new())]
                    })
                    .clone(),
                _ => reads,
            };
            sink_inputs[*o].extend(reads);
        }
        let outs = g.outputs.iter().map(|(o, _)| *o).collect();
        waiting.push((outs, pending));
    }
    for (k, f) in sections.filters.iter().enumerate() {
        if converted[k].is_none() {
            let line = if sections.left_out.iter().any(|t| may_match(f, t)) {
                ctx.note(
                    Severity::Note,
                    &f.place,
                    &what(f),
                    "applies only to inputs that were left out; nothing to convert",
                )
            } else {
                ctx.note(
                    Severity::Note,
                    &f.place,
                    &what(f),
                    "matches no input's tag; nothing to convert",
                )
            };
            ctx.doc.footer.push(line);
        }
    }
    sinks(
        ctx,
        sections.outputs,
        sections.left_out,
        service,
        sink_inputs,
        &mut waiting,
    );
    for (_, pending) in waiting {
        ctx.doc.footer.extend(pending);
    }
}

/// Which records of `input` a filter or output section takes. A route that cannot be written
/// over paths is taken whole, with a warning.
fn section_route(ctx: &mut Ctx, s: &Section, input: &Input) -> Route {
    let r = if let Some(m) = s.get("match") {
        route(&input.tag, &input.globs, &m.value, false)
    } else if let Some(m) = s.get("match_regex") {
        route(&input.tag, &input.globs, &m.value, true)
    } else {
        Route::Never
    };
    if let Route::Unknown(why) = r {
        let line = ctx.note(
            Severity::Warning,
            &s.place,
            &what(s),
            &format!(
                "{why}; it takes every record of Tag {} here, more than in Fluent Bit",
                input.tag
            ),
        );
        ctx.doc.footer.push(line);
        return Route::All;
    }
    r
}

/// Whether a section may take records tagged `tag` (an input left out: `*` may be any text).
fn may_match(s: &Section, tag: &str) -> bool {
    if let Some(m) = s.get("match") {
        return tag_matches(&m.value, tag) || (tag.contains('*') && tags_meet(&m.value, tag));
    }
    if let Some(m) = s.get("match_regex") {
        return tag.contains('*') || regex::Regex::new(&m.value).is_ok_and(|re| re.is_match(tag));
    }
    false
}

/// Whether two wildcard patterns share a tag.
fn tags_meet(a: &str, b: &str) -> bool {
    route(b, &["/*".to_owned()], a, false) != Route::Never
        || route(a, &["/*".to_owned()], b, false) != Route::Never
}

/// Groups inputs by the filters and outputs they go through, in input order.
fn group(ctx: &mut Ctx, inputs: &[Input], sections: &Sections) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let mut matching = |list: &[&Section]| -> Vec<(usize, Route)> {
            (0..list.len())
                .map(|k| (k, section_route(ctx, list[k], input)))
                .filter(|(_, r)| *r != Route::Never)
                .collect()
        };
        let f = matching(sections.filters);
        let o = matching(sections.outputs);
        match groups.iter_mut().find(|g| g.filters == f && g.outputs == o) {
            Some(g) => g.members.push(i),
            None => groups.push(Group {
                filters: f,
                outputs: o,
                members: vec![i],
                path_field: None,
            }),
        }
    }
    groups
}

/// The field holding the file path in group `g`'s records, when a route needs it: the members'
/// `file_key` when they share one, else [`ROUTE_FIELD`], set on their sources.
fn path_field(ctx: &mut Ctx, inputs: &[Input], g: &Group) -> Option<(String, bool)> {
    let needed = g
        .filters
        .iter()
        .chain(&g.outputs)
        .any(|(_, r)| matches!(r, Route::Some(_)));
    if !needed {
        return None;
    }
    let key_of = |ctx: &Ctx, i: usize| -> String {
        ctx.doc
            .sources
            .iter()
            .find(|s| s.name == inputs[i].source)
            .and_then(|s| match s.get("file_key") {
                Some(Val::Str(k)) => Some(k.clone()),
                _ => None,
            })
            .unwrap_or_default()
    };
    let keys: Vec<String> = g.members.iter().map(|&i| key_of(ctx, i)).collect();
    if !keys[0].is_empty() && keys.iter().all(|k| *k == keys[0]) {
        return Some((keys[0].clone(), false));
    }
    for &i in &g.members {
        if let Some(src) = ctx
            .doc
            .sources
            .iter_mut()
            .find(|s| s.name == inputs[i].source)
        {
            for item in &mut src.items {
                if let Item::Key(k, v) = item {
                    if k == "file_key" {
                        *v = Val::text(ROUTE_FIELD);
                    }
                }
            }
            src.comment(format!(
                "The file path routes records as Fluent Bit's tag (Tag {}) did; removed before the sinks.",
                inputs[i].tag
            ));
        }
    }
    Some((ROUTE_FIELD.to_owned(), true))
}

/// A `filter` keeping (`mode = "keep"`) or dropping the records of the files `re` matches.
fn path_filter(name: &str, field: &str, re: &str, mode: &str) -> Spec {
    let mut f = Spec::new(name, "filter");
    f.leading.push(if mode == "keep" {
        "The records whose file's expanded tag the next component's Match accepts.".into()
    } else {
        "The records of the other files, which bypass the next filter.".into()
    });
    f.set("mode", Val::text(mode));
    f.set(
        "conditions",
        Val::List(vec![Val::Table(vec![
            ("field".into(), Val::text(field)),
            ("matches".into(), Val::text(re)),
        ])]),
    );
    f
}

/// Removes the routing field before a sink.
fn remove_path(name: &str, field: &str) -> Spec {
    let mut r = Spec::new(format!("unroute_{name}"), "remove_fields");
    r.set("fields", Val::List(vec![Val::text(field)]));
    r
}

/// Converts each filter in use once; instances are made per group.
fn convert_filters(ctx: &mut Ctx, sections: &Sections, groups: &[Group]) -> Vec<Converted> {
    sections
        .filters
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let used = groups
                .iter()
                .any(|g| g.filters.iter().any(|(f, _)| *f == k));
            used.then(|| filter(ctx, f, sections.parsers))
        })
        .collect()
}

/// Adds the chain of transforms of group `g`; returns its heads (what its sinks read) and the
/// comments that wait for its first sink.
fn chain(
    ctx: &mut Ctx,
    inputs: &[Input],
    groups: &[Group],
    g: &Group,
    converted: &[Converted],
    reported: &mut [bool],
) -> (Vec<String>, Vec<String>) {
    let mut heads: Vec<String> = g.members.iter().map(|&i| inputs[i].head.clone()).collect();
    heads.dedup();
    let mut pending: Vec<String> = Vec::new();
    for (k, r) in &g.filters {
        let k = *k;
        let copies = groups
            .iter()
            .filter(|o| o.filters.iter().any(|(f, _)| *f == k))
            .count();
        match &converted[k] {
            None => {}
            Some(Ok(specs)) => {
                // Records of other files bypass the filter.
                let mut bypass = None;
                if let (Route::Some(re), Some((field, _))) = (r, &g.path_field) {
                    let src = &inputs[g.members[0]].source;
                    let keep = path_filter(&format!("route_{src}"), field, re, "keep");
                    let skip = path_filter(&format!("bypass_{src}"), field, re, "drop");
                    bypass = Some(ctx.add_transform(skip, heads.clone(), Vec::new()));
                    heads = vec![ctx.add_transform(keep, heads, Vec::new())];
                }
                for spec in specs {
                    let mut spec = spec.clone();
                    if copies > 1 {
                        spec.name = format!("{}_{}", spec.name, inputs[g.members[0]].source);
                    }
                    let name = ctx.add_transform(spec, heads.clone(), std::mem::take(&mut pending));
                    heads = vec![name];
                }
                heads.extend(bypass);
            }
            Some(Err(comments)) if !reported[k] => {
                reported[k] = true;
                pending.extend(comments.iter().cloned());
            }
            Some(Err(_)) => {}
        }
    }
    (heads, pending)
}

/// Adds a sink per output that some input reaches; the others are left out with a note.
fn sinks(
    ctx: &mut Ctx,
    outputs: &[&Section],
    left_out: &[String],
    service: &Service,
    mut sink_inputs: Vec<Vec<String>>,
    waiting: &mut [(Vec<usize>, Vec<String>)],
) {
    for (k, o) in outputs.iter().enumerate() {
        let mut inputs = std::mem::take(&mut sink_inputs[k]);
        inputs.sort();
        inputs.dedup();
        if inputs.is_empty() {
            let line = if left_out.iter().any(|t| may_match(o, t)) {
                ctx.note(
                    Severity::Warning,
                    &o.place,
                    &what(o),
                    "the inputs whose records it receives in Fluent Bit were left out; left out",
                )
            } else {
                ctx.note(
                    Severity::Note,
                    &o.place,
                    &what(o),
                    "matches no input's tag, so it receives nothing in Fluent Bit either; left out",
                )
            };
            ctx.doc.footer.push(line);
            ctx.doc
                .footer
                .extend(o.raw.iter().map(|l| format!("  {l}")));
            continue;
        }
        match output(ctx, o, service) {
            Ok(spec) => {
                let name = ctx.claim_name(&spec.name);
                let mut c = Component::new(name, spec.kind, inputs);
                c.items = spec.items;
                for (os, pending) in waiting.iter_mut() {
                    if os.contains(&k) {
                        c.leading.append(pending);
                    }
                }
                c.leading.extend(spec.leading);
                ctx.doc.sinks.push(c);
            }
            Err(comments) => ctx.doc.footer.extend(comments),
        }
    }
}
