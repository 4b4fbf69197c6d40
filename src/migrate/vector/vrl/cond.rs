//! `filter` conditions: `==`, `!=`, `exists()`, `match()`, `includes([...], .f)`, `!`, `&&`,
//! `||` and parentheses,
//! read into a [`Cond`] tree for the converter to put in conjunctive normal form.

use super::lex::{tokenize, Tok};
use super::syntax::{call, field_arg, is_sym, literal, Lit};
use crate::migrate::translate::check_regex;

/// A filter condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Atom(Atom),
}

/// A test on one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    Equals(Vec<String>, Lit),
    Exists(Vec<String>),
    Matches(Vec<String>, String),
    /// `includes([literals], .field)`: the field is one of the literals.
    OneOf(Vec<String>, Vec<Lit>),
}

/// Reads a `filter` condition; `Err` says why it is outside the subset (malformed text is
/// reported the same way: the caller keeps the transform out either way).
pub fn condition(src: &str) -> Result<Cond, String> {
    let toks = tokenize(src).map_err(|e| e.message)?;
    let toks: Vec<&Tok> = toks
        .iter()
        .filter(|t| t.tok != Tok::Newline)
        .map(|t| &t.tok)
        .collect();
    let mut pos = 0;
    let c = or_expr(&toks, &mut pos)?;
    if pos != toks.len() {
        return Err("a condition skiff cannot express".into());
    }
    Ok(c)
}

fn or_expr(t: &[&Tok], pos: &mut usize) -> Result<Cond, String> {
    let mut left = and_expr(t, pos)?;
    while is_sym(t.get(*pos), "||") {
        *pos += 1;
        left = Cond::Or(Box::new(left), Box::new(and_expr(t, pos)?));
    }
    Ok(left)
}

fn and_expr(t: &[&Tok], pos: &mut usize) -> Result<Cond, String> {
    let mut left = unary(t, pos)?;
    while is_sym(t.get(*pos), "&&") {
        *pos += 1;
        left = Cond::And(Box::new(left), Box::new(unary(t, pos)?));
    }
    Ok(left)
}

fn unary(t: &[&Tok], pos: &mut usize) -> Result<Cond, String> {
    if is_sym(t.get(*pos), "!") {
        *pos += 1;
        return Ok(Cond::Not(Box::new(unary(t, pos)?)));
    }
    if is_sym(t.get(*pos), "(") {
        *pos += 1;
        let c = or_expr(t, pos)?;
        if !is_sym(t.get(*pos), ")") {
            return Err("`(` is never closed".into());
        }
        *pos += 1;
        return Ok(c);
    }
    atom(t, pos)
}

fn atom(t: &[&Tok], pos: &mut usize) -> Result<Cond, String> {
    let rest = &t[*pos..];
    if let [Tok::Path(p), Tok::Sym(op @ ("==" | "!=")), ..] = rest {
        let lit_len = if is_sym(rest.get(2), "-") { 2 } else { 1 };
        let lit = rest
            .get(2..2 + lit_len)
            .and_then(literal)
            .ok_or("a comparison with something other than a literal")?;
        *pos += 2 + lit_len;
        let a = Cond::Atom(Atom::Equals(p.clone(), lit));
        return Ok(if *op == "!=" {
            Cond::Not(Box::new(a))
        } else {
            a
        });
    }
    // A call: find its closing parenthesis.
    if let [Tok::Ident(_), ..] = rest {
        let mut depth = 0;
        let mut end = None;
        for (i, tok) in rest.iter().enumerate() {
            match tok {
                Tok::Sym("(") => depth += 1,
                Tok::Sym(")") => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.ok_or("an unfinished call")?;
        let (name, args) = call(&rest[..end]).ok_or("a call skiff cannot express")?;
        *pos += end;
        return match (name, args.as_slice()) {
            ("exists", [a]) => field_arg(a)
                .map(|p| Cond::Atom(Atom::Exists(p)))
                .ok_or_else(|| "exists() needs a field".into()),
            ("match", [a, b]) => match (field_arg(a), b.as_slice()) {
                (Some(p), [Tok::Regex(re)]) => match check_regex(re) {
                    Ok(()) => Ok(Cond::Atom(Atom::Matches(p, re.clone()))),
                    Err(why) => Err(format!("the regex r'{re}' {why}")),
                },
                _ => Err("match() needs a field and a regex literal".into()),
            },
            ("includes", [list, b]) => {
                let p = field_arg(b).ok_or("includes() needs a literal array and a field")?;
                literals(list)
                    .map(|l| Cond::Atom(Atom::OneOf(p, l)))
                    .ok_or_else(|| "includes() needs an array of literals".into())
            }
            (name, _) => Err(format!("`{name}` has no skiff equivalent in a filter")),
        };
    }
    Err("a condition skiff cannot express".into())
}

/// `[lit, lit, ...]`: the literals of an array.
fn literals(toks: &[&Tok]) -> Option<Vec<Lit>> {
    let inner = toks.strip_prefix(&[&Tok::Sym("[")])?;
    let inner = inner.strip_suffix(&[&Tok::Sym("]")])?;
    inner
        .split(|t| **t == Tok::Sym(","))
        .filter(|item| !item.is_empty())
        .map(literal)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<String> {
        s.split('.')
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn conditions() {
        let c = condition(".level == \"DEBUG\" && !exists(.x) || match(.m, r'^a')").unwrap();
        let a = Cond::Atom(Atom::Equals(p("level"), Lit::Str("DEBUG".into())));
        let b = Cond::Not(Box::new(Cond::Atom(Atom::Exists(p("x")))));
        let m = Cond::Atom(Atom::Matches(p("m"), "^a".into()));
        assert_eq!(
            c,
            Cond::Or(Box::new(Cond::And(Box::new(a), Box::new(b))), Box::new(m))
        );
        assert!(condition(".a != 3").is_ok());
        assert_eq!(
            condition("includes([\"web\", 3], .component)").unwrap(),
            Cond::Atom(Atom::OneOf(
                p("component"),
                vec![Lit::Str("web".into()), Lit::Int(3)]
            ))
        );
        assert!(condition(".a > 3").is_err());
        assert!(condition("starts_with(.a, \"x\")").is_err());
    }
}
