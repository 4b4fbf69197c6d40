//! Onigmo's Ruby syntax read into a small tree whose leaves are already Rust text: groups,
//! repeats and assertions stay structured, because possessive and atomic forms are judged by
//! what surrounds them; single characters and classes are translated as they are read
//! ([`super::class`]).

use super::group::Opened;
use super::OnigmoError;

/// A parsed pattern.
#[derive(Debug)]
pub(super) struct Tree {
    /// The top-level alternatives.
    pub root: Vec<Vec<Node>>,
    /// `^` or `$` is used: Ruby's are line anchors.
    pub line_anchors: bool,
}

/// One element of a sequence.
#[derive(Debug)]
pub(super) enum Node {
    /// Exactly one character; `rust` is a Rust regex for it (`a`, `\.`, `[0-9]`, `.`).
    Char {
        rust: String,
    },
    /// A zero-width assertion.
    Assert(Assert),
    Group(Group),
    Repeat(Repeat),
}

/// Zero-width assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Assert {
    /// `^`
    LineStart,
    /// `$`
    LineEnd,
    /// `\A`
    TextStart,
    /// `\z`
    TextEnd,
    /// `\Z`: end of text, or before a final newline.
    EndBeforeNewline { column: usize },
    /// Word boundaries, as Rust text.
    Other(&'static str),
}

/// A group and its alternatives.
#[derive(Debug)]
pub(super) struct Group {
    pub kind: GroupKind,
    pub branches: Vec<Vec<Node>>,
    pub column: usize,
}

/// What a group does.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum GroupKind {
    Named(String),
    Plain,
    Atomic,
    /// Options for the group, as Rust flags (`i`, `-i`, `s`, `i-s`); possibly empty.
    Flags(String),
}

/// How a repeat backtracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Greed {
    Greedy,
    Lazy,
    Possessive,
}

/// A quantified node.
#[derive(Debug)]
pub(super) struct Repeat {
    pub node: Box<Node>,
    pub min: u32,
    pub max: Option<u32>,
    pub greed: Greed,
    pub column: usize,
    /// The quantifier as written (`*+`, `{2,3}`).
    pub text: String,
}

/// Options that change how escapes and whitespace read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mode {
    /// `x`: whitespace and `#` comments are ignored outside classes.
    pub extended: bool,
    /// `\d`, `\w`, `\s` are ASCII only.
    pub ascii: bool,
    /// `\b`, `\B` use ASCII word characters.
    pub ascii_word: bool,
    /// POSIX brackets are ASCII only.
    pub ascii_posix: bool,
}

/// Onigmo's largest repeat count (`ONIG_MAX_REPEAT_NUM`).
const MAX_REPEAT: u32 = 100_000;

/// The reading position in a pattern.
pub(super) struct Parser {
    pub chars: Vec<char>,
    pub pos: usize,
    /// Column of `chars[0]` in the pattern as written.
    first_column: usize,
    pub names: Vec<String>,
    line_anchors: bool,
}

/// Parses `body`, whose first character is at `first_column` of the pattern as written.
pub(super) fn parse(body: &str, first_column: usize, extended: bool) -> Result<Tree, OnigmoError> {
    let mut p = Parser {
        chars: body.chars().collect(),
        pos: 0,
        first_column,
        names: Vec::new(),
        line_anchors: false,
    };
    let mode = Mode {
        extended,
        ascii: true,
        ascii_word: false,
        ascii_posix: false,
    };
    let root = p.alternation(mode)?;
    if p.pos < p.chars.len() {
        return Err(p.invalid(p.pos, "unmatched close parenthesis"));
    }
    Ok(Tree {
        root,
        line_anchors: p.line_anchors,
    })
}

impl Parser {
    /// The column of character `at`.
    pub fn column(&self, at: usize) -> usize {
        self.first_column + at
    }

    pub fn invalid(&self, at: usize, message: &str) -> OnigmoError {
        OnigmoError::Invalid {
            column: self.column(at),
            message: message.to_owned(),
        }
    }

