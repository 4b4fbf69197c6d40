//! Fluent Bit's regular expressions (Onigmo, Ruby syntax, UTF-8) translated into Rust's `regex`
//! syntax, with the same matches.
//!
//! Fluent Bit compiles every `Regex` (parsers, multiline rules, grep) with Onigmo's
//! `ONIG_SYNTAX_RUBY`. Most of that syntax reads the same in Rust's `regex`, but not all of it,
//! and some of it reads differently without an error, which is worse. The rules, each checked
//! against Onigmo's `doc/RE` and the `OnigSyntaxRuby` table of its `regparse.c`:
//!
//! - `/.../` delimiters and `/.../imx` options are removed as Fluent Bit's `flb_regex.c` does
//!   (`m` is Ruby's "dot matches newline", Rust's `s`; `o` is ignored).
//! - `^` and `$` match at every line of a multi-line text in Ruby: `(?m)` is set.
//! - `\<` and `\>` are the literal characters `<` and `>` (Rust reads word boundaries).
//! - `\d`, `\w`, `\s` match ASCII only (the syntax turns `ONIG_OPTION_ASCII_RANGE` on); `\h`
//!   and `\H` are hex digits; `\b` and `\B` stay Unicode (`ONIG_OPTION_WORD_BOUND_ALL_RANGE`);
//!   POSIX brackets `[[:alpha:]]` and the properties of the same names are Unicode
//!   (`ONIG_OPTION_POSIX_BRACKET_ALL_RANGE`), as the table of `doc/RE` defines them.
//! - `\A` and `\z` are kept; `\Z` (end, or before a final newline) becomes `\n?\z` outside
//!   capture groups.
//! - `(?<name>...)` and `(?'name'...)` are named groups; plain `(...)` capture nothing when the
//!   pattern has named groups, so they become `(?:...)`.
//! - `{,n}` is `{0,n}`; `{n}?` is an optional `{n}`, and `{n,m}+` a repeated `{n,m}` (neither
//!   is lazy or possessive in Ruby syntax); a `{` that starts no valid interval is literal.
//! - An isolated option `(?i)` covers the rest of its group, alternatives included.
//! - `x` mode (whitespace and `#` comments ignored outside classes) is applied here.
//! - Escapes: `\e`, `\cX`, `\C-X`, octal `\0nn`, `\xH`, `\uHHHH`, `\R`; an escaped punctuation
//!   character is that character; an unknown escaped letter is that letter.
//! - Possessive quantifiers (`*+`, `++`, `?+`) and atomic groups `(?>...)` are rewritten as
//!   plain ones when that cannot change a match: what they repeat is one character class and
//!   what follows cannot match it (or nothing follows), or the group can match only one way.
//!
//! Refused, naming the construct and its column: lookaround, backreferences, subexpression
//! calls, conditionals, the absence operator, `\G`, `\K`, `\X`, `\M-x`, possessive and atomic
//! forms that cannot be rewritten, a group name used twice, and `\Z` inside a capture group.

mod class;
mod emit;
mod group;
mod parse;
#[cfg(test)]
mod tests;

/// Why a Fluent Bit regex cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnigmoError {
    /// A construct with no equivalent in Rust's regex engine.
    #[error("{construct} at column {column} cannot run in skiff's regex engine: {why}")]
    Unsupported {
        /// The construct, as written (`lookahead (?=`).
        construct: String,
        /// 1-based column, in characters, in the pattern as written (delimiters included).
        column: usize,
        /// Why, and what to write instead.
        why: &'static str,
    },
    /// Not a valid Onigmo regex.
    #[error("invalid regex at column {column}: {message}")]
    Invalid {
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The translation is not a valid Rust regex (an unknown property name, say).
    #[error("the regex translates to `{pattern}`, which Rust's regex engine refuses: {message}")]
    Rust {
        /// The translated pattern.
        pattern: String,
        /// The engine's message, last line.
        message: String,
    },
}

/// Options written after the closing `/` of a delimited Fluent Bit regex.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Options {
    ignore_case: bool,
    dot_all: bool,
    extended: bool,
}

/// A translated pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// The pattern in Rust syntax, without the multi-line flag.
    pub pattern: String,
    /// The pattern has `^` or `$`, which are line anchors in Ruby: they need `(?m)` on texts
    /// that hold a newline (on one line, they mean the same either way).
    pub line_anchors: bool,
}

impl Translation {
    /// The pattern with the multi-line flag when it needs it.
    pub fn full(&self) -> String {
        if self.line_anchors {
            format!("(?m){}", self.pattern)
        } else {
            self.pattern.clone()
        }
    }
}

/// Translates a Fluent Bit `Regex` value (delimiters and options allowed) into Rust syntax.
pub fn to_rust(pattern: &str) -> Result<String, OnigmoError> {
    translate(pattern).map(|t| t.full())
}

/// Translates a Fluent Bit `Regex` value, keeping the multi-line flag apart.
pub fn translate(pattern: &str) -> Result<Translation, OnigmoError> {
    let (body, offset, opts) = strip_delimiters(pattern);
    let tree = parse::parse(body, offset + 1, opts.extended)?;
    let mut out = emit::emit(&tree, opts.ignore_case)?;
    let mut flags = String::new();
    if opts.ignore_case {
        flags.push('i');
    }
    if opts.dot_all {
        flags.push('s');
    }
    if !flags.is_empty() {
        out.insert_str(0, &format!("(?{flags})"));
    }
    let t = Translation {
        pattern: out,
        line_anchors: tree.line_anchors,
    };
    check(&t.full())?;
    Ok(t)
}

/// Checks the translation with the syntax `parse_regex` compiles with.
fn check(pattern: &str) -> Result<(), OnigmoError> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .map(|_| ())
        .map_err(|e| OnigmoError::Rust {
            pattern: pattern.to_owned(),
            message: e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .trim_start_matches("error: ")
                .to_owned(),
        })
}

/// Fluent Bit's `/pattern/` and `/pattern/opts` (`flb_regex.c`): a pattern that starts and
/// ends with `/` loses both; one that starts with `/` and ends with `/` and option letters
/// (`i`, `m`, `x`, `o`) loses them too and takes the options; with any other letter after the
/// last `/`, or `o` alone, the pattern is taken as written. Returns the body, the number of characters
/// removed before it, and the options.
fn strip_delimiters(pattern: &str) -> (&str, usize, Options) {
    let mut opts = Options::default();
    if !pattern.starts_with('/') || pattern.len() < 2 {
        return (pattern, 0, opts);
    }
    let last = pattern.rfind('/').unwrap_or(0);
    if last == 0 {
        return (pattern, 0, opts);
    }
    let tail = &pattern[last + 1..];
    if tail.is_empty() {
        return (&pattern[1..last], 1, opts);
    }
    for c in tail.chars() {
        match c {
            'i' => opts.ignore_case = true,
            'm' => opts.dot_all = true,
            'x' => opts.extended = true,
            'o' => {}
            _ => return (pattern, 0, Options::default()),
        }
    }
    if opts == Options::default() {
        // Only `o`: Fluent Bit then takes the pattern as written.
        return (pattern, 0, opts);
    }
    (&pattern[1..last], 1, opts)
}
