//! Turns a Fluent Bit config ([`FbConfig`], from either format) into skiff components.
//!
//! Fluent Bit routes records by tag: each input has a tag, and filters and outputs take the
//! records whose tag their `Match` (a `*` wildcard) or `Match_Regex` accepts, filters in the
//! order written. skiff wires an explicit graph, so inputs are grouped by what they go through
//! (the same filters, the same outputs); each group gets one chain of transforms, and each
//! output becomes a sink reading the ends of the chains of the groups it matches. A single
//! input, the usual sidecar, gives one straight pipeline.
//!
//! Plugins are converted in [`super::fluentbit_plugins`]; this module handles `[SERVICE]`, the
//! `tail` input and the wiring.

use super::fluentbit::{FbConfig, Section};
use super::fluentbit_plugins as plugins;
use super::fluentbit_props::{bad_value, report_rest, what, Props};
use super::ir::{Component, Ctx, Item, Place, Severity, Spec, Val};
use super::translate::{fb_bool, fb_duration, fb_env};

/// Settings from `[SERVICE]` that other conversions need.
#[derive(Debug, Default)]
pub struct Service {
    /// `Flush`, as a skiff duration (the batch timeout of Elasticsearch sinks), and its place.
    pub flush: Option<(String, Place)>,
}

/// Converts the whole config into `ctx`.
pub fn convert(cfg: &FbConfig, ctx: &mut Ctx) {
    let mut service = Service::default();
    for s in cfg.of_kind("SERVICE") {
        convert_service(s, ctx, &mut service);
    }
    for (place, file) in &cfg.unread {
        let line = ctx.note(
            Severity::Warning,
            place,
            "Parsers_File",
            &format!("cannot read {file}: the parsers it defines are unknown (put it next to the config)"),
        );
        ctx.doc.globals.push(Item::Comment(line));
    }
    let parsers: Vec<&Section> = cfg.of_kind("PARSER").collect();
    let mut inputs = Vec::new();
    for (idx, s) in cfg.of_kind("INPUT").enumerate() {
        if let Some(input) = convert_input(s, idx, &parsers, ctx) {
            inputs.push(input);
        }
    }
    let filters: Vec<&Section> = cfg.of_kind("FILTER").collect();
    let outputs: Vec<&Section> = cfg.of_kind("OUTPUT").collect();
    wire(ctx, &mut inputs, &filters, &outputs, &parsers, &service);
    if let Some((_, place)) = &service.flush {
        if !ctx.doc.sinks.iter().any(|s| s.kind == "elasticsearch") {
            let line = ctx.note(
                Severity::Note,
                place,
                "Flush",
                "skiff's console sink writes each batch as it arrives",
            );
            ctx.doc.globals.push(Item::Comment(line));
        }
    }
    for s in &cfg.sections {
        if !matches!(
            s.kind.as_str(),
            "SERVICE" | "INPUT" | "FILTER" | "OUTPUT" | "PARSER"
        ) {
            let line = ctx.note(
                Severity::Warning,
                &s.place,
                &format!("[{}]", s.kind),
                "has no skiff equivalent; left out",
            );
            ctx.doc.footer.push(line);
            ctx.doc
                .footer
                .extend(s.raw.iter().map(|l| format!("  {l}")));
        }
    }
}

