//! How the `multiline` transform decides, line by line: a start pattern, a continuation
//! pattern, or the rules of one of Fluent Bit's built-in multiline parsers (`go`, `python`,
//! `java`, `ruby`).
//!
//! A built-in parser is a set of rules `(from states, regex, to state)` (Fluent Bit's
//! `src/multiline/flb_ml_parser_*.c`), run the way `flb_ml_rule.c` runs them:
//! - while an event is open, the line is tested against the rules that leave the state the last
//!   rule led to (rules that leave `start_state` excepted); the first that matches appends it;
//! - otherwise the rules that leave `start_state` are tried: the first that matches begins a
//!   new event;
//! - otherwise the line is an event of its own, and whatever was open is emitted first;
//! - when the rule just applied leads to a state that a start rule leaves, the event is
//!   complete and emitted at once (Python's last line, `ValueError: ...`).
//!
//! The regexes are skiff's own, in Rust syntax, with the meaning of Fluent Bit's (Onigmo, Ruby
//! syntax: `\s`, `\d` are ASCII).

use std::sync::Arc;

use regex::bytes::Regex;

/// What to do with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Append it to the open event (or begin one if none is open).
    Append,
    /// Emit the open event, begin a new one with this line.
    Start,
    /// Emit the open event, then this line as an event of its own.
    Alone,
}

/// One rule as Fluent Bit defines it.
struct RuleDef {
    from: &'static [&'static str],
    regex: &'static str,
    to: &'static str,
}

const fn rule(from: &'static [&'static str], regex: &'static str, to: &'static str) -> RuleDef {
    RuleDef { from, regex, to }
}

const START: &str = "start_state";

const GO: &[RuleDef] = &[
    rule(&[START], r"\bpanic: ", "go_after_panic"),
    rule(&[START], r"http: panic serving", "go_goroutine"),
    rule(&["go_after_panic"], r"^$", "go_goroutine"),
    rule(
        &["go_after_panic", "go_after_signal", "go_frame_1"],
        r"^$",
        "go_goroutine",
    ),
    rule(&["go_after_panic"], r"^\[signal ", "go_after_signal"),
    rule(
        &["go_goroutine"],
        r"^goroutine [0-9]+ \[[^\]]+\]:$",
        "go_frame_1",
    ),
    rule(
        &["go_frame_1"],
        r"^(?:[^\t\n\x0B\x0C\r .:]+\.)*[^\t\n\x0B\x0C\r .():]+\(|^created by ",
        "go_frame_2",
    ),
    rule(&["go_frame_2"], r"^[\t\n\x0B\x0C\r ]", "go_frame_1"),
];

const PYTHON: &[RuleDef] = &[
    rule(
        &[START],
        r"^Traceback \(most recent call last\):$",
        "python",
    ),
    rule(&["python"], r"^[\t ]+File ", "python_code"),
    rule(&["python_code"], r"[^\t ]", "python"),
    rule(
        &["python"],
        r"^(?:[^\t\n\x0B\x0C\r .():]+\.)*[^\t\n\x0B\x0C\r .():]+:",
        START,
    ),
];

const JAVA: &[RuleDef] = &[
    rule(
        &[START, "java_start_exception"],
        r"(?:.)(?:Exception|Error|Throwable|V8 errors stack trace)[:\r\n]",
        "java_after_exception",
    ),
    rule(
        &["java_after_exception"],
        r"^[\t ]*nested exception is:[\t ]*",
        "java_start_exception",
    ),
    rule(
        &["java_after_exception"],
        r"^[\r\n]*$",
        "java_after_exception",
    ),
    rule(
        &["java_after_exception", "java"],
        r"^[\t ]+(?:eval )?at ",
        "java",
    ),
    rule(
        &["java_after_exception", "java"],
        r"^[\t ]+--- End of inner exception stack trace ---$",
        "java",
    ),
    rule(
        &["java_after_exception", "java"],
        r"^--- End of stack trace from previous location where exception was thrown ---$",
        "java",
    ),
    rule(
        &["java_after_exception", "java"],
        r"^[\t ]*(?:Caused by|Suppressed):",
        "java_after_exception",
    ),
    rule(
        &["java_after_exception", "java"],
        r"^[\t ]*... [0-9]+ (?:more|common frames omitted)",
        "java",
    ),
];

