//! Fluent Bit `[FILTER]`s as skiff transforms: `modify` and `record_modifier` (add, rename and
//! remove fields), `nest` (renames into a sub-object, when the keys are named), `grep` (a
//! `filter` with `matches` conditions), `parser`, `kubernetes` and the container `multiline`
//! parsers. A filter with no equivalent is left out whole, with a comment and a warning: half a
//! filter would change records silently.

use super::fluentbit::{Prop, Section};
use super::fluentbit_plugins::{container_parser, left_out, parser_spec, record_accessor};
use super::fluentbit_props::{report_rest, what, Props};
use super::ir::{Ctx, Item, Severity, Spec, Val};
use super::translate::{fb_bool, onigmo_to_rust};

/// Converts a `[FILTER]` into the transforms that do its job, in order; `Err` holds the
/// comment lines when it has no equivalent.
pub fn filter(ctx: &mut Ctx, s: &Section, parsers: &[&Section]) -> Result<Vec<Spec>, Vec<String>> {
    let plugin = s.name().to_ascii_lowercase();
    let mut p = Props::new(s);
    p.take("name");
    p.take("match");
    p.take("match_regex");
    let alias = p.take("alias").map(|a| a.value.clone());
    let name = alias.unwrap_or_else(|| plugin.clone());
    let mut specs = match plugin.as_str() {
        "modify" => modify(ctx, &mut p, &name)?,
        "record_modifier" => record_modifier(ctx, &mut p, &name)?,
        "nest" => vec![nest(ctx, &mut p, &name)?],
        "grep" => vec![grep(ctx, &mut p, &name)?],
        "parser" => vec![parser(ctx, &mut p, parsers)?],
        "kubernetes" => vec![kubernetes(ctx, &mut p, &name)],
        "multiline" => vec![multiline(ctx, &mut p)?],
        _ => {
            return Err(left_out(
                ctx,
                s,
                "has no skiff equivalent; records go on without it",
            ))
        }
    };
    let origin = format!("From {} ({}).", what(s), ctx.place_text(&s.place));
    if let Some(first) = specs.first_mut() {
        first.leading.insert(0, origin);
    }
    if let Some(last) = specs.last_mut() {
        report_rest(ctx, &mut p, &mut last.items);
    }
    Ok(specs)
}

/// Splits `KEY VALUE` (the value may hold spaces).
fn key_value(p: &Prop) -> (String, String) {
    let v = p.value.trim();
    match v.split_once(char::is_whitespace) {
        Some((k, rest)) => (k.to_owned(), rest.trim().to_owned()),
        None => (v.to_owned(), String::new()),
    }
}

/// Consecutive rules of one kind, merged into one transform.
struct Run {
    kind: &'static str,
    overwrite: bool,
    fields: Vec<(String, Val)>,
    list: Vec<Val>,
}

impl Run {
    fn spec(self, name: &str) -> Spec {
        let mut spec = Spec::new(name, self.kind);
        if self.kind == "remove_fields" {
            spec.set("fields", Val::List(self.list));
        } else {
            spec.set("fields", Val::Table(self.fields));
        }
        if self.kind == "add_fields" && !self.overwrite {
            spec.set("overwrite", Val::Bool(false));
        }
        spec
    }
}

fn push_rule(
    runs: &mut Vec<Run>,
    kind: &'static str,
    overwrite: bool,
    key: String,
    value: Option<Val>,
) {
    let same = runs
        .last()
        .is_some_and(|r| r.kind == kind && r.overwrite == overwrite);
    if !same {
        runs.push(Run {
            kind,
            overwrite,
            fields: Vec::new(),
            list: Vec::new(),
        });
    }
    if let Some(run) = runs.last_mut() {
        match value {
            // Rules apply in order: a later Set wins; a later Add, Copy or Rename of a key
            // already handled does nothing.
            Some(v) if run.fields.iter().any(|(k, _)| *k == key) => {
                if overwrite && kind == "add_fields" {
                    run.fields.retain(|(k, _)| *k != key);
                    run.fields.push((key, v));
                }
            }
            Some(v) => run.fields.push((key, v)),
            None => run.list.push(Val::text(&key)),
        }
    }
}

