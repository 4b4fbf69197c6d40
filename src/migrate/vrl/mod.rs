//! A small reader for the part of VRL (Vector Remap Language) that maps onto skiff transforms.
//!
//! A `remap` program is split into statements; each statement is recognised as one [`Op`]:
//! parsing a field (`. = parse_json!(.message)`, `parse_regex!`, `parse_logfmt!`), parsing a
//! timestamp (`.t = parse_timestamp!(.t, "%fmt")`), setting a field to a literal, to
//! `get_env_var!("X")` or to another field, renaming (`.b = del(.a)`), deleting (`del(.x)`).
//! Anything else (`if`, function calls, arithmetic...) becomes [`Op::Unsupported`] with its
//! text, so the caller can comment it out. `filter` conditions (`==`, `!=`, `exists`, `match`,
//! `!`, `&&`, `||`, parentheses) are read into a [`Cond`] tree.
//!
//! Only malformed text (an unterminated string or bracket) is an error; everything that merely
//! goes beyond this subset is reported, not refused.

mod cond;
mod lex;

use super::translate::{check_regex, check_time_format};

pub use cond::{condition, Atom, Cond};
use lex::{statements, tokenize, Tok};

/// Malformed VRL: the 0-based line within the program and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrlError {
    pub line: usize,
    pub message: String,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// What a statement's right-hand side sets a field to.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Lit(Lit),
    /// `get_env_var!("NAME")`.
    Env(String),
    /// Another field (`.a = .b`).
    Field(Vec<String>),
}

/// Which parser a parse statement calls.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseKind {
    Json,
    Regex(String),
    Logfmt,
}

/// One recognised statement. `line` is 0-based within the program.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `TARGET = parse_x!(.field ...)` (`merge` for `|=`); an empty target is the root.
    Parse {
        kind: ParseKind,
        field: Vec<String>,
        target: Vec<String>,
        merge: bool,
        line: usize,
    },
    /// `.target = parse_timestamp!(.field, "fmt" [, timezone: "tz"])`.
    Timestamp {
        target: Vec<String>,
        field: Vec<String>,
        format: String,
        timezone: Option<String>,
        line: usize,
    },
    Set {
        target: Vec<String>,
        value: SetValue,
        line: usize,
    },
    /// `.to = del(.from)`.
    Rename {
        from: Vec<String>,
        to: Vec<String>,
        line: usize,
    },
    Del {
        field: Vec<String>,
        line: usize,
    },
    /// A statement outside the subset: its text and lines.
    Unsupported {
        text: String,
        line: usize,
        last_line: usize,
        reason: String,
    },
}

/// Reads a `remap` program into operations.
pub fn program(src: &str) -> Result<Vec<Op>, VrlError> {
    let toks = tokenize(src)?;
    let stmts = statements(src, &toks)?;
    Ok(stmts
        .iter()
        .map(|s| {
            let toks: Vec<&Tok> = s
                .toks
                .iter()
                .filter(|t| t.tok != Tok::Newline)
                .map(|t| &t.tok)
                .collect();
            statement(&toks, s.line).unwrap_or_else(|reason| Op::Unsupported {
                text: s.text.to_owned(),
                line: s.line,
                last_line: s.last_line,
                reason,
            })
        })
        .collect())
}

fn is_sym(t: Option<&&Tok>, s: &str) -> bool {
    matches!(t, Some(Tok::Sym(x)) if *x == s)
}