fn convert_service(s: &Section, ctx: &mut Ctx, service: &mut Service) {
    let mut p = Props::new(s);
    let mut comments = Vec::new();
    if let Some(v) = p.take("flush") {
        match fb_duration(&v.value) {
            Some(d) => service.flush = Some((d, v.place.clone())),
            None => bad_value(ctx, v, &mut comments),
        }
    }
    if let Some(v) = p.take("log_level") {
        let level = match v.value.to_ascii_lowercase().as_str() {
            "warning" => "warn".to_owned(),
            other => other.to_owned(),
        };
        ctx.doc
            .log
            .push(Item::Key("level".into(), Val::text(&level)));
    }
    if let Some(v) = p.take("grace") {
        match fb_duration(&v.value) {
            Some(d) => ctx
                .doc
                .globals
                .push(Item::Key("shutdown_timeout".into(), Val::text(&d))),
            None => bad_value(ctx, v, &mut comments),
        }
    }
    let server = p.take("http_server");
    let listen = p.take("http_listen");
    let port = p.take("http_port");
    if let Some(on) = server.and_then(|v| fb_bool(&v.value)) {
        ctx.doc.api.push(Item::Key("enabled".into(), Val::Bool(on)));
        if on {
            let host = listen.map_or("0.0.0.0".into(), |v| fb_env(&v.value, &[]));
            let port = port.map_or("2020".into(), |v| fb_env(&v.value, &[]));
            ctx.doc.api.push(Item::Key(
                "address".into(),
                Val::interp(format!("{host}:{port}")),
            ));
            let place = server
                .map(|v| v.place.clone())
                .unwrap_or_else(|| s.place.clone());
            let line = ctx.note(
                Severity::Note,
                &place,
                "HTTP_Server",
                "skiff serves /health, /ready and /metrics (Prometheus) instead of /api/v1/...",
            );
            ctx.doc.api.push(Item::Comment(line));
        }
    }
    for (key, why) in [
        ("daemon", "skiff always runs in the foreground"),
        (
            "parsers_file",
            "its parsers were read and converted where they are used",
        ),
        (
            "health_check",
            "skiff's /health answers from the pipeline's state",
        ),
        (
            "hc_errors_count",
            "skiff's /health answers from the pipeline's state",
        ),
        (
            "hc_retry_failure_count",
            "skiff's /health answers from the pipeline's state",
        ),
        (
            "hc_period",
            "skiff's /health answers from the pipeline's state",
        ),
        (
            "storage.path",
            "skiff keeps no buffer of its own: the log file is the buffer",
        ),
        (
            "storage.sync",
            "skiff keeps no buffer of its own: the log file is the buffer",
        ),
        (
            "storage.checksum",
            "skiff keeps no buffer of its own: the log file is the buffer",
        ),
        (
            "storage.backlog.mem_limit",
            "skiff keeps no buffer of its own: the log file is the buffer",
        ),
        (
            "storage.max_chunks_up",
            "skiff keeps no buffer of its own: the log file is the buffer",
        ),
        (
            "storage.metrics",
            "skiff's metrics are always on at /metrics",
        ),
        (
            "hot_reload",
            "skiff applies a changed config file by itself",
        ),
    ] {
        for v in p.take_each(&[key]) {
            if key == "parsers_file" {
                continue;
            }
            let line = ctx.note(Severity::Note, &v.place, &v.key, why);
            ctx.doc.globals.push(Item::Comment(line));
        }
    }
    report_rest(ctx, &mut p, &mut comments);
    ctx.doc.globals.extend(comments);
}

/// A converted input: its source, the transforms every record of it goes through first, and
/// its tag for routing.
pub struct Input {
    tag: String,
    /// The name of the last component of its own chain (where filters attach).
    head: String,
    place: Place,
    /// The name of its file source, to tell apart copies of a filter made per input.
    source: String,
}

