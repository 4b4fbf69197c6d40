//! One VRL statement, as tokens, recognised as an [`Op`]: a parse, a timestamp parse, an
//! assignment, a rename or a deletion. A statement outside this subset is an `Err` with the
//! reason, which the caller turns into [`Op::Unsupported`].
//!
//! The functions an assignment may call are rows of [`CALLS`].

use super::lex::Tok;
use super::syntax::{call, field_arg, is_sym, literal, split_args, str_arg, Arg, Lit};
use crate::migrate::translate::{check_regex, check_time_format};

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

/// An assignment whose right-hand side calls a function: `TARGET = NAME!(args)`.
struct Call<'a> {
    name: &'a str,
    target: Vec<String>,
    /// `|=` rather than `=`.
    merge: bool,
    line: usize,
    /// Called with `!`.
    bang: bool,
    pos: Vec<Arg<'a>>,
    named: Vec<(&'a str, Arg<'a>)>,
    /// The first positional argument, when it is a field.
    field: Option<Vec<String>>,
}

impl<'a> Call<'a> {
    /// The named argument `name`.
    fn named(&self, name: &str) -> Option<&Arg<'a>> {
        self.named.iter().find(|(n, _)| *n == name).map(|(_, a)| a)
    }

    /// Whether it sets a field (not `|=`, not the root).
    fn sets_field(&self) -> bool {
        !self.merge && !self.target.is_empty()
    }
}

/// Reads a call it knows; `None` when the call does not have the form skiff can express.
type Reader = fn(Call) -> Option<Result<Op, String>>;

/// The functions an assignment may call, and their readers.
const CALLS: &[(&str, Reader)] = &[
    ("parse_json", parse_json_or_logfmt),
    ("parse_logfmt", parse_json_or_logfmt),
    ("parse_regex", parse_regex),
    ("parse_timestamp", parse_timestamp),
    ("get_env_var", get_env_var),
    ("del", del),
];

/// Recognises one statement (its tokens, newlines removed) starting at `line`.
pub fn statement(toks: &[&Tok], line: usize) -> Result<Op, String> {
    if let Some(("del", args)) = call(toks) {
        if let [a] = args.as_slice() {
            if let Some(field) = field_arg(a) {
                return Ok(Op::Del { field, line });
            }
        }
        return Err("only `del(.field)` is supported".into());
    }
    let (target, merge, rhs) = assignment(toks)?;
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
    let c = Call {
        name,
        field: pos.first().and_then(|a| field_arg(a)),
        target,
        merge,
        line,
        bang: is_sym(rhs.get(1), "!"),
        pos,
        named,
    };
    CALLS
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, read)| read(c))
        .unwrap_or_else(|| Err(format!("`{name}` has no skiff equivalent")))
}

/// An assignment's target, whether it is `|=`, and its right-hand side.
fn assignment<'t, 'a>(toks: &'t [&'a Tok]) -> Result<(Vec<String>, bool, &'t [&'a Tok]), String> {
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
    Ok((target, merge, rhs))
}

/// `TARGET = parse_json!(.field)` / `parse_logfmt!`.
fn parse_json_or_logfmt(c: Call) -> Option<Result<Op, String>> {
    if !(c.bang && c.pos.len() == 1 && c.named.is_empty()) {
        return None;
    }
    let kind = if c.name == "parse_json" {
        ParseKind::Json
    } else {
        ParseKind::Logfmt
    };
    Some(Ok(Op::Parse {
        kind,
        field: c.field?,
        target: c.target,
        merge: c.merge,
        line: c.line,
    }))
}

/// `TARGET = parse_regex!(.field, r'...')`.
fn parse_regex(c: Call) -> Option<Result<Op, String>> {
    if !c.bang {
        return None;
    }
    let field = c.field.clone()?;
    let pattern = c.pos.get(1).or_else(|| c.named("pattern"));
    let re = match pattern.map(Vec::as_slice) {
        Some([Tok::Regex(re)]) if c.named.iter().all(|(n, _)| *n == "pattern") => re.clone(),
        _ => {
            return Some(Err(
                "parse_regex! needs a pattern literal r'...' and no other option".into(),
            ))
        }
    };
    if let Err(why) = check_regex(&re) {
        return Some(Err(format!("the pattern {why}")));
    }
    Some(Ok(Op::Parse {
        kind: ParseKind::Regex(re),
        field,
        target: c.target,
        merge: c.merge,
        line: c.line,
    }))
}

/// `.t = parse_timestamp!(.field, "fmt" [, timezone: "tz"])`.
fn parse_timestamp(c: Call) -> Option<Result<Op, String>> {
    if !(c.bang && c.sets_field()) {
        return None;
    }
    let field = c.field.clone()?;
    let format = c
        .pos
        .get(1)
        .and_then(|a| str_arg(a))
        .or_else(|| c.named("format").and_then(|a| str_arg(a)));
    let timezone = c.named("timezone").and_then(|a| str_arg(a));
    let known = c
        .named
        .iter()
        .all(|(n, _)| matches!(*n, "format" | "timezone"));
    if let Some(f) = &format {
        if let Err(why) = check_time_format(f) {
            return Some(Err(why));
        }
    }
    Some(match format {
        Some(format) if known => Ok(Op::Timestamp {
            target: c.target,
            field,
            format,
            timezone,
            line: c.line,
        }),
        _ => Err("parse_timestamp! needs a format string literal".into()),
    })
}

/// `.t = get_env_var!("NAME")`.
fn get_env_var(c: Call) -> Option<Result<Op, String>> {
    if !(c.bang && c.sets_field()) {
        return None;
    }
    Some(match c.pos.as_slice() {
        [a] => str_arg(a)
            .map(|n| Op::Set {
                target: c.target,
                value: SetValue::Env(n),
                line: c.line,
            })
            .ok_or_else(|| "get_env_var! needs a string literal".into()),
        _ => Err("get_env_var! needs one argument".into()),
    })
}

/// `.to = del(.from)`: a rename.
fn del(c: Call) -> Option<Result<Op, String>> {
    if !(c.sets_field() && c.pos.len() == 1) {
        return None;
    }
    Some(Ok(Op::Rename {
        from: c.field?,
        to: c.target,
        line: c.line,
    }))
}
