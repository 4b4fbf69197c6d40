//! A speed-up for the most common log regex shape: a pattern that ends with `(?P<rest>.*)$`.
//!
//! Such a pattern spends most of its time walking `.*` over the message to reach `$`. On a text
//! without `\n`, `(?P<rest>.*)$` always matches whatever follows the prefix, so the regex engine's
//! leftmost-first match of the whole pattern is exactly its match of the prefix, and `rest` is the
//! remainder of the text. [`split`] finds the prefix at config load (from the parsed syntax tree,
//! not by text tricks); the parser runs the prefix and slices the rest, and falls back to the full
//! pattern when the text has a `\n`.
//!
//! Flags that change what `.` or `$` mean (`s`, `m`, `R`, `U`, `u`) anywhere in the pattern turn
//! the speed-up off; `i` and `x` are harmless and allowed. A property test compares both ways on
//! random texts.

use regex_syntax::ast::{self, AssertionKind, Ast, GroupKind, RepetitionKind};

/// A pattern split before its trailing `(?P<name>.*)$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailSplit {
    /// The pattern without the trailing group and `$`, anchored as the original.
    pub prefix: String,
    /// The trailing group's name.
    pub name: String,
}

/// Splits `pattern` when it has the shape; `None` when it has not (or does not parse).
pub fn split(pattern: &str) -> Option<TailSplit> {
    let parsed = ast::parse::Parser::new().parse(pattern).ok()?;
    if !flags_are_harmless(&parsed) {
        return None;
    }
    let Ast::Concat(concat) = &parsed else {
        return None;
    };
    let [.., Ast::Group(group), Ast::Assertion(end)] = concat.asts.as_slice() else {
        return None;
    };
    if !matches!(end.kind, AssertionKind::EndLine | AssertionKind::EndText) {
        return None;
    }
    let GroupKind::CaptureName { name, .. } = &group.kind else {
        return None;
    };
    let Ast::Repetition(rep) = group.ast.as_ref() else {
        return None;
    };
    if !rep.greedy || !matches!(rep.op.kind, RepetitionKind::ZeroOrMore) {
        return None;
    }
    if !matches!(rep.ast.as_ref(), Ast::Dot(_)) {
        return None;
    }
    Some(TailSplit {
        prefix: pattern[..group.span.start.offset].to_owned(),
        name: name.name.clone(),
    })
}

/// True when no flag in the tree changes what `.`, `$` or greediness mean.
fn flags_are_harmless(node: &Ast) -> bool {
    let harmless = |flags: &ast::Flags| {
        flags.items.iter().all(|item| match &item.kind {
            ast::FlagsItemKind::Negation => true,
            ast::FlagsItemKind::Flag(f) => {
                matches!(f, ast::Flag::CaseInsensitive | ast::Flag::IgnoreWhitespace)
            }
        })
    };
    match node {
        Ast::Flags(set) => harmless(&set.flags),
        Ast::Group(g) => {
            let own = match &g.kind {
                GroupKind::NonCapturing(flags) => harmless(flags),
                _ => true,
            };
            own && flags_are_harmless(&g.ast)
        }
        Ast::Repetition(r) => flags_are_harmless(&r.ast),
        Ast::Alternation(a) => a.asts.iter().all(flags_are_harmless),
        Ast::Concat(c) => c.asts.iter().all(flags_are_harmless),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex::bytes::Regex;

    #[test]
    fn splits_the_seed_pattern() {
        let s = split(r"^(?P<timestamp>\S+) (?P<level>\S+) (?P<message>.*)$").unwrap();
        assert_eq!(s.prefix, r"^(?P<timestamp>\S+) (?P<level>\S+) ");
        assert_eq!(s.name, "message");
        assert_eq!(
            split(r"(?i)^(?P<l>info) (?<m>.*)\z").unwrap().prefix,
            r"(?i)^(?P<l>info) "
        );
    }

    #[test]
    fn leaves_other_shapes_alone() {
        for p in [
            r"^(?P<a>\S+) (?P<m>.*)",
            r"^(?P<a>\S+) (.*)$",
            r"^(?P<a>\S+) (?P<m>.+)$",
            r"^(?P<a>\S+) (?P<m>.*?)$",
            r"(?s)^(?P<a>\S+) (?P<m>.*)$",
            r"^(?m)(?P<a>\S+) (?P<m>.*)$",
            r"^(?R:(?P<a>\S+)) (?P<m>.*)$",
            r"^a|(?P<m>.*)$",
            r"^(?P<a>\S+) (?P<m>[^x]*)$",
            r"^(?P<a>\S+) (?P<m>(.*))$",
            r"(",
        ] {
            assert_eq!(split(p), None, "{p}");
        }
    }

    /// Captured (name, text) pairs.
    type Captured = Option<Vec<(String, String)>>;

    /// What the full pattern captures versus the prefix-plus-rest way.
    fn both_ways(pattern: &str, text: &str) -> (Captured, Captured) {
        let full = Regex::new(pattern).unwrap();
        let names = |re: &Regex, caps: &regex::bytes::Captures| -> Vec<(String, String)> {
            re.capture_names()
                .flatten()
                .filter_map(|n| {
                    caps.name(n).map(|m| {
                        (
                            n.to_owned(),
                            String::from_utf8_lossy(m.as_bytes()).into_owned(),
                        )
                    })
                })
                .collect()
        };
        let expected = full.captures(text.as_bytes()).map(|c| names(&full, &c));
        let tail = split(pattern).unwrap();
        let prefix = Regex::new(&tail.prefix).unwrap();
        let got = if text.contains('\n') {
            expected.clone()
        } else {
            prefix.captures(text.as_bytes()).map(|c| {
                let mut v = names(&prefix, &c);
                let end = c.get(0).unwrap().end();
                v.push((tail.name.clone(), text[end..].to_owned()));
                v
            })
        };
        (expected, got)
    }

    const PATTERNS: &[&str] = &[
        r"^(?P<timestamp>\S+) (?P<level>\S+) (?P<message>.*)$",
        r"(?P<level>[A-Z]+):? (?P<message>.*)$",
        r"^(?P<a>\S+?)(?:-(?P<b>\d+))? (?P<rest>.*)\z",
        r"(?i)^\[(?P<level>info|warn)\]\s*(?P<rest>.*)$",
        r"(?P<all>.*)$",
        r"^(?:a|ab)(?P<rest>.*)$",
    ];

    proptest! {
        #[test]
        fn prefix_plus_rest_equals_the_full_pattern(
            pi in 0..PATTERNS.len(),
            text in "(\\PC|[ \\[\\]\\r\\n:aAbB0-9-]){0,40}",
        ) {
            let (expected, got) = both_ways(PATTERNS[pi], &text);
            prop_assert_eq!(got, expected, "pattern {} on {:?}", PATTERNS[pi], text);
        }
    }
}
