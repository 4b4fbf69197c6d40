//! Writes a converted [`Doc`] as skiff TOML, by hand, so that comments land exactly where they
//! explain something and the layout reads like a config written by a person: globals, `[log]`,
//! `[api]`, then sources, transforms and sinks in pipeline order.
//!
//! Every comment sits on its own line: skiff interpolates `${VAR}` on all lines except comment
//! lines, so a trailing comment quoting a variable could fail the load. Strings holding
//! backslashes (regexes) are written as literal strings (`'...'`) when they can be.

use std::fmt::Write;

use super::ir::{Component, Doc, Item, Val};

/// An inline table longer than this is written as its own `[a.b.c]` table.
const MAX_INLINE: usize = 100;

/// The TOML text of `doc`.
pub fn emit(doc: &Doc) -> String {
    let mut out = String::new();
    for line in &doc.header {
        push_comment(&mut out, line);
    }
    if !doc.globals.is_empty() {
        gap(&mut out);
        write_items(&mut out, &[], &doc.globals);
    }
    for (name, items) in [("log", &doc.log), ("api", &doc.api)] {
        if !items.is_empty() {
            gap(&mut out);
            let _ = writeln!(out, "[{name}]");
            write_items(&mut out, &[name], items);
        }
    }
    for (table, list) in [
        ("sources", &doc.sources),
        ("transforms", &doc.transforms),
        ("sinks", &doc.sinks),
    ] {
        for c in list {
            gap(&mut out);
            write_component(&mut out, table, c);
        }
    }
    if !doc.footer.is_empty() {
        gap(&mut out);
        for line in &doc.footer {
            push_comment(&mut out, line);
        }
    }
    out
}

/// A blank line between blocks.
fn gap(out: &mut String) {
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
}

fn push_comment(out: &mut String, line: &str) {
    if line.is_empty() {
        out.push_str("#\n");
    } else {
        let _ = writeln!(out, "# {line}");
    }
}

fn write_component(out: &mut String, table: &str, c: &Component) {
    for line in &c.leading {
        push_comment(out, line);
    }
    let _ = writeln!(out, "[{table}.{}]", key(&c.name));
    let _ = writeln!(out, "type = {}", string(&c.kind));
    if !c.inputs.is_empty() {
        let inputs = Val::List(c.inputs.iter().map(|i| Val::Str(i.clone())).collect());
        let _ = writeln!(out, "inputs = {}", value(&inputs));
    }
    write_items(out, &[table, &c.name], &c.items);
}

/// A table written after the plain keys, with the comments that preceded it.
struct Deferred<'a> {
    comments: Vec<&'a str>,
    key: &'a str,
    table: &'a [(String, Val)],
}

/// Writes keys and comments; long tables are moved after the plain keys as `[path.key]`
/// sections, with the comments that preceded them.
fn write_items(out: &mut String, path: &[&str], items: &[Item]) {
    let mut deferred: Vec<Deferred> = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Comment(text) => pending.push(text),
            // A key set twice keeps its last value: TOML allows each key once.
            Item::Key(k, _)
                if items[i + 1..]
                    .iter()
                    .any(|l| matches!(l, Item::Key(k2, _) if k2 == k)) => {}
            Item::Key(k, Val::Table(t)) if inline_too_long(k, t) => {
                deferred.push(Deferred {
                    comments: std::mem::take(&mut pending),
                    key: k,
                    table: t,
                });
            }
            Item::Key(k, v) => {
                for c in pending.drain(..) {
                    push_comment(out, c);
                }
                let _ = writeln!(out, "{} = {}", key(k), value(v));
            }
        }
    }
    for c in pending {
        push_comment(out, c);
    }
    for d in deferred {
        out.push('\n');
        for c in d.comments {
            push_comment(out, c);
        }
        let mut header: Vec<String> = path.iter().map(|p| key(p)).collect();
        header.push(key(d.key));
        let _ = writeln!(out, "[{}]", header.join("."));
        for (k, v) in last_of_each(d.table) {
            let _ = writeln!(out, "{} = {}", key(k), value(v));
        }
    }
}

/// The entries of a table, each key once with its last value, in order.
fn last_of_each(t: &[(String, Val)]) -> impl Iterator<Item = &(String, Val)> {
    t.iter()
        .enumerate()
        .filter(|(i, (k, _))| t[i + 1..].iter().all(|(k2, _)| k2 != k))
        .map(|(_, e)| e)
}

