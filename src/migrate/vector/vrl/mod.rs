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

//!
//! The files: `lex` (text into tokens and statements) ← `syntax` (literals, calls) ←
//! `statement` (a statement as an [`Op`]) and `cond` (a condition as a [`Cond`]).

mod cond;
mod lex;
mod statement;
mod syntax;

pub use cond::{condition, Atom, Cond};
pub use lex::VrlError;
pub use statement::{Op, ParseKind, SetValue};
pub use syntax::Lit;

use lex::{statements, tokenize, Tok};
use statement::statement;

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
