//! The pieces of VRL syntax that statements and conditions share: literals, calls and their
//! arguments, field arguments.

use super::lex::Tok;

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

pub(super) fn is_sym(t: Option<&&Tok>, s: &str) -> bool {
    matches!(t, Some(Tok::Sym(x)) if *x == s)
}

/// A call `NAME!(args)` or `NAME(args)`: the name, and the argument token lists.
pub(super) fn call<'a>(toks: &[&'a Tok]) -> Option<(&'a str, Vec<Vec<&'a Tok>>)> {
    let Some(Tok::Ident(name)) = toks.first() else {
        return None;
    };
    let mut i = 1;
    if is_sym(toks.get(i), "!") {
        i += 1;
    }
    if !is_sym(toks.get(i), "(") || !is_sym(toks.last(), ")") {
        return None;
    }
    let inner = &toks[i + 1..toks.len() - 1];
    let mut args = Vec::new();
    let mut depth = 0;
    let mut cur = Vec::new();
    for t in inner {
        match t {
            Tok::Sym("(" | "[" | "{") => depth += 1,
            Tok::Sym(")" | "]" | "}") => depth -= 1,
            Tok::Sym(",") if depth == 0 => {
                args.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(*t);
    }
    if !cur.is_empty() {
        args.push(cur);
    }
    Some((name.as_str(), args))
}

/// One call argument's tokens.
pub(super) type Arg<'a> = Vec<&'a Tok>;

/// Positional and named (`name: value`) arguments.
pub(super) fn split_args(args: Vec<Arg<'_>>) -> (Vec<Arg<'_>>, Vec<(&str, Arg<'_>)>) {
    let mut pos = Vec::new();
    let mut named = Vec::new();
    for a in args {
        match (a.first(), a.get(1)) {
            (Some(Tok::Ident(n)), Some(Tok::Sym(":"))) => named.push((n.as_str(), a[2..].to_vec())),
            _ => pos.push(a),
        }
    }
    (pos, named)
}

/// A field argument, unwrapping `string!(.x)` / `to_string!(.x)`.
pub(super) fn field_arg(a: &[&Tok]) -> Option<Vec<String>> {
    match a {
        [Tok::Path(p)] => Some(p.clone()),
        _ => match call(a)? {
            ("string" | "to_string", args) if args.len() == 1 => field_arg(&args[0]),
            _ => None,
        },
    }
}

pub(super) fn str_arg(a: &[&Tok]) -> Option<String> {
    match a {
        [Tok::Str(s)] => Some(s.clone()),
        _ => None,
    }
}

pub(super) fn literal(toks: &[&Tok]) -> Option<Lit> {
    match toks {
        [Tok::Str(s)] => Some(Lit::Str(s.clone())),
        [Tok::Int(i)] => Some(Lit::Int(*i)),
        [Tok::Float(f)] => Some(Lit::Float(*f)),
        [Tok::Sym("-"), Tok::Int(i)] => Some(Lit::Int(-i)),
        [Tok::Sym("-"), Tok::Float(f)] => Some(Lit::Float(-f)),
        [Tok::Ident(b)] if b == "true" => Some(Lit::Bool(true)),
        [Tok::Ident(b)] if b == "false" => Some(Lit::Bool(false)),
        _ => None,
    }
}
