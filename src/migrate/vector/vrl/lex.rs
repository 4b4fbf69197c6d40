//! VRL text into tokens, and tokens into statements: a statement ends at a newline or `;`
//! outside brackets, unless the line ends with an operator. Comments (`#`) are skipped.
//! Unterminated strings and unbalanced brackets are the only errors ([`VrlError`]).

/// Malformed VRL: the 0-based line within the program and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrlError {
    pub line: usize,
    pub message: String,
}

/// A token with its line (0-based within the program) and byte range.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub tok: Tok,
    pub line: usize,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// `.a.b` as segments; `.` alone is the root (no segment).
    Path(Vec<String>),
    Ident(String),
    Str(String),
    /// `r'...'`: a regex literal.
    Regex(String),
    Int(i64),
    Float(f64),
    Sym(&'static str),
    Newline,
    Other(char),
}

const SYMBOLS: &[&str] = &[
    "|=", "==", "!=", "&&", "||", "??", "<=", ">=", "->", "=", "!", "(", ")", "{", "}", "[", "]",
    ",", ":", "+", "-", "*", "/", "<", ">", "|",
];

/// Operators after which a line continues.
const CONTINUES: &[&str] = &[
    "|=", "==", "!=", "&&", "||", "??", "<=", ">=", "=", "+", "-", "*", "/", "<", ">", ",", ":",
];

pub(super) fn tokenize(src: &str) -> Result<Vec<Token>, VrlError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let push = |out: &mut Vec<Token>, tok, end| {
            out.push(Token {
                tok,
                line,
                start,
                end,
            })
        };
        match c {
            b'\n' | b';' => {
                push(&mut out, Tok::Newline, i + 1);
                if c == b'\n' {
                    line += 1;
                }
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => i = src[i..].find('\n').map_or(b.len(), |n| i + n),
            b'"' => {
                let (s, end, lines) = string(src, i + 1, line)?;
                push(&mut out, Tok::Str(s), end);
                line += lines;
                i = end;
            }
            b'r' | b's' | b't' if b.get(i + 1) == Some(&b'\'') => {
                let (tok, end) = quoted(src, i, line)?;
                push(&mut out, tok, end);
                line += src[i..end].matches('\n').count();
                i = end;
            }
            b'.' => {
                let (segs, end) = path(src, i + 1, line)?;
                push(&mut out, Tok::Path(segs), end);
                i = end;
            }
            b'0'..=b'9' => {
                let (tok, end) = number(src, i);
                push(&mut out, tok, end);
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = src[i..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '@'))
                    .map_or(src.len(), |n| i + n);
                push(&mut out, Tok::Ident(src[i..end].to_owned()), end);
                i = end;
            }
            _ => {
                let (tok, end) = symbol(src, i);
                push(&mut out, tok, end);
                i = end;
            }
        }
    }
    Ok(out)
}

/// A `r'...'` regex or `s'...'` / `t'...'` raw string starting at `i`, and its end.
fn quoted(src: &str, i: usize, line: usize) -> Result<(Tok, usize), VrlError> {
    let Some(len) = src[i + 2..].find('\'') else {
        return Err(VrlError {
            line,
            message: "unterminated literal: expected a closing `'`".into(),
        });
    };
    let body = &src[i + 2..i + 2 + len];
    let tok = if src.as_bytes()[i] == b'r' {
        Tok::Regex(body.to_owned())
    } else {
        Tok::Str(body.to_owned())
    };
    Ok((tok, i + 3 + len))
}

/// An integer or float (`_` separators allowed) starting at `i`, and its end.
fn number(src: &str, i: usize) -> (Tok, usize) {
    let b = src.as_bytes();
    let mut end = i;
    while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'_') {
        end += 1;
    }
    let is_float = b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit);
    if is_float {
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    let text = src[i..end].replace('_', "");
    let tok = if is_float {
        text.parse().map(Tok::Float).unwrap_or(Tok::Other('0'))
    } else {
        text.parse().map(Tok::Int).unwrap_or(Tok::Other('0'))
    };
    (tok, end)
}