/// Warns about a key with a dot: Fluent Bit writes it as one flat key, skiff reads a path.
fn check_dotted(ctx: &mut Ctx, p: &Prop, key: &str, comments: &mut Vec<String>) {
    if key.contains('.') {
        comments.push(ctx.note(
            Severity::Warning,
            &p.place,
            &format!("{} {}", p.key, p.value),
            "Fluent Bit writes a key with a dot in its name; skiff reads the dot as nesting",
        ));
    }
}

fn finish_runs(runs: Vec<Run>, name: &str, mut comments: Vec<String>) -> Vec<Spec> {
    let mut specs: Vec<Spec> = runs.into_iter().map(|r| r.spec(name)).collect();
    if let Some(first) = specs.first_mut() {
        first.items.extend(comments.drain(..).map(Item::Comment));
    }
    specs
}

fn modify(ctx: &mut Ctx, p: &mut Props, name: &str) -> Result<Vec<Spec>, Vec<String>> {
    if p.section.get("condition").is_some() {
        return Err(left_out(ctx, p.section, "conditional rules (Condition) have no skiff equivalent; records go on without this filter"));
    }
    let rules = p.take_each(&[
        "set",
        "add",
        "rename",
        "hard_rename",
        "remove",
        "copy",
        "hard_copy",
        "remove_wildcard",
        "remove_regex",
        "move_to_start",
        "move_to_end",
    ]);
    let mut runs = Vec::new();
    let mut comments = Vec::new();
    for rule in rules {
        let (k, v) = key_value(rule);
        check_dotted(ctx, rule, &k, &mut comments);
        let as_val = |v: &str| Val::interp(super::translate::fb_env(v, &[]));
        match rule.key.to_ascii_lowercase().as_str() {
            "set" => push_rule(&mut runs, "add_fields", true, k, Some(as_val(&v))),
            "add" => push_rule(&mut runs, "add_fields", false, k, Some(as_val(&v))),
            "copy" => push_rule(
                &mut runs,
                "add_fields",
                false,
                v,
                Some(Val::text(&format!("{{{{ {k} }}}}"))),
            ),
            "hard_copy" => push_rule(
                &mut runs,
                "add_fields",
                true,
                v,
                Some(Val::text(&format!("{{{{ {k} }}}}"))),
            ),
            "rename" | "hard_rename" => {
                push_rule(&mut runs, "rename_fields", true, k, Some(Val::text(&v)))
            }
            "remove" => push_rule(&mut runs, "remove_fields", true, k, None),
            _ => comments.push(ctx.note(
                Severity::Warning,
                &rule.place,
                &format!("{} {}", rule.key, rule.value),
                "has no skiff equivalent; left out",
            )),
        }
    }
    if runs.is_empty() {
        return Err(left_out(
            ctx,
            p.section,
            "no rule could be converted; records go on without this filter",
        ));
    }
    Ok(finish_runs(runs, name, comments))
}

fn record_modifier(ctx: &mut Ctx, p: &mut Props, name: &str) -> Result<Vec<Spec>, Vec<String>> {
    let rules = p.take_each(&["record", "remove_key"]);
    let mut runs = Vec::new();
    let mut comments = Vec::new();
    for rule in rules {
        if rule.key.eq_ignore_ascii_case("record") {
            let (k, v) = key_value(rule);
            check_dotted(ctx, rule, &k, &mut comments);
            push_rule(
                &mut runs,
                "add_fields",
                true,
                k,
                Some(Val::interp(super::translate::fb_env(&v, &[]))),
            );
        } else {
            push_rule(
                &mut runs,
                "remove_fields",
                true,
                rule.value.trim().to_owned(),
                None,
            );
        }
    }
    for v in p.take_each(&["allowlist_key", "whitelist_key", "uuid_key"]) {
        comments.push(ctx.note(
            Severity::Warning,
            &v.place,
            &format!("{} {}", v.key, v.value),
            "has no skiff equivalent; left out",
        ));
    }
    if runs.is_empty() {
        return Err(left_out(
            ctx,
            p.section,
            "no rule could be converted; records go on without this filter",
        ));
    }
    Ok(finish_runs(runs, name, comments))
}

