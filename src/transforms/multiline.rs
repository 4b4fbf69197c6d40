//! `multiline`: joins the lines of one message (a stack trace, a pretty-printed object) into one
//! event.
//!
//! `mode = "start"` (default): a line matching `start_pattern` begins a new event, other lines
//! continue the current one. `mode = "continuation"`: a line matching `continuation_pattern`
//! continues the previous one (`^\s+at `, `^\s`), any other line begins a new event.
//! `parser = "go" | "python" | "java" | "ruby"`: Fluent Bit's built-in rules for stack traces
//! ([`super::multiline_rules`]); `parser = "docker" | "cri"` and `parsers = ["docker", "cri"]`
//! join what container runtimes split ([`super::multiline_container`]); `rules = [{ from, regex,
//! to }]`: rules of one's own, run like the built-in ones (a Fluent Bit `[MULTILINE_PARSER]`). Lines are
//! joined with `separator` in `field`; the event keeps the first line's other fields and offset.
//!
//! An event is emitted when the next one begins, when it reaches `max_lines`, when the next line
//! would take it past `max_bytes` (that line then begins a new event; a single line longer than
//! `max_bytes` is cut and marked `_skiff_truncated`), after `timeout` without a new line, at the
//! end of its file (`end_of_file`: rotated away, deleted or drained) and at shutdown. Lines of
//! different files never mix. A held event keeps acknowledgement shares of the batches it spans
//! ([`super::pending`]), so checkpoints never pass a line that has not left skiff.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use regex::bytes::Regex;
use serde::Deserialize;

use super::multiline_rules::{Decision, Matcher, RuleSet, UserRule, RULE_PARSERS};
use super::pending::{BatchMeta, Pending};
use super::{Transform, TransformConfig};
use crate::config::{parse_table, ByteSize, ConfigDuration, FieldError};
use crate::event::{Batch, Event, FieldPath, Payload, Value, TRUNCATED_KEY};

/// How lines are grouped.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A line matching `start_pattern` begins an event.
    #[default]
    Start,
    /// A line matching `continuation_pattern` continues the previous one.
    Continuation,
}

/// One of `rules`: `{ from = "start_state", regex = '...', to = "cont" }` (`from` may be a
/// list of states).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    from: OneOrMany,
    regex: String,
    to: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// `[transforms.NAME] type = "multiline"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMultilineConfig {
    /// `start` (default) or `continuation`.
    #[serde(default)]
    mode: Mode,
    /// With `mode = "start"`: the regex of a line that begins an event.
    #[serde(default)]
    start_pattern: Option<String>,
    /// With `mode = "continuation"`: the regex of a line that continues the previous one.
    #[serde(default)]
    continuation_pattern: Option<String>,
    /// A built-in parser's rules instead of a pattern: `go`, `python`, `java`, `ruby`.
    #[serde(default)]
    parser: Option<String>,
    /// Rules of one's own, as a Fluent Bit `[MULTILINE_PARSER]` writes them.
    #[serde(default)]
    rules: Option<Vec<RawRule>>,
    /// Field holding each line's text (default `message`).
    #[serde(default = "default_field")]
    field: String,
    /// Text put between joined lines (default `"\n"`).
    #[serde(default = "default_separator")]
    separator: String,
    /// Emit a held event after this long without a new line (default `1s`).
    #[serde(default = "default_timeout")]
    timeout: ConfigDuration,
    /// Most lines in one event (default 500).
    #[serde(default = "default_max_lines")]
    max_lines: usize,
    /// Largest event text (default `1MiB`).
    #[serde(default = "default_max_bytes")]
    max_bytes: ByteSize,
}

fn default_field() -> String {
    "message".into()
}
fn default_separator() -> String {
    "\n".into()
}
fn default_timeout() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(1))
}
fn default_max_lines() -> usize {
    500
}
fn default_max_bytes() -> ByteSize {
    ByteSize(1 << 20)
}

/// A validated `multiline` transform.
#[derive(Debug, Clone)]
pub struct MultilineConfig {
    matcher: Matcher,
    field: FieldPath,
    separator: Bytes,
    timeout: Duration,
    max_lines: usize,
    max_bytes: usize,
}

