//! Property bookkeeping for the Fluent Bit converters: which keys of a section were used, the
//! notes and warnings for the rest (so that no setting is dropped without a comment), and how
//! property values read in skiff's terms.

use super::section::{Prop, Section};
use crate::migrate::ir::{Ctx, Item, Severity, Val};
use crate::migrate::translate::fb_env;

/// Tracks which properties of a section were used; the rest are reported.
pub struct Props<'a> {
    pub section: &'a Section,
    used: Vec<bool>,
}

impl<'a> Props<'a> {
    pub fn new(section: &'a Section) -> Props<'a> {
        Props {
            section,
            used: vec![false; section.props.len()],
        }
    }

    /// The first unused property named `key` (case-insensitive), marked used.
    pub fn take(&mut self, key: &str) -> Option<&'a Prop> {
        let i = self
            .section
            .props
            .iter()
            .enumerate()
            .position(|(i, p)| !self.used[i] && p.key.eq_ignore_ascii_case(key))?;
        self.used[i] = true;
        Some(&self.section.props[i])
    }

    /// Every unused property whose key is one of `keys`, in file order, marked used.
    pub fn take_each(&mut self, keys: &[&str]) -> Vec<&'a Prop> {
        let mut out = Vec::new();
        for (i, p) in self.section.props.iter().enumerate() {
            if !self.used[i] && keys.iter().any(|k| p.key.eq_ignore_ascii_case(k)) {
                self.used[i] = true;
                out.push(p);
            }
        }
        out
    }

    /// The properties nobody took.
    pub fn rest(&mut self) -> Vec<&'a Prop> {
        let rest = self
            .section
            .props
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.used[*i])
            .map(|(_, p)| p)
            .collect();
        self.used.fill(true);
        rest
    }
}

/// Keys every plugin accepts that skiff has no use for, with the reason.
const COMMON_NOTES: &[(&str, &str)] = &[
    ("mem_buf_limit", "skiff's memory is bounded by design (the file is the buffer); nothing to set"),
    ("storage.type", "skiff keeps no buffer of its own: the log file is the buffer"),
    ("storage.pause_on_chunks_overlimit", "skiff keeps no buffer of its own: the log file is the buffer"),
    ("storage.total_limit_size", "skiff keeps no buffer of its own: the log file is the buffer"),
    ("retry_limit", "skiff retries forever with backoff; the file is the buffer, so nothing is lost while it waits"),
    ("log_level", "skiff has one log level, set in [log]"),
    ("workers", "skiff sizes its own concurrency (see max_in_flight on elasticsearch sinks)"),
    ("threaded", "skiff runs each file source on its own thread"),
    ("alias", "used as the component's name"),
];

/// Reports every property left in `props`: known ones as notes, the others as warnings.
pub fn report_rest(ctx: &mut Ctx, props: &mut Props, c: &mut Vec<Item>) {
    for p in props.rest() {
        let key = p.key.to_ascii_lowercase();
        let line = match COMMON_NOTES.iter().find(|(k, _)| *k == key) {
            Some((_, why)) => ctx.note(Severity::Note, &p.place, &p.key, why),
            None => ctx.note(
                Severity::Warning,
                &p.place,
                &format!("{} {}", p.key, p.value),
                "has no skiff equivalent; left out",
            ),
        };
        c.push(Item::Comment(line));
    }
}

/// A value in skiff syntax (environment variables kept).
pub fn sval(p: &Prop) -> Val {
    Val::interp(fb_env(&p.value, &[]))
}

/// The section's description for comments: `[INPUT] tail`.
pub fn what(s: &Section) -> String {
    format!("[{}] {}", s.kind, s.name())
}

/// Reports a value that cannot be read.
pub fn bad_value(ctx: &mut Ctx, p: &Prop, items: &mut Vec<Item>) {
    let line = ctx.note(
        Severity::Warning,
        &p.place,
        &format!("{} {}", p.key, p.value),
        "cannot read this value; left out",
    );
    items.push(Item::Comment(line));
}

/// Notes each property named in `keys`, in file order, with the reason skiff needs none.
pub fn note_each(ctx: &mut Ctx, p: &mut Props, items: &mut Vec<Item>, keys: &[&str], why: &str) {
    for v in p.take_each(keys) {
        let line = ctx.note(Severity::Note, &v.place, &v.key, why);
        items.push(Item::Comment(line));
    }
}

/// The comment lines for a section left out: the warning, then the section as written.
pub fn left_out(ctx: &mut Ctx, s: &Section, why: &str) -> Vec<String> {
    let mut lines = vec![ctx.note(Severity::Warning, &s.place, &what(s), why)];
    lines.extend(s.raw.iter().map(|l| format!("  {l}")));
    lines
}

/// Splits `KEY VALUE` (the value may hold spaces).
pub fn key_value(p: &Prop) -> (String, String) {
    let v = p.value.trim();
    match v.split_once(char::is_whitespace) {
        Some((k, rest)) => (k.to_owned(), rest.trim().to_owned()),
        None => (v.to_owned(), String::new()),
    }
}

/// A Fluent Bit record accessor (`$kubernetes['labels']['app']`) or plain key as a skiff
/// field path (`kubernetes.labels.app`).
pub fn record_accessor(s: &str) -> String {
    let s = s.trim();
    let Some(rest) = s.strip_prefix('$') else {
        return s.to_owned();
    };
    let mut parts = Vec::new();
    let (head, mut tail) = rest.split_once('[').map_or((rest, ""), |(h, t)| (h, t));
    parts.push(head.to_owned());
    while let Some(end) = tail.find(']') {
        let part = tail[..end].trim_matches(|c| c == '\'' || c == '"');
        parts.push(part.to_owned());
        tail = tail[end + 1..].trim_start_matches('[');
    }
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_accessors_become_paths() {
        assert_eq!(record_accessor("log"), "log");
        assert_eq!(record_accessor("$log"), "log");
        assert_eq!(
            record_accessor("$kubernetes['labels']['app']"),
            "kubernetes.labels.app"
        );
    }
}