/// A call `NAME!(args)` or `NAME(args)`: the name, and the argument token lists.
fn call<'a>(toks: &[&'a Tok]) -> Option<(&'a str, Vec<Vec<&'a Tok>>)> {
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
type Arg<'a> = Vec<&'a Tok>;

/// Positional and named (`name: value`) arguments.
fn split_args(args: Vec<Arg<'_>>) -> (Vec<Arg<'_>>, Vec<(&str, Arg<'_>)>) {
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
fn field_arg(a: &[&Tok]) -> Option<Vec<String>> {
    match a {
        [Tok::Path(p)] => Some(p.clone()),
        _ => match call(a)? {
            ("string" | "to_string", args) if args.len() == 1 => field_arg(&args[0]),
            _ => None,
        },
    }
}

fn str_arg(a: &[&Tok]) -> Option<String> {
    match a {
        [Tok::Str(s)] => Some(s.clone()),
        _ => None,
    }
}

fn literal(toks: &[&Tok]) -> Option<Lit> {
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

fn statement(toks: &[&Tok], line: usize) -> Result<Op, String> {
    if let Some(("del", args)) = call(toks) {
        if let [a] = args.as_slice() {
            if let Some(field) = field_arg(a) {
                return Ok(Op::Del { field, line });
            }
        }
        return Err("only `del(.field)` is supported".into());
    }
    let (target, merge, rhs) = match toks {
        [Tok::Path(p), Tok::Sym("="), rhs @ ..] => (p.clone(), false, rhs),
        [Tok::Path(p), Tok::Sym("|="), rhs @ ..] => (p.clone(), true, rhs),
        [Tok::Ident(k), ..] if k == "if" => {
            return Err("conditional blocks (`if`) have no skiff equivalent".into())
        }
        _ => return Err("not an assignment or `del` skiff can express".into()),
    };
    if rhs.is_empty() {
        return Err("an assignment without a value".into());
    }
    if let Some(lit) = literal(rhs) {
        return if merge || target.is_empty() {
            Err("only a field can be set to a value".into())
        } else {
            Ok(Op::Set {
                target,
                value: SetValue::Lit(lit),
                line,
            })
        };
    }
    if let [Tok::Path(p)] = rhs {
        if target.is_empty() || merge {
            return Err("replacing the whole event has no skiff equivalent".into());
        }
        return Ok(Op::Set {
            target,
            value: SetValue::Field(p.clone()),
            line,
        });
    }
    let Some((name, args)) = call(rhs) else {
        return Err("an expression skiff cannot express".into());
    };
    let (pos, named) = split_args(args);
    let field = pos.first().and_then(|a| field_arg(a));
    let bang = is_sym(rhs.get(1), "!");
    match (name, field) {
        ("parse_json" | "parse_logfmt", Some(field))
            if bang && pos.len() == 1 && named.is_empty() =>
        {
            let kind = if name == "parse_json" {
                ParseKind::Json
            } else {
                ParseKind::Logfmt
            };
            Ok(Op::Parse {
                kind,
                field,
                target,
                merge,
                line,
            })
        }
        ("parse_regex", Some(field)) if bang => {
            let pattern = pos.get(1).cloned().or_else(|| {
                named
                    .iter()
                    .find(|(n, _)| *n == "pattern")
                    .map(|(_, a)| a.clone())
            });
            match pattern.as_deref() {
                Some([Tok::Regex(re)]) if named.iter().all(|(n, _)| *n == "pattern") => {
                    check_regex(re).map_err(|why| format!("the pattern {why}"))?;
                    Ok(Op::Parse {
                        kind: ParseKind::Regex(re.clone()),
                        field,
                        target,
                        merge,
                        line,
                    })
                }
                _ => Err("parse_regex! needs a pattern literal r'...' and no other option".into()),
            }
        }
        ("parse_timestamp", Some(field)) if bang && !merge && !target.is_empty() => {
            let format = pos.get(1).and_then(|a| str_arg(a)).or_else(|| {
                named
                    .iter()
                    .find(|(n, _)| *n == "format")
                    .and_then(|(_, a)| str_arg(a))
            });
            let timezone = named
                .iter()
                .find(|(n, _)| *n == "timezone")
                .and_then(|(_, a)| str_arg(a));
            let known = named
                .iter()
                .all(|(n, _)| matches!(*n, "format" | "timezone"));
            if let Some(f) = &format {
                check_time_format(f)?;
            }
            match format {
                Some(format) if known => Ok(Op::Timestamp {
                    target,
                    field,
                    format,
                    timezone,
                    line,
                }),
                _ => Err("parse_timestamp! needs a format string literal".into()),
            }
        }
        ("get_env_var", _) if bang && !merge && !target.is_empty() => match pos.as_slice() {
            [a] => str_arg(a)
                .map(|n| Op::Set {
                    target,
                    value: SetValue::Env(n),
                    line,
                })
                .ok_or_else(|| "get_env_var! needs a string literal".into()),
            _ => Err("get_env_var! needs one argument".into()),
        },
        ("del", Some(from)) if !merge && !target.is_empty() && pos.len() == 1 => Ok(Op::Rename {
            from,
            to: target,
            line,
        }),
        (name, _) => Err(format!("`{name}` has no skiff equivalent")),
    }
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
    fn the_seed_programs() {
        let ops = program("\n. = parse_regex!(.message, r'^(?P<timestamp>\\S+) (?P<level>\\S+) (?P<message>.*)$')\n.timestamp = parse_timestamp!(.timestamp, \"%Y-%m-%dT%H:%M:%S\")\n").unwrap();
        assert_eq!(ops.len(), 2);
        assert!(
            matches!(&ops[0], Op::Parse { kind: ParseKind::Regex(re), field, target, merge: false, line: 1 } if re.starts_with("^(?P<timestamp>") && *field == p("message") && target.is_empty())
        );
        assert!(
            matches!(&ops[1], Op::Timestamp { format, line: 2, .. } if format == "%Y-%m-%dT%H:%M:%S")
        );
        let ops = program(".kubernetes.pod_name = \"${POD_NAME}\"\n.kubernetes.namespace = \"${POD_NAMESPACE}\"\n").unwrap();
        assert_eq!(
            ops[0],
            Op::Set {
                target: p("kubernetes.pod_name"),
                value: SetValue::Lit(Lit::Str("${POD_NAME}".into())),
                line: 0
            }
        );
    }

    #[test]
    fn common_statements() {
        let ops = program(". = parse_json!(string!(.message)); .env = get_env_var!(\"ENV\")\ndel(.tmp)\n.b = del(.a)\n.n = -3\n.o = .p\n.x |= parse_logfmt!(.message)").unwrap();
        assert!(matches!(
            &ops[0],
            Op::Parse {
                kind: ParseKind::Json,
                ..
            }
        ));
        assert_eq!(
            ops[1],
            Op::Set {
                target: p("env"),
                value: SetValue::Env("ENV".into()),
                line: 0
            }
        );
        assert_eq!(
            ops[2],
            Op::Del {
                field: p("tmp"),
                line: 1
            }
        );
        assert_eq!(
            ops[3],
            Op::Rename {
                from: p("a"),
                to: p("b"),
                line: 2
            }
        );
        assert_eq!(
            ops[4],
            Op::Set {
                target: p("n"),
                value: SetValue::Lit(Lit::Int(-3)),
                line: 3
            }
        );
        assert_eq!(
            ops[5],
            Op::Set {
                target: p("o"),
                value: SetValue::Field(p("p")),
                line: 4
            }
        );
        assert!(matches!(
            &ops[6],
            Op::Parse {
                kind: ParseKind::Logfmt,
                merge: true,
                ..
            }
        ));
    }

    #[test]
    fn patterns_and_formats_skiff_cannot_read_are_unsupported() {
        let ops =
            program(". = parse_regex!(.message, r'(')\n.t = parse_timestamp!(.t, \"%Q\")").unwrap();
        assert!(matches!(&ops[0], Op::Unsupported { reason, .. } if reason.contains("regex")));
        assert!(matches!(&ops[1], Op::Unsupported { reason, .. } if reason.contains("strftime")));
    }

    #[test]
    fn an_if_block_is_one_unsupported_statement() {
        let ops = program(".a = 1\nif .level == \"debug\" {\n  abort\n}\n.b = 2\n").unwrap();
        assert_eq!(ops.len(), 3);
        match &ops[1] {
            Op::Unsupported {
                text,
                line,
                last_line,
                reason,
            } => {
                assert_eq!((*line, *last_line), (1, 3));
                assert!(
                    text.starts_with("if .level") && text.ends_with('}'),
                    "{text}"
                );
                assert!(reason.contains("if"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_programs_name_the_line() {
        assert_eq!(program(".a = 1\n.b = \"open\n").unwrap_err().line, 1);
        assert_eq!(program(".a = 1\n\nf(1, 2\n").unwrap_err().line, 2);
        assert_eq!(program(")").unwrap_err().line, 0);
    }

    #[test]
    fn comments_and_continuations() {
        let ops = program("# header\n.a = # why\n  \"x\" # tail\n").unwrap();
        assert_eq!(
            ops,
            vec![Op::Set {
                target: p("a"),
                value: SetValue::Lit(Lit::Str("x".into())),
                line: 1
            }]
        );
    }
}