impl MultilineConfig {
    /// Parses and checks the table, compiling the pattern.
    pub fn parse(table: toml::Table) -> Result<MultilineConfig, FieldError> {
        let c: RawMultilineConfig = parse_table(table)?;
        let matcher = match (&c.parser, &c.rules) {
            (Some(_), Some(_)) => {
                return Err(FieldError::new(
                    &["rules"],
                    "set `parser` or `rules`, not both",
                ))
            }
            (Some(name), None) => builtin_rules(name, &c)?,
            (None, Some(rules)) => user_rules(rules, &c)?,
            (None, None) => pattern_matcher(&c)?,
        };
        let field = FieldPath::parse(&c.field).map_err(|e| FieldError::new(&["field"], e))?;
        if c.max_lines == 0 {
            return Err(FieldError::new(&["max_lines"], "must be at least 1"));
        }
        if c.max_bytes.0 == 0 {
            return Err(FieldError::new(&["max_bytes"], "must be at least 1 byte"));
        }
        if c.timeout.get().is_zero() {
            return Err(FieldError::new(&["timeout"], "must be longer than 0"));
        }
        Ok(MultilineConfig {
            matcher,
            field,
            separator: Bytes::from(c.separator),
            timeout: c.timeout.get(),
            max_lines: c.max_lines,
            max_bytes: c.max_bytes.as_usize(),
        })
    }
}

/// The rules of a built-in parser; patterns and modes do not mix with them.
fn builtin_rules(name: &str, c: &RawMultilineConfig) -> Result<Matcher, FieldError> {
    for (key, set) in [
        ("start_pattern", c.start_pattern.is_some()),
        ("continuation_pattern", c.continuation_pattern.is_some()),
        ("mode", c.mode != Mode::Start),
    ] {
        if set {
            return Err(FieldError::new(
                &[key],
                format!("`{key}` does not apply with `parser`: the parser's rules decide"),
            ));
        }
    }
    let rules = RuleSet::builtin(name).ok_or_else(|| {
        FieldError::new(
            &["parser"],
            format!(
                "unknown multiline parser `{name}`; the built-in ones are {}, docker and cri",
                RULE_PARSERS.join(", ")
            ),
        )
    })?;
    Ok(Matcher::Rules(std::sync::Arc::new(rules)))
}

/// Rules of one's own; patterns and modes do not mix with them, and some rule must leave
/// `start_state`.
fn user_rules(raw: &[RawRule], c: &RawMultilineConfig) -> Result<Matcher, FieldError> {
    for (key, set) in [
        ("start_pattern", c.start_pattern.is_some()),
        ("continuation_pattern", c.continuation_pattern.is_some()),
        ("mode", c.mode != Mode::Start),
    ] {
        if set {
            return Err(FieldError::new(
                &[key],
                format!("`{key}` does not apply with `rules`: the rules decide"),
            ));
        }
    }
    let mut rules = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let regex = Regex::new(&r.regex).map_err(|e| {
            FieldError::new(
                &["rules", &i.to_string(), "regex"],
                format!("invalid regex: {e}"),
            )
        })?;
        let from = match &r.from {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        };
        rules.push(UserRule {
            from,
            regex,
            to: r.to.clone(),
        });
    }
    if !rules
        .iter()
        .any(|r| r.from.iter().any(|f| f == "start_state"))
    {
        return Err(FieldError::new(
            &["rules"],
            "no rule leaves `start_state`, so no event could begin",
        ));
    }
    Ok(Matcher::Rules(std::sync::Arc::new(RuleSet::new(rules))))
}

/// A start or continuation pattern, as `mode` says.
fn pattern_matcher(c: &RawMultilineConfig) -> Result<Matcher, FieldError> {
    let (key, pattern, other) = match c.mode {
        Mode::Start => (
            "start_pattern",
            &c.start_pattern,
            ("continuation_pattern", &c.continuation_pattern),
        ),
        Mode::Continuation => (
            "continuation_pattern",
            &c.continuation_pattern,
            ("start_pattern", &c.start_pattern),
        ),
    };
    if other.1.is_some() {
        return Err(FieldError::new(
            &[other.0],
            format!(
                "`{}` does not apply to mode `{}`; set `{key}`",
                other.0,
                mode_name(c.mode)
            ),
        ));
    }
    let Some(pattern) = pattern else {
        return Err(FieldError::new(
            &[],
            format!("mode `{}` needs `{key}`", mode_name(c.mode)),
        ));
    };
    let pattern =
        Regex::new(pattern).map_err(|e| FieldError::new(&[key], format!("invalid regex: {e}")))?;
    Ok(match c.mode {
        Mode::Start => Matcher::Start(pattern),
        Mode::Continuation => Matcher::Continuation(pattern),
    })
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Start => "start",
        Mode::Continuation => "continuation",
    }
}

impl TransformConfig for MultilineConfig {
    fn kind(&self) -> &'static str {
        "multiline"
    }

    fn build(&self, _name: &str) -> Box<dyn Transform> {
        Box::new(Multiline::new(self.clone()))
    }
}

/// The running transform: one held event at most per file.
pub struct Multiline {
    config: MultilineConfig,
    pending: HashMap<Option<u64>, Pending>,
    /// The last rule applied, per file (built-in parsers only).
    states: HashMap<Option<u64>, usize>,
}

