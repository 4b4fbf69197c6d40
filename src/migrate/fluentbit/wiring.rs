//! Fluent Bit's routing as skiff's explicit graph.
//!
//! Fluent Bit routes records by tag: each input has a tag, and filters and outputs take the
//! records whose tag their `Match` (a `*` wildcard) or `Match_Regex` accepts, filters in the
//! order written. skiff wires an explicit graph, so inputs are grouped by what they go through
//! (the same filters, the same outputs); each group gets one chain of transforms, and each
//! output becomes a sink reading the ends of the chains of the groups it matches. A single
//! input, the usual sidecar, gives one straight pipeline.

use super::filters::filter;
use super::inputs::Input;
use super::outputs::output;
use super::props::what;
use super::section::Section;
use super::service::Service;
use crate::migrate::ir::{Component, Ctx, Severity, Spec};
use crate::migrate::wildcard::tag_matches;

/// Inputs whose records go through the same filters and outputs.
struct Group {
    /// Indexes into the filters, in order.
    filters: Vec<usize>,
    /// Indexes into the outputs.
    outputs: Vec<usize>,
    /// Indexes into the inputs.
    members: Vec<usize>,
}

/// A filter converted once, before copies are made per group: `None` when no input's records
/// reach it, `Err` (the comment lines) when it has no equivalent.
type Converted = Option<Result<Vec<Spec>, Vec<String>>>;

/// What the sections being wired are.
pub struct Sections<'a> {
    pub filters: &'a [&'a Section],
    pub outputs: &'a [&'a Section],
    pub parsers: &'a [&'a Section],
}

/// Adds the filters and outputs that the `inputs` reach to `ctx`, as transforms and sinks.
pub fn wire(ctx: &mut Ctx, inputs: &[Input], sections: &Sections, service: &Service) {
    let groups = group(inputs, sections);
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
        for &o in &g.outputs {
            sink_inputs[o].extend(heads.iter().cloned());
        }
        waiting.push((g.outputs.clone(), pending));
    }
    for (k, f) in sections.filters.iter().enumerate() {
        if converted[k].is_none() {
            let line = ctx.note(
                Severity::Note,
                &f.place,
                &what(f),
                "matches no input's tag; nothing to convert",
            );
            ctx.doc.footer.push(line);
        }
    }
    sinks(ctx, sections.outputs, service, sink_inputs, &mut waiting);
    for (_, pending) in waiting {
        ctx.doc.footer.extend(pending);
    }
}

/// Whether a filter or output section takes records tagged `tag`.
fn section_matches(s: &Section, tag: &str) -> bool {
    if let Some(m) = s.get("match") {
        return tag_matches(&m.value, tag);
    }
    if let Some(m) = s.get("match_regex") {
        return regex::Regex::new(&m.value).is_ok_and(|re| re.is_match(tag));
    }
    false
}

/// Groups inputs by the filters and outputs they go through, in input order.
fn group(inputs: &[Input], sections: &Sections) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let matching = |list: &[&Section]| -> Vec<usize> {
            (0..list.len())
                .filter(|&k| section_matches(list[k], &input.tag))
                .collect()
        };
        let (f, o) = (matching(sections.filters), matching(sections.outputs));
        match groups.iter_mut().find(|g| g.filters == f && g.outputs == o) {
            Some(g) => g.members.push(i),
            None => groups.push(Group {
                filters: f,
                outputs: o,
                members: vec![i],
            }),
        }
    }
    groups
}

/// Converts each filter in use once; instances are made per group.
fn convert_filters(ctx: &mut Ctx, sections: &Sections, groups: &[Group]) -> Vec<Converted> {
    sections
        .filters
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let used = groups.iter().any(|g| g.filters.contains(&k));
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
    for &k in &g.filters {
        let copies = groups.iter().filter(|o| o.filters.contains(&k)).count();
        match &converted[k] {
            None => {}
            Some(Ok(specs)) => {
                for spec in specs {
                    let mut spec = spec.clone();
                    if copies > 1 {
                        spec.name = format!("{}_{}", spec.name, inputs[g.members[0]].source);
                    }
                    let name = ctx.add_transform(spec, heads.clone(), std::mem::take(&mut pending));
                    heads = vec![name];
                }
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
    service: &Service,
    mut sink_inputs: Vec<Vec<String>>,
    waiting: &mut [(Vec<usize>, Vec<String>)],
) {
    for (k, o) in outputs.iter().enumerate() {
        let mut inputs = std::mem::take(&mut sink_inputs[k]);
        inputs.sort();
        inputs.dedup();
        if inputs.is_empty() {
            let line = ctx.note(
                Severity::Note,
                &o.place,
                &what(o),
                "matches no input's tag, so it receives nothing in Fluent Bit either; left out",
            );
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