fn inline_too_long(k: &str, t: &[(String, Val)]) -> bool {
    let nested = t.iter().any(|(_, v)| matches!(v, Val::Table(_)));
    !nested && key(k).len() + 3 + value(&Val::Table(t.to_vec())).len() > MAX_INLINE
}

/// A key, bare when TOML allows it.
pub fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_owned()
    } else {
        basic_string(k)
    }
}

/// A value in TOML syntax.
pub fn value(v: &Val) -> String {
    match v {
        Val::Str(s) => string(s),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => float(*f),
        Val::Bool(b) => b.to_string(),
        Val::List(items) => {
            let parts: Vec<String> = items.iter().map(value).collect();
            format!("[{}]", parts.join(", "))
        }
        Val::Table(t) if t.is_empty() => "{}".into(),
        Val::Table(t) => {
            let parts: Vec<String> = last_of_each(t)
                .map(|(k, v)| format!("{} = {}", key(k), value(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

fn float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

/// A string: literal (`'...'`) when it holds backslashes or double quotes and nothing a
/// literal string cannot hold, basic (`"..."`) otherwise.
pub fn string(s: &str) -> String {
    let literal_ok = !s.contains('\'') && !s.chars().any(|c| c.is_control() && c != '\t');
    if literal_ok && (s.contains('\\') || s.contains('"')) {
        format!("'{s}'")
    } else {
        basic_string(s)
    }
}

fn basic_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_pick_the_readable_form() {
        assert_eq!(string("plain"), "\"plain\"");
        assert_eq!(string(r"^(?P<a>\S+)$"), r"'^(?P<a>\S+)$'");
        assert_eq!(string(r"it's \d"), r#""it's \\d""#);
        assert_eq!(string("a\nb"), "\"a\\nb\"");
        assert_eq!(string("\u{1}"), "\"\\u0001\"");
    }

    #[test]
    fn keys_are_quoted_when_needed() {
        assert_eq!(key("app_logs"), "app_logs");
        assert_eq!(key("kubernetes.pod_name"), "\"kubernetes.pod_name\"");
        assert_eq!(key(""), "\"\"");
    }

    #[test]
    fn a_key_set_twice_keeps_its_last_value() {
        let mut doc = Doc::default();
        doc.log.push(Item::Key("level".into(), Val::text("info")));
        doc.log.push(Item::Key("level".into(), Val::text("debug")));
        let t = Val::Table(vec![("a".into(), Val::Int(1)), ("a".into(), Val::Int(2))]);
        doc.log.push(Item::Key("t".into(), t));
        let text = emit(&doc);
        assert_eq!(text, "[log]\nlevel = \"debug\"\nt = { a = 2 }\n");
    }

    #[test]
    fn floats_stay_floats() {
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(0.25), "0.25");
    }

    #[test]
    fn a_document_reads_back_as_the_same_toml() {
        let mut doc = Doc {
            header: vec!["Converted.".into(), String::new()],
            ..Doc::default()
        };
        doc.log.push(Item::Key("level".into(), Val::text("info")));
        let mut c = Component::new("out".into(), "elasticsearch", vec!["src".into()]);
        c.comment("skiff migrate: note");
        c.set(
            "endpoints",
            Val::List(vec![Val::interp("http://${H}:9200")]),
        );
        c.set(
            "batch",
            Val::Table(vec![("timeout".into(), Val::text("1s"))]),
        );
        let long: Vec<(String, Val)> = (0..8)
            .map(|i| (format!("header_{i}"), Val::text("some value")))
            .collect();
        c.comment("about headers");
        c.set("headers", Val::Table(long));
        doc.sinks.push(c);
        let text = emit(&doc);
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        let sink = &parsed["sinks"]["out"];
        assert_eq!(sink["batch"]["timeout"].as_str(), Some("1s"));
        assert_eq!(sink["headers"]["header_7"].as_str(), Some("some value"));
        assert!(
            text.starts_with("# Converted.\n#\n\n[log]\nlevel = \"info\"\n"),
            "{text}"
        );
        assert!(
            text.contains("\n# about headers\n[sinks.out.headers]\n"),
            "{text}"
        );
    }
}