const RUBY: &[RuleDef] = &[
    rule(
        &[START, "ruby_start_exception"],
        r"^.+:[0-9]+:in[\t\n\x0B\x0C\r ]+.*",
        "ruby_after_exception",
    ),
    rule(
        &["ruby_after_exception", "ruby"],
        r"^[\t\n\x0B\x0C\r ]+from[\t\n\x0B\x0C\r ]+.*:[0-9]+:in[\t\n\x0B\x0C\r ]+.*",
        "ruby",
    ),
];

/// The names of the rule-based built-ins.
pub const RULE_PARSERS: &[&str] = &["go", "python", "java", "ruby"];

/// A compiled rule.
#[derive(Debug)]
struct Rule {
    regex: Regex,
    /// The rule leaves `start_state`.
    start: bool,
    /// Rules that leave the state this one leads to.
    next: Vec<usize>,
    /// One of `next` is a start rule: an event this rule extends is complete.
    completes: bool,
}

/// A built-in parser's rules, compiled.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

/// A rule written in a config (a Fluent Bit `[MULTILINE_PARSER]`'s `rule`): the states it
/// leaves, its regex (compiled) and the state it leads to.
#[derive(Debug, Clone)]
pub struct UserRule {
    pub from: Vec<String>,
    pub regex: Regex,
    pub to: String,
}

impl RuleSet {
    /// The rules of built-in parser `name`.
    pub fn builtin(name: &str) -> Option<RuleSet> {
        let defs = match name {
            "go" => GO,
            "python" => PYTHON,
            "java" => JAVA,
            "ruby" => RUBY,
            _ => return None,
        };
        let rules = defs
            .iter()
            .map(|d| UserRule {
                from: d.from.iter().map(|s| (*s).to_owned()).collect(),
                // The patterns are constants, checked by a test.
                regex: Regex::new(d.regex).unwrap_or_else(|e| unreachable!("{e}")),
                to: d.to.to_owned(),
            })
            .collect();
        Some(RuleSet::new(rules))
    }

    /// A rule set from rules run as Fluent Bit runs a `[MULTILINE_PARSER]`'s.
    pub fn new(defs: Vec<UserRule>) -> RuleSet {
        let mut rules: Vec<Rule> = defs
            .iter()
            .map(|d| Rule {
                regex: d.regex.clone(),
                start: d.from.iter().any(|f| f == START),
                next: Vec::new(),
                completes: false,
            })
            .collect();
        for (i, d) in defs.iter().enumerate() {
            let next: Vec<usize> = (0..defs.len())
                .filter(|&j| defs[j].from.contains(&d.to))
                .collect();
            rules[i].completes = next.iter().any(|&j| rules[j].start);
            rules[i].next = next;
        }
        RuleSet { rules }
    }

    /// Decides for `text`; `state` is the last rule applied in this file (updated). The bool
    /// is true when the event is complete after this line.
    pub fn decide(&self, state: &mut Option<usize>, text: &[u8]) -> (Decision, bool) {
        if let Some(r) = *state {
            let hit = self.rules[r]
                .next
                .iter()
                .copied()
                .find(|&j| !self.rules[j].start && self.rules[j].regex.is_match(text));
            if let Some(j) = hit {
                *state = Some(j);
                return (Decision::Append, self.rules[j].completes);
            }
        }
        match self
            .rules
            .iter()
            .position(|r| r.start && r.regex.is_match(text))
        {
            Some(j) => {
                *state = Some(j);
                (Decision::Start, self.rules[j].completes)
            }
            None => (Decision::Alone, false),
        }
    }
}

