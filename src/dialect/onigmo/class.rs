//! Characters, escapes and character classes: Onigmo's Ruby syntax to Rust text.
//!
//! `\d`, `\w`, `\s` are ASCII (the Ruby syntax turns `ONIG_OPTION_ASCII_RANGE` on); POSIX
//! brackets and the properties named like them follow the Unicode table of Onigmo's `doc/RE`
//! (`ONIG_OPTION_POSIX_BRACKET_ALL_RANGE`), or Rust's ASCII classes under `(?a)`.

use super::parse::{Mode, Parser};
use super::OnigmoError;

/// What an escape or a class member stands for.
pub(super) enum Item {
    /// One character (a range may end at it).
    Char(char),
    /// A set: its Rust text outside a class (`[0-9]`) and inside one (`0-9`).
    Set { outside: String, inside: String },
    /// A byte above 0x7F (`\xE3`), outside classes only.
    Byte(u8),
}

impl Item {
    /// The Rust text of the item outside a class.
    pub fn outside(self) -> String {
        match self {
            Item::Char(c) => literal(c),
            Item::Set { outside, .. } => outside,
            Item::Byte(b) => format!(r"(?-u:\x{b:02X})"),
        }
    }
}

/// A character outside a class, escaped for Rust when it means something there.
pub(super) fn literal(c: char) -> String {
    if regex_syntax::is_meta_character(c) {
        format!("\\{c}")
    } else if c.is_control() {
        format!("\\x{{{:X}}}", c as u32)
    } else {
        c.to_string()
    }
}

/// A character inside a class, escaped for Rust when it means something there.
fn class_literal(c: char) -> String {
    if matches!(c, '[' | ']' | '\\' | '-' | '^' | '&' | '~') {
        format!("\\{c}")
    } else if c.is_control() || (c.is_whitespace() && c != ' ') {
        format!("\\x{{{:X}}}", c as u32)
    } else {
        c.to_string()
    }
}

/// A set with its text inside a class given: `[^0-9]` is the same in both places.
fn set(inside: &str, negated: bool) -> Item {
    if negated {
        let text = format!("[^{inside}]");
        Item::Set {
            outside: text.clone(),
            inside: text,
        }
    } else {
        Item::Set {
            outside: format!("[{inside}]"),
            inside: inside.to_owned(),
        }
    }
}

/// A set given as a whole bracketed Rust class.
fn bracketed(class: &str, negated: bool) -> Item {
    let text = if negated {
        format!("[^{class}]")
    } else {
        class.to_owned()
    };
    Item::Set {
        outside: text.clone(),
        inside: text,
    }
}

/// The POSIX bracket names and their Unicode meaning (Onigmo's `doc/RE`, "Unicode Case").
const POSIX: &[(&str, &str)] = &[
    ("alnum", r"[\p{L}\p{M}\p{Nd}]"),
    ("alpha", r"[\p{L}\p{M}]"),
    ("ascii", r"[\x00-\x7F]"),
    ("blank", r"[\p{Zs}\t]"),
    ("cntrl", r"[\p{Cc}\p{Cf}\p{Cn}\p{Co}]"),
    ("digit", r"[\p{Nd}]"),
    (
        "graph",
        r"[^\p{Zs}\p{Zl}\p{Zp}\t\n\x0B\x0C\r\x{85}\p{Cc}\p{Cn}]",
    ),
    ("lower", r"[\p{Ll}]"),
    ("print", r"[^\p{Zl}\p{Zp}\t\n\x0B\x0C\r\x{85}\p{Cc}\p{Cn}]"),
    (
        "punct",
        r"[\p{Pc}\p{Pd}\p{Pe}\p{Pf}\p{Pi}\p{Po}\p{Ps}$+<=>\^`|\~]",
    ),
    ("space", r"[\p{Zs}\p{Zl}\p{Zp}\t\n\x0B\x0C\r\x{85}]"),
    ("upper", r"[\p{Lu}]"),
    ("xdigit", r"[0-9A-Fa-f]"),
    ("word", r"[\p{L}\p{M}\p{Nd}\p{Pc}]"),
];

/// A POSIX class by name, Unicode or ASCII.
fn posix(name: &str, ascii: bool, negated: bool) -> Option<Item> {
    let lower = name.to_ascii_lowercase();
    let (_, unicode) = POSIX.iter().find(|(n, _)| *n == lower)?;
    Some(if ascii {
        bracketed(&format!("[[:{lower}:]]"), negated)
    } else {
        bracketed(unicode, negated)
    })
}

