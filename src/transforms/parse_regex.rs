//! `parse_regex`: named captures of a regular expression become fields (Fluent Bit's
//! `Format regex`, Vector's `parse_regex!`).
//!
//! `pattern` or `patterns` (tried in order, the first match wins), Rust `regex` syntax with named
//! groups `(?P<name>...)`; unnamed and non-participating groups are skipped; `types` converts
//! named values. Matching runs on bytes with reused capture slots, and every value is a slice of
//! the line. Patterns ending in `(?P<rest>.*)$` take the shortcut of [`super::regex_tail`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use bytes::Bytes;
use regex_automata::util::captures::Captures;
use regex_automata::util::syntax;
use regex_automata::{meta, Input, MatchKind, PatternID};
use serde::Deserialize;

use super::on_error::Reason;
use super::parser::{parse_own, Parse, ParserOptions, ParserTransform};
use super::regex_tail;
use super::types::FieldType;
use super::{Transform, TransformConfig};
use crate::config::FieldError;
use crate::event::{Fields, Value};
use crate::intern;

/// The options of `parse_regex` besides the common ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnOptions {
    /// One pattern.
    #[serde(default)]
    pattern: Option<String>,
    /// Patterns tried in order; the first that matches wins.
    #[serde(default)]
    patterns: Vec<String>,
    /// Types of named values: `int`, `float`, `bool`, `string` (default).
    #[serde(default)]
    types: BTreeMap<String, FieldType>,
}

/// A validated `parse_regex` transform.
#[derive(Debug, Clone)]
pub struct ParseRegexConfig {
    opts: ParserOptions,
    parser: RegexParser,
}

impl ParseRegexConfig {
    /// Parses and checks the table, compiling the patterns.
    pub fn parse(mut table: toml::Table) -> Result<ParseRegexConfig, FieldError> {
        let opts = ParserOptions::take_from(&mut table)?;
        let own: OwnOptions = parse_own(table)?;
        let (patterns, key): (Vec<String>, &str) = match (own.pattern, own.patterns) {
            (Some(p), v) if v.is_empty() => (vec![p], "pattern"),
            (None, v) if !v.is_empty() => (v, "patterns"),
            (None, _) => {
                return Err(FieldError::new(
                    &[],
                    "set `pattern` (or `patterns`, a list tried in order)",
                ))
            }
            (Some(_), _) => {
                return Err(FieldError::new(
                    &["patterns"],
                    "set either `pattern` or `patterns`, not both",
                ))
            }
        };
        let parser = RegexParser::new(&patterns, &own.types, true).map_err(|(i, msg)| {
            if i == usize::MAX {
                FieldError::new(&["types"], msg)
            } else if key == "pattern" {
                FieldError::new(&["pattern"], msg)
            } else {
                FieldError::new(&["patterns", &i.to_string()], msg)
            }
        })?;
        Ok(ParseRegexConfig { opts, parser })
    }
}

impl TransformConfig for ParseRegexConfig {
    fn stateless(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "parse_regex"
    }

    fn build(&self, name: &str) -> Box<dyn Transform> {
        Box::new(ParserTransform::new(
            name,
            self.parser.clone(),
            self.opts.clone(),
        ))
    }
}

/// A named group: its index, its key, its type.
#[derive(Debug, Clone)]
struct Group {
    index: usize,
    key: Bytes,
    ty: FieldType,
}

/// A regex with its named groups, its own search cache and reusable capture slots.
///
/// The regex is built as `regex::bytes::Regex` builds it (same syntax, limits and match
/// semantics), but searched with a cache owned by this instance: the `regex` crate takes a cache
/// from a pool on every search, and a pool only has a fast path for the thread that first used
/// it, which tasks moving between runtime threads keep missing (profiled).
#[derive(Debug, Clone)]
struct Compiled {
    regex: meta::Regex,
    cache: meta::Cache,
    groups: Vec<Group>,
    caps: Captures,
}