/// How lines are grouped.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A line matching the regex begins an event.
    Start(Regex),
    /// A line matching the regex continues the previous one.
    Continuation(Regex),
    /// A built-in parser's rules.
    Rules(Arc<RuleSet>),
}

impl Matcher {
    /// Decides for `text`; `state` is the file's rule state (rules only).
    #[inline]
    pub fn decide(&self, state: &mut Option<usize>, text: &[u8]) -> (Decision, bool) {
        match self {
            Matcher::Start(re) if re.is_match(text) => (Decision::Start, false),
            Matcher::Start(_) => (Decision::Append, false),
            Matcher::Continuation(re) if re.is_match(text) => (Decision::Append, false),
            Matcher::Continuation(_) => (Decision::Start, false),
            Matcher::Rules(rules) => rules.decide(state, text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(name: &str, lines: &[&str]) -> Vec<Vec<String>> {
        let rules = RuleSet::builtin(name).unwrap();
        let mut state = None;
        let mut out: Vec<Vec<String>> = Vec::new();
        let mut open = false;
        for line in lines {
            let (d, complete) = rules.decide(&mut state, line.as_bytes());
            match d {
                Decision::Append if open => out.last_mut().unwrap().push(line.to_string()),
                Decision::Alone => {
                    out.push(vec![line.to_string()]);
                    open = false;
                    continue;
                }
                _ => {
                    out.push(vec![line.to_string()]);
                    open = true;
                }
            }
            if complete {
                open = false;
            }
        }
        out
    }

    #[test]
    fn every_rule_compiles() {
        for name in RULE_PARSERS {
            assert!(RuleSet::builtin(name).is_some());
        }
        assert!(RuleSet::builtin("cobol").is_none());
    }

    #[test]
    fn python_completes_on_the_exception_line() {
        let g = groups(
            "python",
            &[
                "Traceback (most recent call last):",
                "  File \"x.py\", line 1, in <module>",
                "    f()",
                "ValueError: bad",
                "Traceback (most recent call last):",
                "  File \"y.py\", line 2, in g",
                "    g()",
                "KeyError: 'k'",
                "after",
            ],
        );
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 1]);
    }

    #[test]
    fn java_requires_a_colon_after_the_exception_name() {
        let g = groups(
            "java",
            &[
                "java.lang.RuntimeException",
                "\tat a.b(C.java:1)",
                "java.lang.RuntimeException: boom",
                "\tat a.b(C.java:1)",
                "\t... 3 more",
                "next",
            ],
        );
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 3, 1]);
    }

    proptest::proptest! {
        /// Through the `multiline` transform, whatever the lines: each comes out once, in order.
        #[test]
        fn every_line_in_one_group(
            which in 0..RULE_PARSERS.len(),
            lines in proptest::collection::vec(
                "(\\PC{0,20}|[\\t ]+(at|from|File) [a-z.:0-9()]{0,12}|[A-Za-z.]{1,12}(Exception|Error): x|panic: x|goroutine 1 \\[x\\]:|Traceback \\(most recent call last\\):)",
                0..12,
            ),
        ) {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let table: toml::Table =
                toml::from_str(&format!("parser = {:?}", RULE_PARSERS[which])).unwrap();
            let mut t = crate::transforms::parse("multiline", table).unwrap().build("ml_prop");
            let out = crate::transforms::testing::run_lines(t.as_mut(), &refs);
            let texts: Vec<String> = out
                .into_iter()
                .flat_map(|mut b| b.take_events())
                .flat_map(|e| {
                    let text = e.fields.get("message").unwrap().as_str().unwrap().to_owned();
                    text.split('\n').map(str::to_owned).collect::<Vec<_>>()
                })
                .collect();
            proptest::prop_assert_eq!(texts, lines);
        }
    }
}