/// An operator or bracket starting at `i` (or any other character), and its end.
fn symbol(src: &str, i: usize) -> (Tok, usize) {
    if let Some(sym) = SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
        return (Tok::Sym(sym), i + sym.len());
    }
    let ch = src[i..].chars().next().unwrap_or('?');
    (Tok::Other(ch), i + ch.len_utf8())
}

/// A `"..."` string from after its opening quote: the text, the end offset and how many
/// newlines it spans.
fn string(src: &str, from: usize, line: usize) -> Result<(String, usize, usize), VrlError> {
    let mut out = String::new();
    let mut chars = src[from..].char_indices();
    let mut lines = 0;
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, from + i + 1, lines)),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some(e @ ('"' | '\\' | '\'' | '{' | '}')) => out.push(e),
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => break,
            },
            '\n' => {
                lines += 1;
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Err(VrlError {
        line,
        message: "unterminated string: expected a closing `\"`".into(),
    })
}

/// Path segments after a leading `.`.
fn path(src: &str, mut i: usize, line: usize) -> Result<(Vec<String>, usize), VrlError> {
    let b = src.as_bytes();
    let mut segs = Vec::new();
    loop {
        match b.get(i) {
            Some(b'"') => {
                let (s, end, _) = string(src, i + 1, line)?;
                segs.push(s);
                i = end;
            }
            Some(c) if c.is_ascii_alphanumeric() || *c == b'_' || *c == b'@' => {
                let end = src[i..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '@'))
                    .map_or(src.len(), |n| i + n);
                segs.push(src[i..end].to_owned());
                i = end;
            }
            _ => return Ok((segs, i)),
        }
        if b.get(i) == Some(&b'.')
            && b.get(i + 1).is_some_and(|c| {
                c.is_ascii_alphanumeric() || *c == b'_' || *c == b'"' || *c == b'@'
            })
        {
            i += 1;
        } else {
            return Ok((segs, i));
        }
    }
}

/// One statement's tokens and where it sits in the source.
pub(super) struct Stmt<'a> {
    pub toks: &'a [Token],
    pub text: &'a str,
    pub line: usize,
    pub last_line: usize,
}

pub(super) fn statements<'a>(src: &'a str, toks: &'a [Token]) -> Result<Vec<Stmt<'a>>, VrlError> {
    let mut out = Vec::new();
    let mut depth: Vec<(&str, usize)> = Vec::new();
    let mut begin = 0;
    for (i, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Sym(s @ ("(" | "[" | "{")) => depth.push((s, t.line)),
            Tok::Sym(s @ (")" | "]" | "}")) => {
                let open = match *s {
                    ")" => "(",
                    "]" => "[",
                    _ => "{",
                };
                match depth.pop() {
                    Some((o, _)) if o == open => {}
                    _ => {
                        return Err(VrlError {
                            line: t.line,
                            message: format!("unbalanced `{s}`"),
                        })
                    }
                }
            }
            Tok::Newline if depth.is_empty() => {
                let continues =
                    i > begin && matches!(&toks[i - 1].tok, Tok::Sym(s) if CONTINUES.contains(s));
                if !continues {
                    push_stmt(src, &toks[begin..i], &mut out);
                    begin = i + 1;
                }
            }
            _ => {}
        }
    }
    if let Some((open, line)) = depth.pop() {
        return Err(VrlError {
            line,
            message: format!("`{open}` is never closed"),
        });
    }
    push_stmt(src, &toks[begin..], &mut out);
    Ok(out)
}

fn push_stmt<'a>(src: &'a str, toks: &'a [Token], out: &mut Vec<Stmt<'a>>) {
    let toks: &[Token] = {
        let start = toks
            .iter()
            .position(|t| t.tok != Tok::Newline)
            .unwrap_or(toks.len());
        &toks[start..]
    };
    let toks = {
        let end = toks
            .iter()
            .rposition(|t| t.tok != Tok::Newline)
            .map_or(0, |e| e + 1);
        &toks[..end]
    };
    if let (Some(first), Some(last)) = (toks.first(), toks.last()) {
        out.push(Stmt {
            toks,
            text: src.get(first.start..last.end).unwrap_or(""),
            line: first.line,
            last_line: last.line,
        });
    }
}