impl Compiled {
    fn new(pattern: &str, types: &BTreeMap<String, FieldType>) -> Result<Compiled, String> {
        let regex = meta::Builder::new()
            .configure(
                meta::Config::new()
                    .nfa_size_limit(Some(10 << 20))
                    .hybrid_cache_capacity(2 << 20)
                    .match_kind(MatchKind::LeftmostFirst)
                    .utf8_empty(false),
            )
            .syntax(syntax::Config::new().utf8(false))
            .build(pattern)
            .map_err(|e| match (e.size_limit(), e.syntax_error()) {
                (Some(limit), _) => {
                    format!("invalid regex: compiled regex exceeds size limit of {limit} bytes")
                }
                // The engine's reason with its caret, as `regex` prints it (the build error's
                // own text only says "error parsing pattern 0": each pattern is built alone).
                (None, Some(syntax)) => format!("invalid regex: {syntax}"),
                (None, None) => format!("invalid regex: {e}"),
            })?;
        let groups = regex
            .group_info()
            .pattern_names(PatternID::ZERO)
            .enumerate()
            .filter_map(|(index, name)| {
                name.map(|n| Group {
                    index,
                    key: intern::key_bytes(n),
                    ty: types.get(n).copied().unwrap_or_default(),
                })
            })
            .collect();
        let cache = regex.create_cache();
        let caps = regex.create_captures();
        Ok(Compiled {
            regex,
            cache,
            groups,
            caps,
        })
    }

    /// Searches `hay`; the match's end when it matched (groups are then in `self.caps`).
    #[inline]
    fn search(&mut self, hay: &[u8]) -> Option<usize> {
        self.regex
            .search_captures_with(&mut self.cache, &Input::new(hay), &mut self.caps);
        self.caps.get_match().map(|m| m.end())
    }

    /// Pushes the named values of the last match on `input` (inside `owner`) into `out`.
    #[inline]
    fn collect(&self, owner: &Bytes, input: &[u8], out: &mut Fields, warning: &mut Option<Reason>) {
        for g in &self.groups {
            if let Some(span) = self.caps.get_group(g.index) {
                push(
                    out,
                    g,
                    owner.slice_ref(&input[span.start..span.end]),
                    warning,
                );
            }
        }
    }
}

#[inline]
fn push(out: &mut Fields, g: &Group, text: Bytes, warning: &mut Option<Reason>) {
    let value = g.ty.convert(text).unwrap_or_else(|text| {
        *warning = Some(Cow::Owned(format!(
            "field `{}` is not {}",
            String::from_utf8_lossy(&g.key),
            match g.ty {
                FieldType::Int => "an int",
                other => other.name(),
            }
        )));
        Value::Str(text)
    });
    out.push_unchecked(g.key.clone(), value);
}

/// One pattern: the full regex, and the prefix shortcut when the pattern allows it.
#[derive(Debug, Clone)]
struct Pattern {
    full: Compiled,
    tail: Option<(Compiled, Group)>,
}

/// Matches text against patterns in order.
#[derive(Debug, Clone)]
pub struct RegexParser {
    patterns: Vec<Pattern>,
}

impl RegexParser {
    /// Compiles `patterns`; `shortcut` enables the trailing `(?P<x>.*)$` speed-up (benches turn
    /// it off to measure it). Errors carry the pattern's index (`usize::MAX` for `types`).
    pub fn new(
        patterns: &[String],
        types: &BTreeMap<String, FieldType>,
        shortcut: bool,
    ) -> Result<RegexParser, (usize, String)> {
        let mut compiled = Vec::with_capacity(patterns.len());
        for (i, p) in patterns.iter().enumerate() {
            let full = Compiled::new(p, types).map_err(|e| (i, e))?;
            if full.groups.is_empty() {
                return Err((i, "the pattern has no named group `(?P<name>...)`".into()));
            }
            let tail = regex_tail::split(p).filter(|_| shortcut).and_then(|t| {
                let prefix = Compiled::new(&t.prefix, types).ok()?;
                let last = full.groups.last()?.clone();
                (last.key.as_ref() == t.name.as_bytes()).then_some((prefix, last))
            });
            compiled.push(Pattern { full, tail });
        }
        for name in types.keys() {
            let known = compiled.iter().any(|p| {
                p.full
                    .groups
                    .iter()
                    .any(|g| g.key.as_ref() == name.as_bytes())
            });
            if !known {
                return Err((usize::MAX, format!("no pattern has a group named `{name}`")));
            }
        }
        Ok(RegexParser { patterns: compiled })
    }