fn convert_input(s: &Section, idx: usize, parsers: &[&Section], ctx: &mut Ctx) -> Option<Input> {
    let name = s.name().to_ascii_lowercase();
    let tag = s
        .get("tag")
        .map(|p| p.value.clone())
        .unwrap_or_else(|| format!("{name}.{idx}"));
    if name != "tail" {
        let line = ctx.note(
            Severity::Warning,
            &s.place,
            &what(s),
            "skiff reads files only (the `tail` input); this input was left out",
        );
        ctx.doc.footer.push(line);
        ctx.doc
            .footer
            .extend(s.raw.iter().map(|l| format!("  {l}")));
        return None;
    }
    let wanted = s.get("alias").or_else(|| s.get("tag")).map_or_else(
        || "tail".to_owned(),
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
    let chain = plugins::tail(ctx, &mut p, &mut source, parsers);
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
    let mut head = source_name.clone();
    ctx.doc.sources.push(source);
    for spec in chain {
        head = add_transform(ctx, spec, vec![head], &mut Vec::new());
    }
    Some(Input {
        tag,
        head,
        place: s.place.clone(),
        source: source_name,
    })
}

/// Adds a transform built from `spec`, reading `inputs`, and returns its name.
fn add_transform(
    ctx: &mut Ctx,
    spec: Spec,
    inputs: Vec<String>,
    pending: &mut Vec<String>,
) -> String {
    let name = ctx.claim_name(&spec.name);
    let mut c = Component::new(name.clone(), spec.kind, inputs);
    c.items = spec.items;
    let mut leading = std::mem::take(pending);
    leading.extend(spec.leading);
    c.leading = leading;
    ctx.doc.transforms.push(c);
    name
}

/// Fluent Bit's tag match: `*` matches any run of characters.
pub fn tag_matches(pattern: &str, tag: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = tag.chars().collect();
    // Iterative wildcard match with backtracking on the last `*`.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The filters and the outputs an input's records go through.
type Route = (Vec<usize>, Vec<usize>);

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

fn wire(
    ctx: &mut Ctx,
    inputs: &mut [Input],
    filters: &[&Section],
    outputs: &[&Section],
    parsers: &[&Section],
    service: &Service,
) {
    // Group inputs by the filters and outputs they go through, in input order.
    let mut groups: Vec<(Route, Vec<usize>)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let f: Vec<usize> = (0..filters.len())
            .filter(|&k| section_matches(filters[k], &input.tag))
            .collect();
        let o: Vec<usize> = (0..outputs.len())
            .filter(|&k| section_matches(outputs[k], &input.tag))
            .collect();
        match groups
            .iter_mut()
            .find(|(route, _)| *route == (f.clone(), o.clone()))
        {
            Some((_, members)) => members.push(i),
            None => groups.push(((f, o), vec![i])),
        }
    }
    // Convert each filter in use once; instances are made per group below.
    let filter_specs: Vec<Option<Result<Vec<Spec>, Vec<String>>>> = filters
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let used = groups.iter().any(|((fs, _), _)| fs.contains(&k));
            used.then(|| super::fluentbit_filters::filter(ctx, f, parsers))
        })
        .collect();
    let mut reported = vec![false; filters.len()];
    let mut sink_inputs: Vec<Vec<String>> = vec![Vec::new(); outputs.len()];
    // Comments on left-out filters wait for the first sink of their group.
    let mut waiting: Vec<(Vec<usize>, Vec<String>)> = Vec::new();
    for ((fs, os), members) in &groups {
        let mut heads: Vec<String> = members.iter().map(|&i| inputs[i].head.clone()).collect();
        heads.dedup();
        let mut pending: Vec<String> = Vec::new();
        for &k in fs {
            let copies = groups.iter().filter(|((f, _), _)| f.contains(&k)).count();
            match &filter_specs[k] {
                None => {}
                Some(Ok(specs)) => {
                    for spec in specs {
                        let mut spec = spec.clone();
                        if copies > 1 {
                            spec.name = format!("{}_{}", spec.name, inputs[members[0]].source);
                        }
                        let name = add_transform(ctx, spec, heads.clone(), &mut pending);
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
        if os.is_empty() {
            for &i in members {
                let line = ctx.note(
                    Severity::Warning,
                    &inputs[i].place,
                    &format!("Tag {}", inputs[i].tag),
                    "no [OUTPUT] matches this tag: Fluent Bit discards these records; skiff reads them and delivers them nowhere",
                );
                ctx.doc.footer.push(line);
            }
        }
        for &o in os {
            sink_inputs[o].extend(heads.iter().cloned());
        }
        waiting.push((os.clone(), pending));
    }
    for (k, f) in filters.iter().enumerate() {
        if filter_specs[k].is_none() {
            let line = ctx.note(
                Severity::Note,
                &f.place,
                &what(f),
                "matches no input's tag; nothing to convert",
            );
            ctx.doc.footer.push(line);
        }
    }
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
        match super::fluentbit_outputs::output(ctx, o, service) {
            Ok(spec) => {
                let name = ctx.claim_name(&spec.name);
                let mut c = Component::new(name, spec.kind, inputs);
                c.items = spec.items;
                for (os, pending) in &mut waiting {
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
    for (_, pending) in waiting {
        ctx.doc.footer.extend(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_with_wildcards() {
        assert!(tag_matches("*", "app.logs"));
        assert!(tag_matches("app.*", "app.logs"));
        assert!(tag_matches("*.logs", "app.logs"));
        assert!(tag_matches("a*c*e", "abcde"));
        assert!(!tag_matches("app.*", "other.logs"));
        assert!(!tag_matches("app", "app.logs"));
        assert!(tag_matches("app.logs", "app.logs"));
    }
}