    pub fn unsupported(&self, at: usize, construct: &str, why: &'static str) -> OnigmoError {
        OnigmoError::Unsupported {
            construct: construct.to_owned(),
            column: self.column(at),
            why,
        }
    }

    pub fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    pub fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    pub fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// Skips whitespace and `#` comments (extended mode).
    fn skip_extended(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += 1;
            } else if c == '#' {
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// Alternatives up to a `)` (left for the caller) or the end.
    pub(super) fn alternation(&mut self, mode: Mode) -> Result<Vec<Vec<Node>>, OnigmoError> {
        let mut branches = vec![self.sequence(mode)?];
        while self.eat('|') {
            branches.push(self.sequence(mode)?);
        }
        Ok(branches)
    }

    /// One alternative: nodes up to `|`, `)` or the end.
    fn sequence(&mut self, mode: Mode) -> Result<Vec<Node>, OnigmoError> {
        let mut seq = Vec::new();
        loop {
            if mode.extended {
                self.skip_extended();
            }
            let Some(c) = self.peek() else {
                return Ok(seq);
            };
            let start = self.pos;
            let atom = match c {
                '|' | ')' => return Ok(seq),
                '(' => match self.group(mode)? {
                    Opened::Node(node) => node,
                    Opened::Comment => continue,
                    Opened::Isolated(inner, flags) => {
                        // An isolated option covers the rest of the group, alternatives too.
                        let branches = self.alternation(inner)?;
                        seq.push(Node::Group(Group {
                            kind: GroupKind::Flags(flags),
                            branches,
                            column: self.column(start),
                        }));
                        return Ok(seq);
                    }
                },
                '[' => {
                    self.pos += 1;
                    Node::Char {
                        rust: self.class(mode)?,
                    }
                }
                '.' => {
                    self.pos += 1;
                    Node::Char { rust: ".".into() }
                }
                '^' | '$' => {
                    self.pos += 1;
                    self.line_anchors = true;
                    Node::Assert(if c == '^' {
                        Assert::LineStart
                    } else {
                        Assert::LineEnd
                    })
                }
                '\\' => self.escape(mode)?,
                '*' | '+' | '?' => {
                    return Err(self.invalid(start, "target of repeat operator is not specified"))
                }
                '{' if self.interval().is_some() => {
                    return Err(self.invalid(start, "target of repeat operator is not specified"))
                }
                c => {
                    self.pos += 1;
                    Node::Char {
                        rust: super::class::literal(c),
                    }
                }
            };
            seq.push(self.quantifiers(atom, mode)?);
        }
    }

    /// An interval `{n}`, `{n,}`, `{n,m}`, `{,m}` at the position: (min, max, length).
    fn interval(&self) -> Option<(u32, Option<u32>, usize)> {
        let rest = &self.chars[self.pos..];
        let close = rest.iter().position(|&c| c == '}')?;
        let body: String = rest[1..close].iter().collect();
        let num = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().unwrap_or(u32::MAX))
        };
        let (min, max) = match body.split_once(',') {
            None => {
                let n = num(&body)?;
                (n, Some(n))
            }
            Some(("", "")) => return None,
            Some(("", hi)) => (0, Some(num(hi)?)),
            Some((lo, "")) => (num(lo)?, None),
            Some((lo, hi)) => (num(lo)?, Some(num(hi)?)),
        };
        Some((min, max, close + 1))
    }

    /// Applies the quantifiers that follow `node`.
    fn quantifiers(&mut self, mut node: Node, mode: Mode) -> Result<Node, OnigmoError> {
        loop {
            if mode.extended {
                self.skip_extended();
            }
            let start = self.pos;
            let (min, max, interval) = match self.peek() {
                Some('*') => (0, None, false),
                Some('+') => (1, None, false),
                Some('?') => (0, Some(1), false),
                Some('{') => match self.interval() {
                    Some((min, max, len)) => {
                        self.pos += len - 1;
                        (min, max, true)
                    }
                    None => return Ok(node),
                },
                _ => return Ok(node),
            };
            self.pos += 1;
            if matches!(node, Node::Assert(_)) {
                return Err(self.invalid(start, "target of repeat operator is invalid"));
            }
            if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT) {
                return Err(self.invalid(start, "too big number for repeat range"));
            }
            if max.is_some_and(|m| m < min) {
                return Err(self.invalid(start, "upper bound must be greater than lower bound"));
            }
            // Ruby syntax: `{n}?` is an optional `{n}` and `{n,m}+` a repeated `{n,m}`;
            // the next turn of the loop reads them as quantifiers of their own.
            let greed = match self.peek() {
                Some('?') if !(interval && max == Some(min)) => Greed::Lazy,
                Some('+') if !interval => Greed::Possessive,
                _ => Greed::Greedy,
            };
            if greed != Greed::Greedy {
                self.pos += 1;
            }
            node = Node::Repeat(Repeat {
                node: Box::new(node),
                min,
                max,
                greed,
                column: self.column(start),
                text: self.chars[start..self.pos].iter().collect(),
            });
        }
    }
}