    /// True when pattern `i` takes the shortcut.
    pub fn uses_shortcut(&self, i: usize) -> bool {
        self.patterns.get(i).is_some_and(|p| p.tail.is_some())
    }
}

impl Parse for RegexParser {
    #[inline]
    fn parse(
        &mut self,
        owner: &Bytes,
        hay: &[u8],
        warning: &mut Option<Reason>,
    ) -> Result<Value, Reason> {
        let no_newline = memchr::memchr(b'\n', hay).is_none();
        for p in &mut self.patterns {
            if let (Some((prefix, last)), true) = (&mut p.tail, no_newline) {
                let Some(end) = prefix.search(hay) else {
                    continue;
                };
                let mut out = Fields::with_capacity(prefix.groups.len() + 4);
                prefix.collect(owner, hay, &mut out, warning);
                push(&mut out, last, owner.slice_ref(&hay[end..]), warning);
                return Ok(Value::Object(out));
            }
            if p.full.search(hay).is_some() {
                let mut out = Fields::with_capacity(p.full.groups.len() + 3);
                p.full.collect(owner, hay, &mut out, warning);
                return Ok(Value::Object(out));
            }
        }
        Err(Cow::Borrowed("no pattern matched"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::testing::{json_lines, run_lines};
    use proptest::prelude::*;

    fn build(toml_text: &str) -> Result<Box<dyn Transform>, FieldError> {
        Ok(ParseRegexConfig::parse(toml::from_str(toml_text).unwrap())?.build("parse_regex_test"))
    }

    #[test]
    fn golden_seed_pattern_with_types_and_timestamp() {
        let mut t = build(
            r#"
pattern = '^(?P<timestamp>\S+) (?P<level>\S+) (?P<message>.*?)(?: latency_ms=(?P<latency_ms>\S+))?$'
types = { latency_ms = "int" }
timestamp = { format = "%Y-%m-%dT%H:%M:%S%.3f" }
"#,
        )
        .unwrap();
        let out = run_lines(
            t.as_mut(),
            &[
                "2026-11-26T04:00:00.123 INFO request handled latency_ms=42",
                "2026-11-26T04:00:01.000 WARN slow latency_ms=x1",
                "2026-11-26T04:00:02.000 DEBUG no latency",
                "garbage",
            ],
        );
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"2026-11-26T04:00:00.123Z","level":"INFO","message":"request handled","latency_ms":42,"file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"2026-11-26T04:00:01.000Z","level":"WARN","message":"slow","latency_ms":"x1","file":"/var/log/app/app.log","_skiff_error":"field `latency_ms` is not an int"}"#,
                r#"{"timestamp":"2026-11-26T04:00:02.000Z","level":"DEBUG","message":"no latency","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"<read_at>","message":"garbage","file":"/var/log/app/app.log","_skiff_error":"no pattern matched"}"#,
            ]
        );
    }

    #[test]
    fn patterns_in_order_and_unnamed_groups() {
        let mut t = build(
            r#"
patterns = ['^(\d+) (?P<num>\d+)$', '^(?P<word>[a-z]+) (?P<rest>.*)$']
target = "p"
"#,
        )
        .unwrap();
        let out = run_lines(t.as_mut(), &["1 2", "ab cd ef"]);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"<read_at>","file":"/var/log/app/app.log","p":{"num":"2"}}"#,
                r#"{"timestamp":"<read_at>","file":"/var/log/app/app.log","p":{"word":"ab","rest":"cd ef"}}"#,
            ]
        );
    }

    #[test]
    fn config_errors() {
        let err = |s: &str| build(s).err().unwrap();
        assert_eq!(err("").path, Vec::<String>::new());
        assert_eq!(err("pattern = '('").path, vec!["pattern"]);
        assert_eq!(err("pattern = '(a)'").path, vec!["pattern"]);
        assert_eq!(
            err("patterns = ['(?P<a>a)', '(']").path,
            vec!["patterns", "1"]
        );
        assert_eq!(
            err("pattern = '(?P<a>a)'\ntypes = { b = 'int' }").path,
            vec!["types"]
        );
        assert_eq!(
            err("pattern = '(?P<a>a)'\ntypes = { a = 'decimal' }").path,
            vec!["types", "a"]
        );
        assert_eq!(
            err("pattern = '(?P<a>a)'\npatterns = ['(?P<a>a)']").path,
            vec!["patterns"]
        );
    }

    #[test]
    fn regex_errors_carry_the_engine_reason() {
        let err = |s: &str| build(s).err().unwrap();
        let e = err("patterns = ['(?P<a>a)', '^(x']");
        assert_eq!(e.path, vec!["patterns", "1"]);
        assert_eq!(
            e.message,
            "invalid regex: regex parse error:\n    ^(x\n     ^\nerror: unclosed group"
        );
        // The same text as the `regex` crate's own error (as `multiline` and `filter` print).
        let lookahead = String::from("^(?=x)");
        let theirs = regex::Regex::new(&lookahead).unwrap_err().to_string();
        assert_eq!(
            err("pattern = '^(?=x)'").message,
            format!("invalid regex: {theirs}")
        );
        assert!(theirs.contains("look-around"), "{theirs}");
    }

    const PATTERNS: &[&str] = &[
        r"^(?P<timestamp>\S+) (?P<level>\S+) (?P<message>.*)$",
        r"(?P<level>[A-Z]+):? (?P<message>.*)$",
        r"^(?P<a>\S+?)(?:-(?P<b>\d+))? (?P<rest>.*)\z",
        r"(?P<all>.*)$",
    ];

    proptest! {
        #[test]
        fn matches_what_the_regex_crate_matches(
            pi in 0..PATTERNS.len(),
            text in "(\\PC|[ \\r\\n:aAbB0-9-]|\\xff){0,40}",
        ) {
            let mut ours = Compiled::new(PATTERNS[pi], &BTreeMap::new()).unwrap();
            let theirs = regex::bytes::Regex::new(PATTERNS[pi]).unwrap();
            let hay = text.as_bytes();
            let end = ours.search(hay);
            let caps = theirs.captures(hay);
            prop_assert_eq!(end, caps.as_ref().map(|c| c.get(0).unwrap().end()));
            if let Some(caps) = caps {
                for g in &ours.groups {
                    let span = ours.caps.get_group(g.index).map(|s| (s.start, s.end));
                    let expected = caps.get(g.index).map(|m| (m.start(), m.end()));
                    prop_assert_eq!(span, expected);
                }
            }
        }

        #[test]
        fn shortcut_gives_what_the_full_pattern_gives(
            pi in 0..PATTERNS.len(),
            text in "(\\PC|[ \\r\\n:aAbB0-9-]){0,40}",
        ) {
            let pats = vec![PATTERNS[pi].to_owned()];
            let types = BTreeMap::new();
            let mut fast = RegexParser::new(&pats, &types, true).unwrap();
            prop_assert!(fast.uses_shortcut(0));
            let mut slow = RegexParser::new(&pats, &types, false).unwrap();
            let input = Bytes::from(text);
            let (mut w1, mut w2) = (None, None);
            prop_assert_eq!(fast.parse(&input, &input, &mut w1), slow.parse(&input, &input, &mut w2));
        }
    }
}