fn nest(ctx: &mut Ctx, p: &mut Props, name: &str) -> Result<Spec, Vec<String>> {
    let op = p
        .take("operation")
        .map(|v| v.value.to_ascii_lowercase())
        .unwrap_or_default();
    let under = p.take("nest_under").map(|v| v.value.clone());
    let wildcards = p.take_each(&["wildcard"]);
    let remove_prefix = p
        .take("remove_prefix")
        .map(|v| v.value.clone())
        .unwrap_or_default();
    let named = !wildcards.is_empty() && wildcards.iter().all(|w| !w.value.contains('*'));
    let (true, Some(under)) = (op == "nest" && named, under) else {
        return Err(left_out(
            ctx,
            p.section,
            "skiff can nest named keys (a rename into a sub-object), but not wildcards or `lift`; records go on without this filter",
        ));
    };
    let fields = wildcards
        .iter()
        .map(|w| {
            let key = w.value.trim();
            let new = key.strip_prefix(remove_prefix.as_str()).unwrap_or(key);
            (key.to_owned(), Val::text(&format!("{under}.{new}")))
        })
        .collect();
    let mut spec = Spec::new(name, "rename_fields");
    spec.set("fields", Val::Table(fields));
    Ok(spec)
}

fn grep(ctx: &mut Ctx, p: &mut Props, name: &str) -> Result<Spec, Vec<String>> {
    let op = p
        .take("logical_op")
        .map(|v| v.value.to_ascii_lowercase())
        .unwrap_or_else(|| "legacy".into());
    let rules = p.take_each(&["regex", "exclude"]);
    let mut conditions = Vec::new();
    let (mut includes, mut excludes) = (0, 0);
    for rule in &rules {
        let (key, re) = key_value(rule);
        let pattern = match onigmo_to_rust(&re) {
            Ok(r) => r,
            Err(why) => {
                return Err(left_out(
                    ctx,
                    p.section,
                    &format!(
                        "the regex of `{} {}` {why}; records go on without this filter",
                        rule.key, rule.value
                    ),
                ))
            }
        };
        let mut cond = vec![
            ("field".to_owned(), Val::text(&record_accessor(&key))),
            ("matches".to_owned(), Val::text(&pattern)),
        ];
        if rule.key.eq_ignore_ascii_case("exclude") {
            excludes += 1;
            cond.push(("not".into(), Val::Bool(true)));
        } else {
            includes += 1;
        }
        conditions.push(Val::Table(cond));
    }
    if conditions.is_empty() {
        return Err(left_out(
            ctx,
            p.section,
            "a grep filter without rules; nothing to convert",
        ));
    }
    // Keep a record when: legacy/and: every Regex matches and no Exclude matches; or: any
    // Regex matches (Exclude with `or` drops on any match, like legacy). An `and` of Excludes
    // drops only when all match: keep when any does not.
    let any = match op.as_str() {
        "or" => includes > 0,
        "and" => includes == 0 && excludes > 0,
        _ => false,
    };
    let mut spec = Spec::new(name, "filter");
    if any {
        spec.set("match", Val::text("any"));
    }
    spec.set("conditions", Val::List(conditions));
    Ok(spec)
}