/// Events and extra acknowledgement shares produced from one batch.
#[derive(Default)]
struct Output {
    events: Vec<Event>,
    acks: Vec<crate::acks::AckToken>,
}

impl Output {
    fn emit(&mut self, p: Pending, field: &FieldPath) {
        let (ev, acks, _) = p.finish(field);
        self.events.push(ev);
        self.acks.extend(acks);
    }
}

impl Multiline {
    /// A transform with no event held.
    pub fn new(config: MultilineConfig) -> Multiline {
        Multiline {
            config,
            pending: HashMap::new(),
            states: HashMap::new(),
        }
    }

    /// Adds one event's line to `cur`, emitting what is complete; `state` is the file's rule
    /// state.
    fn push(
        &self,
        state: &mut Option<usize>,
        cur: &mut Option<Pending>,
        ev: Event,
        meta: &BatchMeta,
        out: &mut Output,
    ) {
        let c = &self.config;
        let text = match ev.fields.get_path(&c.field) {
            Some(Value::Str(b)) => b.clone(),
            // Not text: it cannot be joined; it passes on, after what was held.
            _ => {
                if let Some(p) = cur.take() {
                    out.emit(p, &c.field);
                }
                out.events.push(ev);
                return;
            }
        };
        let fits = |p: &Pending| {
            p.lines < c.max_lines && p.len() + c.separator.len() + text.len() <= c.max_bytes
        };
        let (decision, complete) = c.matcher.decide(state, &text);
        match (decision, cur.as_mut()) {
            (Decision::Append, Some(p)) if fits(p) => {
                p.append(&c.separator, &text, c.max_bytes);
                if ev.fields.get(TRUNCATED_KEY).is_some() {
                    p.truncated = true;
                }
            }
            (Decision::Alone, _) => {
                if let Some(p) = cur.take() {
                    out.emit(p, &c.field);
                }
                out.events.push(ev);
                return;
            }
            _ => {
                if let Some(p) = cur.take() {
                    out.emit(p, &c.field);
                }
                *cur = Some(Pending::new(ev, text, c.max_bytes, meta.clone()));
            }
        }
        if complete || cur.as_ref().is_some_and(|p| p.lines >= c.max_lines) {
            if let Some(p) = cur.take() {
                out.emit(p, &c.field);
            }
        }
    }

    /// Emits held events older than `timeout` at `now`.
    fn flush_expired(&mut self, now: Instant, out: &mut Vec<Batch>) {
        let timeout = self.config.timeout;
        let mut expired: Vec<Option<u64>> = self
            .pending
            .iter()
            .filter(|(_, p)| p.updated.is_none_or(|t| now.duration_since(t) >= timeout))
            .map(|(k, _)| *k)
            .collect();
        expired.sort_unstable();
        for key in expired {
            if let Some(p) = self.pending.remove(&key) {
                let (ev, acks, meta) = p.finish(&self.config.field);
                out.push(meta.batch(vec![ev], acks));
            }
        }
    }
}

impl Transform for Multiline {
    fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
        let file = batch.origin.as_ref().map(|o| o.file_id);
        let meta = BatchMeta::of(&batch);
        let events = batch.take_events();
        let mut output = Output {
            events: Vec::with_capacity(events.len()),
            acks: Vec::new(),
        };
        let mut cur = self.pending.remove(&file);
        let mut state = self.states.remove(&file);
        for ev in events {
            self.push(&mut state, &mut cur, ev, &meta, &mut output);
        }
        if let (Some(s), false) = (state, batch.end_of_file) {
            self.states.insert(file, s);
        }
        if let Some(mut p) = cur {
            if batch.end_of_file {
                output.emit(p, &self.config.field);
            } else {
                if p.hold_acks_of(&batch) {
                    p.updated = Some(Instant::now());
                }
                self.pending.insert(file, p);
            }
        }
        batch.payload = Payload::Events(output.events);
        batch.acks.extend(output.acks);
        out.push(batch);
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some((self.config.timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1)))
    }

    fn tick(&mut self, out: &mut Vec<Batch>) {
        if !self.pending.is_empty() {
            self.flush_expired(Instant::now(), out);
        }
    }

    fn finish(&mut self, out: &mut Vec<Batch>) {
        let mut keys: Vec<Option<u64>> = self.pending.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            if let Some(p) = self.pending.remove(&key) {
                let (ev, acks, meta) = p.finish(&self.config.field);
                out.push(meta.batch(vec![ev], acks));
            }
        }
    }
}

#[cfg(test)]
#[path = "multiline_tests.rs"]
mod tests;
