//! The filters that rewrite fields: `modify` and `record_modifier` (add, rename and remove
//! fields, as rows of `add_fields` / `rename_fields` / `remove_fields` transforms in rule
//! order) and `nest` (a rename into a sub-object, when the keys are named).

use crate::migrate::fluentbit::props::{key_value, left_out, Props};
use crate::migrate::fluentbit::section::{Prop, Section};
use crate::migrate::ir::{Ctx, Item, Severity, Spec, Val};
use crate::migrate::translate::fb_env;

/// How the `KEY VALUE` of a rule become a field and its value.
#[derive(Clone, Copy)]
enum Shape {
    /// `KEY` set to `VALUE`.
    Value,
    /// `VALUE` set to a copy of `KEY`.
    CopyTo,
    /// `KEY` renamed to `VALUE`.
    Rename,
    /// `KEY` removed.
    Remove,
}

/// The `modify` rules skiff converts: the transform, whether a rule overwrites a field that
/// exists, and the shape of its arguments.
const MODIFY_RULES: &[(&str, &str, bool, Shape)] = &[
    ("set", "add_fields", true, Shape::Value),
    ("add", "add_fields", false, Shape::Value),
    ("copy", "add_fields", false, Shape::CopyTo),
    ("hard_copy", "add_fields", true, Shape::CopyTo),
    ("rename", "rename_fields", true, Shape::Rename),
    ("hard_rename", "rename_fields", true, Shape::Rename),
    ("remove", "remove_fields", true, Shape::Remove),
];

/// `modify` rules with no skiff equivalent (reported one by one).
const MODIFY_UNSUPPORTED: &[&str] = &[
    "remove_wildcard",
    "remove_regex",
    "move_to_start",
    "move_to_end",
];

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

/// Warns about a rule with no skiff equivalent.
fn unsupported(ctx: &mut Ctx, p: &Prop) -> String {
    ctx.note(
        Severity::Warning,
        &p.place,
        &format!("{} {}", p.key, p.value),
        "has no skiff equivalent; left out",
    )
}

fn finish_runs(
    ctx: &mut Ctx,
    p: &Props,
    runs: Vec<Run>,
    name: &str,
    mut comments: Vec<String>,
) -> Result<Vec<Spec>, Vec<String>> {
    if runs.is_empty() {
        return Err(left_out(
            ctx,
            p.section,
            "no rule could be converted; records go on without this filter",
        ));
    }
    let mut specs: Vec<Spec> = runs.into_iter().map(|r| r.spec(name)).collect();
    if let Some(first) = specs.first_mut() {
        first.items.extend(comments.drain(..).map(Item::Comment));
    }
    Ok(specs)
}

/// The `modify` filter.
pub fn modify(
    ctx: &mut Ctx,
    p: &mut Props,
    name: &str,
    _: &[&Section],
) -> Result<Vec<Spec>, Vec<String>> {
    if p.section.get("condition").is_some() {
        return Err(left_out(ctx, p.section, "conditional rules (Condition) have no skiff equivalent; records go on without this filter"));
    }
    let keys: Vec<&str> = MODIFY_RULES
        .iter()
        .map(|r| r.0)
        .chain(MODIFY_UNSUPPORTED.iter().copied())
        .collect();
    let mut runs = Vec::new();
    let mut comments = Vec::new();
    for rule in p.take_each(&keys) {
        let (k, v) = key_value(rule);
        check_dotted(ctx, rule, &k, &mut comments);
        let key = rule.key.to_ascii_lowercase();
        let Some(&(_, kind, overwrite, shape)) = MODIFY_RULES.iter().find(|r| r.0 == key) else {
            comments.push(unsupported(ctx, rule));
            continue;
        };
        let (field, value) = match shape {
            Shape::Value => (k, Some(Val::interp(fb_env(&v, &[])))),
            Shape::CopyTo => (v, Some(Val::text(&format!("{{{{ {k} }}}}")))),
            Shape::Rename => (k, Some(Val::text(&v))),
            Shape::Remove => (k, None),
        };
        push_rule(&mut runs, kind, overwrite, field, value);
    }
    finish_runs(ctx, p, runs, name, comments)
}

/// The `record_modifier` filter.
pub fn record_modifier(
    ctx: &mut Ctx,
    p: &mut Props,
    name: &str,
    _: &[&Section],
) -> Result<Vec<Spec>, Vec<String>> {
    let rules = p.take_each(&["record", "remove_key"]);
    let mut runs = Vec::new();
    let mut comments = Vec::new();
    for rule in rules {
        if rule.key.eq_ignore_ascii_case("record") {
            let (k, v) = key_value(rule);
            check_dotted(ctx, rule, &k, &mut comments);
            let value = Val::interp(fb_env(&v, &[]));
            push_rule(&mut runs, "add_fields", true, k, Some(value));
        } else {
            let key = rule.value.trim().to_owned();
            push_rule(&mut runs, "remove_fields", true, key, None);
        }
    }
    for v in p.take_each(&["allowlist_key", "whitelist_key", "uuid_key"]) {
        comments.push(unsupported(ctx, v));
    }
    finish_runs(ctx, p, runs, name, comments)
}

/// The `nest` filter, when it nests named keys (a rename into a sub-object).
pub fn nest(
    ctx: &mut Ctx,
    p: &mut Props,
    name: &str,
    _: &[&Section],
) -> Result<Vec<Spec>, Vec<String>> {
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
    Ok(vec![spec])
}