fn parser(ctx: &mut Ctx, p: &mut Props, parsers: &[&Section]) -> Result<Spec, Vec<String>> {
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
    let Some(ps) = parsers.iter().find(|s| s.name() == first.value) else {
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
    Ok(spec)
}

fn kubernetes(ctx: &mut Ctx, p: &mut Props, name: &str) -> Spec {
    let mut spec = Spec::new(name, "kubernetes");
    let line = ctx.note(
        Severity::Note,
        &p.section.place,
        &what(p.section),
        "skiff reads the pod's metadata from Downward API env vars (POD_NAME, POD_NAMESPACE, NODE_NAME, POD_IP, CONTAINER_NAME) and files (labels_file, annotations_file), not from the API server: add them to the pod spec",
    );
    spec.comment(line);
    for v in p.take_each(&[
        "kube_url",
        "kube_ca_file",
        "kube_ca_path",
        "kube_token_file",
        "kube_tag_prefix",
        "labels",
        "annotations",
        "buffer_size",
        "use_kubelet",
        "kubelet_port",
        "kube_meta_cache_ttl",
        "tls.verify",
        "tls.debug",
    ]) {
        let line = ctx.note(
            Severity::Note,
            &v.place,
            &v.key,
            "not needed: skiff does not call the API server",
        );
        spec.comment(line);
    }
    for v in p.take_each(&[
        "merge_log",
        "merge_log_key",
        "keep_log",
        "k8s-logging.parser",
        "k8s-logging.exclude",
    ]) {
        if fb_bool(&v.value) == Some(false) {
            continue;
        }
        let line = ctx.note(Severity::Warning, &v.place, &format!("{} {}", v.key, v.value), "has no skiff equivalent (add a parse_json transform on the field for Merge_Log); left out");
        spec.comment(line);
    }
    spec
}

fn multiline(ctx: &mut Ctx, p: &mut Props) -> Result<Spec, Vec<String>> {
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
    match container_parser(ctx, v, &key) {
        Ok(spec) => Ok(spec),
        Err(line) => {
            let mut lines = vec![line];
            lines.extend(p.section.raw.iter().map(|l| format!("  {l}")));
            Err(lines)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::ir::Place;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    fn section(lines: &[(&str, &str)]) -> Section {
        let file = Arc::new(PathBuf::from("f.conf"));
        Section {
            kind: "FILTER".into(),
            place: Place {
                file: file.clone(),
                line: 1,
            },
            props: lines
                .iter()
                .enumerate()
                .map(|(i, (k, v))| Prop {
                    key: (*k).into(),
                    value: (*v).into(),
                    complex: false,
                    place: Place {
                        file: file.clone(),
                        line: i + 2,
                    },
                })
                .collect(),
            raw: vec!["[FILTER]".into()],
        }
    }

    #[test]
    fn modify_rules_keep_their_order_in_runs() {
        let s = section(&[
            ("Name", "modify"),
            ("Match", "*"),
            ("Set", "a 1"),
            ("Set", "b two words"),
            ("Rename", "c d"),
            ("Add", "e 5"),
            ("Remove", "f"),
        ]);
        let mut ctx = Ctx::new(Path::new("f.conf"));
        let specs = filter(&mut ctx, &s, &[]).unwrap();
        let kinds: Vec<&str> = specs.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            ["add_fields", "rename_fields", "add_fields", "remove_fields"]
        );
        assert!(ctx.notes.is_empty(), "{:?}", ctx.notes);
    }

    #[test]
    fn grep_and_of_excludes_keeps_when_any_differs() {
        let s = section(&[
            ("Name", "grep"),
            ("Logical_Op", "and"),
            ("Exclude", "a x"),
            ("Exclude", "b y"),
        ]);
        let mut ctx = Ctx::new(Path::new("f.conf"));
        let spec = filter(&mut ctx, &s, &[]).unwrap().remove(0);
        assert!(spec
            .items
            .contains(&Item::Key("match".into(), Val::text("any"))));
    }

    #[test]
    fn unknown_filters_are_left_out_with_a_warning() {
        let s = section(&[("Name", "lua"), ("script", "x.lua")]);
        let mut ctx = Ctx::new(Path::new("f.conf"));
        let lines = filter(&mut ctx, &s, &[]).unwrap_err();
        assert!(lines[0].contains("[FILTER] lua (line 1)"), "{lines:?}");
        assert_eq!(ctx.notes[0].severity, Severity::Warning);
    }
}
