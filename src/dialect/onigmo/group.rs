//! Groups: named, plain, atomic, option groups and comments; lookaround, conditionals and the
//! absence operator are refused here, where they are recognised.

use super::parse::{Group, GroupKind, Mode, Node, Parser};
use super::OnigmoError;

/// What an opening parenthesis began.
pub(super) enum Opened {
    Node(Node),
    /// `(?#...)`
    Comment,
    /// `(?i)`: options for the rest of the enclosing group (the mode, the Rust flags).
    Isolated(Mode, String),
}

impl Parser {
    /// A group, from its `(`.
    pub(super) fn group(&mut self, mode: Mode) -> Result<Opened, OnigmoError> {
        let start = self.pos;
        self.pos += 1;
        let mut inner = mode;
        let kind = if self.eat('?') {
            match self.peek() {
                Some(':') => {
                    self.pos += 1;
                    GroupKind::Plain
                }
                Some('>') => {
                    self.pos += 1;
                    GroupKind::Atomic
                }
                Some('<') | Some('\'') => {
                    let close = if self.peek() == Some('<') { '>' } else { '\'' };
                    match self.peek_at(1) {
                        Some('=') if close == '>' => {
                            return Err(self.lookaround(start, "lookbehind `(?<=`"))
                        }
                        Some('!') if close == '>' => {
                            return Err(self.lookaround(start, "negative lookbehind `(?<!`"))
                        }
                        _ => {}
                    }
                    self.pos += 1;
                    GroupKind::Named(self.group_name(start, close)?)
                }
                Some('=') => return Err(self.lookaround(start, "lookahead `(?=`")),
                Some('!') => return Err(self.lookaround(start, "negative lookahead `(?!`")),
                Some('#') => {
                    self.comment(start)?;
                    return Ok(Opened::Comment);
                }
                Some('(') => {
                    return Err(self.unsupported(
                        start,
                        "conditional `(?(`",
                        "Rust's regex engine has no conditionals; write the alternatives out",
                    ))
                }
                Some('~') => {
                    return Err(self.unsupported(
                        start,
                        "absence operator `(?~`",
                        "Rust's regex engine has no absence operator",
                    ))
                }
                Some(c) if "imxdau-".contains(c) => {
                    let flags = self.options(start, &mut inner)?;
                    if self.eat(')') {
                        return Ok(Opened::Isolated(inner, flags));
                    }
                    if !self.eat(':') {
                        return Err(self.invalid(start, "undefined group option"));
                    }
                    GroupKind::Flags(flags)
                }
                _ => return Err(self.invalid(start, "undefined group option")),
            }
        } else {
            GroupKind::Plain
        };
        let branches = self.alternation(inner)?;
        if !self.eat(')') {
            return Err(self.invalid(start, "end pattern with unmatched parenthesis"));
        }
        Ok(Opened::Node(Node::Group(Group {
            kind,
            branches,
            column: self.column(start),
        })))
    }

    fn lookaround(&self, at: usize, construct: &str) -> OnigmoError {
        self.unsupported(
            at,
            construct,
            "Rust's regex engine has no lookaround; match the text instead, or capture it in a group of its own",
        )
    }

    /// `(?#...)`: up to the first unescaped `)`.
    fn comment(&mut self, start: usize) -> Result<(), OnigmoError> {
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                ')' => return Ok(()),
                '\\' => self.pos += 1,
                _ => {}
            }
        }
        Err(self.invalid(start, "end pattern in group"))
    }

    /// A group name up to `close`; names are word characters, not starting with a digit.
    fn group_name(&mut self, start: usize, close: char) -> Result<String, OnigmoError> {
        let from = self.pos;
        while let Some(c) = self.peek() {
            if c == close {
                break;
            }
            self.pos += 1;
        }
        let name: String = self.chars[from..self.pos].iter().collect();
        if !self.eat(close) {
            return Err(self.invalid(start, "invalid group name"));
        }
        let word = name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if name.is_empty() || !word || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(self.invalid(from, &format!("invalid group name <{name}>")));
        }
        if self.names.contains(&name) {
            return Err(self.unsupported(
                start,
                &format!("group name `{name}` used twice"),
                "Rust's regex engine needs each group name once; rename one of them",
            ));
        }
        self.names.push(name.clone());
        Ok(name)
    }

    /// Option letters `imxdau-imx` (the `(?` read); updates `mode`, returns the Rust flags.
    fn options(&mut self, start: usize, mode: &mut Mode) -> Result<String, OnigmoError> {
        let mut flags = String::new();
        let mut on = true;
        while let Some(c) = self.peek() {
            match (c, on) {
                ('-', true) => {
                    on = false;
                    flags.push('-');
                }
                ('i', _) => flags.push('i'),
                // Ruby's `m` is "dot matches newline", Rust's `s`.
                ('m', _) => flags.push('s'),
                ('x', _) => mode.extended = on,
                ('a', true) => {
                    *mode = Mode {
                        ascii: true,
                        ascii_word: true,
                        ascii_posix: true,
                        ..*mode
                    }
                }
                ('u', true) => {
                    *mode = Mode {
                        ascii: false,
                        ascii_word: false,
                        ascii_posix: false,
                        ..*mode
                    }
                }
                ('d', true) => {
                    *mode = Mode {
                        ascii: true,
                        ascii_word: false,
                        ascii_posix: false,
                        ..*mode
                    }
                }
                (')' | ':', _) => break,
                _ => return Err(self.invalid(start, "undefined group option")),
            }
            self.pos += 1;
        }
        if flags.ends_with('-') {
            flags.pop();
        }
        Ok(flags)
    }
}
