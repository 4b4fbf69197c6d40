//! The `grep` filter as a skiff `filter` with `matches` conditions: each `Regex` keeps what
//! matches, each `Exclude` (a negated condition) drops it, combined as `Logical_Op` says.

use crate::migrate::fluentbit::props::{key_value, left_out, record_accessor, Props};
use crate::migrate::fluentbit::section::Section;
use crate::migrate::ir::{Ctx, Spec, Val};
use crate::migrate::translate::onigmo_to_rust;

/// The `grep` filter.
pub fn grep(
    ctx: &mut Ctx,
    p: &mut Props,
    name: &str,
    _: &[&Section],
) -> Result<Vec<Spec>, Vec<String>> {
    let op = p
        .take("logical_op")
        .map(|v| v.value.to_ascii_lowercase())
        .unwrap_or_else(|| "legacy".into());
    let rules = p.take_each(&["regex", "exclude"]);
    let mut conditions = Vec::new();
    let (mut includes, mut excludes) = (0, 0);
    for rule in &rules {
        let (key, re) = key_value(rule);
        let pattern = onigmo_to_rust(&re).map_err(|why| {
            let why = format!(
                "the regex of `{} {}` {why}; records go on without this filter",
                rule.key, rule.value
            );
            left_out(ctx, p.section, &why)
        })?;
        let exclude = rule.key.eq_ignore_ascii_case("exclude");
        if exclude {
            excludes += 1;
        } else {
            includes += 1;
        }
        conditions.push(condition(&key, &pattern, exclude));
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
    Ok(vec![spec])
}

/// A `matches` condition on the record accessor `key`, negated for an `Exclude`.
fn condition(key: &str, pattern: &str, exclude: bool) -> Val {
    let mut cond = vec![
        ("field".to_owned(), Val::text(&record_accessor(key))),
        ("matches".to_owned(), Val::text(pattern)),
    ];
    if exclude {
        cond.push(("not".into(), Val::Bool(true)));
    }
    Val::Table(cond)
}
