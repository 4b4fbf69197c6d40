//! A Vector `filter` transform as skiff `filter` transforms. The condition is put in
//! conjunctive normal form: an AND of clauses, each an OR of tests. Single-test clauses become
//! one filter (`match = "all"`), each longer clause a filter of its own (`match = "any"`), in a
//! row; a negated test becomes a condition with `not = true`.

use crate::migrate::ir::{Ctx, Severity, Spec, Val};
use crate::migrate::translate::vector_env;
use crate::migrate::tree::Kind;
use crate::migrate::vector::keys::Keys;
use crate::migrate::vector::values::{field_path, lit_val, text};
use crate::migrate::vector::vrl::{self, Atom, Cond};

/// Most clauses a condition may expand to in conjunctive normal form.
const MAX_CLAUSES: usize = 16;

/// Conjunctive normal form: a list of clauses (OR of literals), all of which must hold.
fn cnf(c: &Cond, neg: bool) -> Option<Vec<Clause>> {
    let out = match (c, neg) {
        (Cond::Atom(a), _) => vec![vec![(a.clone(), neg)]],
        (Cond::Not(x), _) => cnf(x, !neg)?,
        (Cond::And(a, b), false) | (Cond::Or(a, b), true) => {
            let mut v = cnf(a, neg)?;
            v.extend(cnf(b, neg)?);
            v
        }
        (Cond::Or(a, b), false) | (Cond::And(a, b), true) => {
            let (ca, cb) = (cnf(a, neg)?, cnf(b, neg)?);
            let mut v = Vec::new();
            for x in &ca {
                for y in &cb {
                    v.push(x.iter().chain(y).cloned().collect());
                }
            }
            v
        }
    };
    (out.len() <= MAX_CLAUSES).then_some(out)
}

fn condition_val(atom: &Atom, not: bool) -> Option<Val> {
    let (path, test) = match atom {
        Atom::Equals(p, l) => (p, ("equals", lit_val(l))),
        Atom::Exists(p) => (p, ("exists", Val::Bool(true))),
        Atom::Matches(p, re) => (p, ("matches", Val::interp(vector_env(re)))),
        Atom::OneOf(p, list) => (p, ("one_of", Val::List(list.iter().map(lit_val).collect()))),
    };
    let mut t = vec![
        ("field".to_owned(), Val::text(&field_path(path)?)),
        (test.0.to_owned(), test.1),
    ];
    if not {
        t.push(("not".into(), Val::Bool(true)));
    }
    Some(Val::Table(t))
}

/// A `filter` transform: its condition as one or more skiff filters in a row.
pub fn filter(ctx: &mut Ctx, keys: &mut Keys) -> Result<Vec<Spec>, Vec<String>> {
    let taken = keys
        .take("condition")
        .or_else(|| keys.take("condition.source"));
    if let Some((t, _)) = keys.take("condition.type") {
        if text(t).as_deref() != Some("vrl") {
            return Err(vec![ctx.note(
                Severity::Warning,
                &keys.place(keys.line),
                "condition.type",
                "only VRL conditions can be converted; events go on without this filter",
            )]);
        }
    }
    let Some((node, line)) = taken else {
        return Err(vec![ctx.note(
            Severity::Warning,
            &keys.place(keys.line),
            "filter",
            "has no condition; events go on without it",
        )]);
    };
    let src = match &node.kind {
        Kind::Str(s) => s.clone(),
        _ => String::new(),
    };
    let clauses = vrl::condition(&src).ok().and_then(|c| cnf(&c, false));
    match clauses.and_then(filters) {
        Some(specs) => Ok(specs),
        None => Err(left_out(ctx, keys, &src, line)),
    }
}

/// A clause: tests (each possibly negated), of which at least one must hold.
type Clause = Vec<(Atom, bool)>;

/// The clauses as skiff filters: the single tests together, then one filter per longer clause.
fn filters(clauses: Vec<Clause>) -> Option<Vec<Spec>> {
    let (single, multi): (Vec<_>, Vec<_>) = clauses.into_iter().partition(|c| c.len() == 1);
    let mut specs = Vec::new();
    if !single.is_empty() {
        let conds = single
            .iter()
            .map(|c| condition_val(&c[0].0, c[0].1))
            .collect::<Option<Vec<_>>>()?;
        let mut s = Spec::new("filter", "filter");
        s.set("conditions", Val::List(conds));
        specs.push(s);
    }
    for clause in multi {
        let conds = clause
            .iter()
            .map(|(a, n)| condition_val(a, *n))
            .collect::<Option<Vec<_>>>()?;
        let mut s = Spec::new("filter", "filter");
        s.set("match", Val::text("any"));
        s.set("conditions", Val::List(conds));
        specs.push(s);
    }
    Some(specs)
}

/// The comment lines for a condition that cannot be converted: why, then the condition.
fn left_out(ctx: &mut Ctx, keys: &Keys, src: &str, line: usize) -> Vec<String> {
    let why = match vrl::condition(src) {
        Err(e) => format!("{e}; events go on without this filter"),
        Ok(_) => {
            "is too complex to express as skiff filters; events go on without this filter".into()
        }
    };
    let mut lines = vec![ctx.note(
        Severity::Warning,
        &keys.place(line),
        &format!("condition {}", src.trim()),
        &why,
    )];
    lines.extend(src.lines().map(|l| format!("  {l}")));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnf_distributes_or_over_and() {
        let c = vrl::condition("(.a == 1 && .b == 2) || .c == 3").unwrap();
        let clauses = cnf(&c, false).unwrap();
        assert_eq!(clauses.len(), 2);
        assert!(clauses.iter().all(|c| c.len() == 2));
        let c = vrl::condition("!(.a == 1 || exists(.b))").unwrap();
        let clauses = cnf(&c, false).unwrap();
        assert_eq!(clauses.len(), 2);
        assert!(clauses.iter().all(|c| c.len() == 1 && c[0].1));
    }
}