impl Parser {
    /// An escape outside a class, from its `\`.
    fn escape(&mut self, mode: Mode) -> Result<Node, OnigmoError> {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.peek() else {
            return Err(self.invalid(start, "end pattern at escape"));
        };
        let next = self.peek_at(1);
        let assert = |a| Ok(Node::Assert(a));
        let word = |ascii: bool, plain: &'static str, ascii_text: &'static str| {
            Ok(Node::Assert(Assert::Other(if ascii {
                ascii_text
            } else {
                plain
            })))
        };
        let unsupported = |construct: &str, why| Err(self.unsupported(start, construct, why));
        const BACKREF: &str = "Rust's regex engine has no backreferences; capture both parts and compare them downstream";
        let node = match c {
            'A' => assert(Assert::TextStart),
            'z' => assert(Assert::TextEnd),
            'Z' => assert(Assert::EndBeforeNewline {
                column: self.column(start),
            }),
            'b' => word(mode.ascii_word, r"\b", r"(?-u:\b)"),
            'B' => word(mode.ascii_word, r"\B", r"(?-u:\B)"),
            'G' => unsupported(
                "`\\G` (start of the search)",
                "Rust's regex engine has no `\\G`; anchor with `^` instead",
            ),
            'K' => unsupported(
                "`\\K` (keep)",
                "Rust's regex engine has no `\\K`; capture the part to keep in a named group",
            ),
            'X' => unsupported(
                "`\\X` (grapheme cluster)",
                "Rust's regex engine has no `\\X`",
            ),
            '1'..='9' => unsupported(&format!("backreference `\\{c}`"), BACKREF),
            'k' if matches!(next, Some('<' | '\'')) => {
                unsupported("backreference `\\k<...>`", BACKREF)
            }
            'g' if matches!(next, Some('<' | '\'')) => unsupported(
                "subexpression call `\\g<...>`",
                "Rust's regex engine has no subexpression calls; write the group out again",
            ),
            'R' => {
                self.pos += 1;
                return Ok(linebreak(self.column(start)));
            }
            _ => {
                return Ok(Node::Char {
                    rust: self.escape_item(start, false, mode)?.outside(),
                })
            }
        };
        self.pos += 1;
        node
    }
}

/// `\R`: `\r\n`, or one line-breaking character.
fn linebreak(column: usize) -> Node {
    let ch = |s: &str| Node::Char { rust: s.to_owned() };
    Node::Group(Group {
        kind: GroupKind::Plain,
        branches: vec![
            vec![ch(r"\r"), ch(r"\n")],
            vec![ch(r"[\n\x0B\x0C\r\x{85}\x{2028}\x{2029}]")],
        ],
        column,
    })
}