impl Parser {
    /// A character class, after its `[`: the Rust class text.
    pub(super) fn class(&mut self, mode: Mode) -> Result<String, OnigmoError> {
        let start = self.pos - 1;
        let mut out = String::from("[");
        if self.eat('^') {
            out.push('^');
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(self.invalid(start, "premature end of char-class"));
            };
            let item = match c {
                ']' if !first => {
                    self.pos += 1;
                    out.push(']');
                    return Ok(out);
                }
                '[' => {
                    if let Some(item) = self.posix_bracket(mode)? {
                        item
                    } else {
                        self.pos += 1;
                        let nested = self.class(mode)?;
                        out.push_str(&nested);
                        first = false;
                        continue;
                    }
                }
                '&' if self.peek_at(1) == Some('&') => {
                    self.pos += 2;
                    out.push_str("&&");
                    first = false;
                    continue;
                }
                '\\' => self.escape_item(self.pos, true, mode)?,
                c => {
                    self.pos += 1;
                    Item::Char(c)
                }
            };
            first = false;
            match item {
                Item::Char(lo) => {
                    let range_end = self.peek() == Some('-')
                        && !matches!(self.peek_at(1), Some(']') | Some('[') | None);
                    if !range_end {
                        out.push_str(&class_literal(lo));
                        continue;
                    }
                    let dash = self.pos;
                    self.pos += 1;
                    let hi = match self.peek() {
                        Some('\\') => self.escape_item(self.pos, true, mode)?,
                        Some(c) => {
                            self.pos += 1;
                            Item::Char(c)
                        }
                        None => return Err(self.invalid(start, "premature end of char-class")),
                    };
                    let Item::Char(hi) = hi else {
                        return Err(self.invalid(dash, "char-class value at end of range"));
                    };
                    if hi < lo {
                        return Err(self.invalid(dash, "empty range in char class"));
                    }
                    out.push_str(&class_literal(lo));
                    out.push('-');
                    out.push_str(&class_literal(hi));
                }
                Item::Set { inside, .. } => out.push_str(&inside),
                Item::Byte(_) => {
                    return Err(self.unsupported(
                        start,
                        "byte escape above \\x7F in a class",
                        "write the character itself, or `\\x{...}` with its code point",
                    ))
                }
            }
        }
    }

    /// `[:name:]` or `[:^name:]` at the position, inside a class.
    fn posix_bracket(&mut self, mode: Mode) -> Result<Option<Item>, OnigmoError> {
        if self.peek_at(1) != Some(':') {
            return Ok(None);
        }
        let rest = &self.chars[self.pos + 2..];
        let negated = rest.first() == Some(&'^');
        let name_start = usize::from(negated);
        let len = rest[name_start..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let end = name_start + len;
        if len == 0 || rest.get(end) != Some(&':') || rest.get(end + 1) != Some(&']') {
            return Ok(None);
        }
        let name: String = rest[name_start..end].iter().collect();
        let Some(item) = posix(&name, mode.ascii_posix, negated) else {
            return Err(self.invalid(self.pos, "invalid POSIX bracket type"));
        };
        self.pos += 2 + end + 2;
        Ok(Some(item))
    }

    /// An escape that stands for characters, from its `\` at `start`.
    pub(super) fn escape_item(
        &mut self,
        start: usize,
        in_class: bool,
        mode: Mode,
    ) -> Result<Item, OnigmoError> {
        self.pos = start + 1;
        let Some(c) = self.peek() else {
            return Err(self.invalid(start, "end pattern at escape"));
        };
        self.pos += 1;
        let ascii_or = |ascii: &str, unicode: &str, negated: bool| {
            if mode.ascii {
                set(ascii, negated)
            } else {
                set(unicode, negated)
            }
        };
        Ok(match c {
            't' => Item::Char('\t'),
            'n' => Item::Char('\n'),
            'r' => Item::Char('\r'),
            'f' => Item::Char('\x0C'),
            'v' => Item::Char('\x0B'),
            'a' => Item::Char('\x07'),
            'e' => Item::Char('\x1B'),
            'b' if in_class => Item::Char('\x08'),
            'd' | 'D' => ascii_or("0-9", r"\d", c == 'D'),
            'w' | 'W' => ascii_or("0-9A-Za-z_", r"\w", c == 'W'),
            's' | 'S' => ascii_or(r"\t\n\x0B\x0C\r ", r"\s", c == 'S'),
            'h' | 'H' => set("0-9a-fA-F", c == 'H'),
            'x' => self.hex(start)?,
            'u' => self.unicode_escape(start)?,
            '0' => self.octal(start)?,
            'c' => self.control(start)?,
            'C' if self.eat('-') => self.control(start)?,
            'M' if self.peek() == Some('-') => {
                return Err(self.unsupported(
                    start,
                    "meta escape `\\M-`",
                    "write the character itself, or `\\x{...}` with its code point",
                ))
            }
            'p' | 'P' => self.property(start, c == 'P')?,
            '1'..='9' => {
                return Err(self.unsupported(
                    start,
                    &format!("octal or backreference escape `\\{c}`"),
                    "write the character itself, or `\\x{...}` with its code point",
                ))
            }
            // Onigmo reads an escaped character without a meaning as the character.
            c => Item::Char(c),
        })
    }

    /// Up to `n` digits in `radix` at the position.
    fn digits(&mut self, radix: u32, n: usize) -> Option<u32> {
        let mut value: Option<u32> = None;
        for _ in 0..n {
            let Some(d) = self.peek().and_then(|c| c.to_digit(radix)) else {
                break;
            };
            value = Some(value.unwrap_or(0).saturating_mul(radix).saturating_add(d));
            self.pos += 1;
        }
        value
    }

    fn code_point(&self, start: usize, v: u32) -> Result<Item, OnigmoError> {
        char::from_u32(v)
            .map(Item::Char)
            .ok_or_else(|| self.invalid(start, "invalid code point value"))
    }

    /// `\xHH` (one or two digits) or `\x{H...}`.
    fn hex(&mut self, start: usize) -> Result<Item, OnigmoError> {
        if self.eat('{') {
            let v = self.digits(16, 8);
            if v.is_none() || !self.eat('}') {
                return Err(self.invalid(start, "invalid code point value"));
            }
            return self.code_point(start, v.unwrap_or(0));
        }
        match self.digits(16, 2) {
            Some(v) if v > 0x7F => Ok(Item::Byte(v as u8)),
            Some(v) => self.code_point(start, v),
            None => Err(self.invalid(start, "invalid code point value")),
        }
    }

    /// `\uHHHH`.
    fn unicode_escape(&mut self, start: usize) -> Result<Item, OnigmoError> {
        let from = self.pos;
        let v = self.digits(16, 4);
        if self.pos - from != 4 {
            return Err(self.invalid(start, "too short escape sequence"));
        }
        self.code_point(start, v.unwrap_or(0))
    }

    /// `\0`, `\0n`, `\0nn`.
    fn octal(&mut self, start: usize) -> Result<Item, OnigmoError> {
        let v = self.digits(8, 2).unwrap_or(0);
        self.code_point(start, v)
    }

    /// `\cX` and `\C-X`: the control character of an ASCII character.
    fn control(&mut self, start: usize) -> Result<Item, OnigmoError> {
        match self.peek() {
            Some('?') => {
                self.pos += 1;
                Ok(Item::Char('\x7F'))
            }
            Some(c) if c.is_ascii() && c != '\\' => {
                self.pos += 1;
                self.code_point(start, c as u32 & 0x9F)
            }
            _ => Err(self.invalid(start, "invalid control-code syntax")),
        }
    }

    /// `\p{Name}`, `\p{^Name}`, `\P{Name}`.
    fn property(&mut self, start: usize, mut negated: bool) -> Result<Item, OnigmoError> {
        if !self.eat('{') {
            return Err(self.invalid(start, "invalid character property name"));
        }
        if self.eat('^') {
            negated = !negated;
        }
        let from = self.pos;
        while self.peek().is_some_and(|c| c != '}') {
            self.pos += 1;
        }
        let name: String = self.chars[from..self.pos].iter().collect();
        if !self.eat('}') || name.is_empty() {
            return Err(self.invalid(start, "invalid character property name"));
        }
        if let Some(item) = posix(&name, false, negated) {
            return Ok(item);
        }
        let text = format!("\\{}{{{name}}}", if negated { 'P' } else { 'p' });
        Ok(Item::Set {
            outside: text.clone(),
            inside: text,
        })
    }
}
