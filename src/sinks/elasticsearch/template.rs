//! Index name templates: `app-logs-%Y.%m.%d`, `logs-{{ service }}-default`, and
//! `{{ kubernetes.namespace ?? logstash }}-%Y.%m.%d` (the text after `??` stands in for a
//! missing field, as Fluent Bit's `Logstash_Prefix_Key` falls back to `Logstash_Prefix`).
//!
//! A template is parsed once at config load into literal text, strftime runs (rendered on the
//! event time in UTC) and field references. Rendering is on the hot path (once per document), so
//! the date runs are cached: the template knows the finest unit it uses (a day for `%Y.%m.%d`, an
//! hour with `%H`...), and the dates are formatted again only when the event time enters a new
//! period. A template without field references renders to the cached name itself, with no copy.

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Utc};

use crate::event::{FieldPath, Fields, Value};

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexTemplate {
    parts: Vec<Part>,
    /// The text outside field references and strftime specifiers, for checks on index names.
    literal: String,
    /// Length in seconds of the period within which every date run renders the same; `None` when
    /// a run uses sub-second fields (never cached). Irrelevant without date runs.
    period: Option<i64>,
    has_dates: bool,
    has_fields: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Date(Vec<Item<'static>>),
    /// A field reference, with the text written when the field is missing (`?? text`).
    Field(FieldPath, Option<String>),
}

/// What a template's field references are looked up in.
#[derive(Debug, Clone, Copy)]
pub enum FieldSource<'a> {
    /// A structured event's fields.
    Event(&'a Fields),
    /// A raw line: its `message`, and the file path under the batch's file key.
    Line {
        message: &'a [u8],
        file_key: Option<&'a [u8]>,
        path: Option<&'a [u8]>,
    },
}

impl FieldSource<'_> {
    /// Appends the text of the field at `path`; false when there is no such field or it is not
    /// a scalar.
    fn write(&self, path: &FieldPath, out: &mut Vec<u8>) -> bool {
        match self {
            FieldSource::Event(fields) => match fields.get_path(path) {
                Some(Value::Str(s)) => out.extend_from_slice(s),
                Some(Value::Int(n)) => {
                    out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes())
                }
                Some(Value::Bool(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
                Some(Value::Float(f)) if f.is_finite() => {
                    out.extend_from_slice(ryu::Buffer::new().format_finite(*f).as_bytes())
                }
                _ => return false,
            },
            FieldSource::Line {
                message,
                file_key,
                path: file,
            } => {
                if !path.is_top_level() {
                    return false;
                }
                let key = path.segments()[0].as_bytes();
                if key == b"message" {
                    out.extend_from_slice(message);
                } else if let (Some(k), Some(p)) = (file_key, file) {
                    if *k != key {
                        return false;
                    }
                    out.extend_from_slice(p);
                } else {
                    return false;
                }
            }
        }
        true
    }
}

impl IndexTemplate {
    /// Parses `text`: strftime specifiers anywhere outside `{{ }}`, field paths inside.
    pub fn parse(text: &str) -> Result<IndexTemplate, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            push_text(&mut parts, &rest[..open])?;
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` without a closing `}}}}` in `{text}`"))?;
            let (path, fallback) = match after[..close].split_once("??") {
                Some((path, fallback)) => (path.trim(), Some(fallback.trim().to_owned())),
                None => (after[..close].trim(), None),
            };
            if fallback.as_deref() == Some("") {
                return Err(format!("`??` without a fallback text in `{text}`"));
            }
            let path = FieldPath::parse(path).map_err(|e| format!("in `{text}`: {e}"))?;
            parts.push(Part::Field(path, fallback));
            rest = &after[close + 2..];
        }
        push_text(&mut parts, rest)?;
        if parts.is_empty() {
            return Err("the index name cannot be empty".into());
        }
        let has_dates = parts.iter().any(|p| matches!(p, Part::Date(_)));
        let has_fields = parts.iter().any(|p| matches!(p, Part::Field(..)));
        Ok(IndexTemplate {
            literal: literal_of(text),
            period: period_of(text),
            parts,
            has_dates,
            has_fields,
        })
    }

    /// The literal text of the template (dates and fields left out), for checks on index names.
    pub fn literal_text(&self) -> &str {
        &self.literal
    }

    /// The template with this one's parts followed by `other`'s.
    pub fn concat(mut self, other: IndexTemplate) -> IndexTemplate {
        self.parts.extend(other.parts);
        self.literal.push_str(&other.literal);
        self.period = match (self.period, other.period) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => None,
        };
        self.has_dates |= other.has_dates;
        self.has_fields |= other.has_fields;
        self
    }
}

fn push_text(parts: &mut Vec<Part>, text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    if !text.contains('%') {
        parts.push(Part::Text(text.to_owned()));
        return Ok(());
    }
    let items = StrftimeItems::new(text)
        .parse_to_owned()
        .map_err(|_| format!("invalid strftime specifier in `{text}`"))?;
    parts.push(Part::Date(items));
    Ok(())
}

/// `text` without `{{ field }}` references and strftime specifiers; a fallback text
/// (`{{ field ?? text }}`) is kept, since it may become the name.
fn literal_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let inner = &rest[open + 2..];
        let close = inner.find("}}");
        if let Some((_, fallback)) = inner[..close.unwrap_or(inner.len())].split_once("??") {
            out.push_str(fallback.trim());
        }
        rest = close.map_or("", |close| &inner[close + 2..]);
    }
    out.push_str(rest);
    let mut literal = String::with_capacity(out.len());
    let mut chars = out.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            // Drop the specifier with its flags and width.
            let _ = chars.find(|c| !matches!(c, '-' | '_' | '0'..='9' | '^' | '#' | '.' | ':'));
        } else {
            literal.push(c);
        }
    }
    literal
}

/// The finest time unit the strftime specifiers of `text` use, in seconds (`None`: sub-second).
fn period_of(text: &str) -> Option<i64> {
    let mut period = 86_400;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        // Skip padding flags, widths and the `.3f` / `:z` modifiers, then read the specifier.
        let spec = chars.find(|c| !matches!(c, '-' | '_' | '0'..='9' | '^' | '#' | '.' | ':'));
        let unit = match spec {
            Some('Y' | 'C' | 'y' | 'm' | 'b' | 'B' | 'h' | 'd' | 'e' | 'j' | 'a' | 'A' | 'w')
            | Some('u' | 'U' | 'W' | 'G' | 'g' | 'V' | 'D' | 'F' | 'x' | 'v')
            | Some('%' | 'n' | 't' | 'z' | 'Z')
            | None => 86_400,
            Some('H' | 'k' | 'I' | 'l' | 'p' | 'P') => 3600,
            Some('M' | 'R') => 60,
            Some('f') => return None,
            Some(_) => 1,
        };
        period = period.min(unit);
    }
    Some(period)
}

/// Renders one template, caching the date runs for the current period.
#[derive(Debug)]
pub struct IndexRenderer {
    template: IndexTemplate,
    /// The period the cache holds, as `timestamp / period`.
    key: Option<i64>,
    /// Rendered date runs, in template order.
    dates: Vec<String>,
    /// The whole name, when the template has no field reference (valid for `key`).
    whole: Vec<u8>,
    /// The name of the last document with field references.
    out: Vec<u8>,
    /// Field references not found in the last rendering.
    missing: u32,
}

impl IndexRenderer {
    /// A renderer for `template`.
    pub fn new(template: IndexTemplate) -> IndexRenderer {
        let mut r = IndexRenderer {
            template,
            key: None,
            dates: Vec::new(),
            whole: Vec::new(),
            out: Vec::with_capacity(64),
            missing: 0,
        };
        if !r.template.has_dates {
            r.refresh(DateTime::<Utc>::UNIX_EPOCH);
        }
        r
    }

    /// The index name for a document of time `ts` whose fields are `fields`.
    pub fn render(&mut self, ts: DateTime<Utc>, fields: FieldSource<'_>) -> &[u8] {
        if self.template.has_dates {
            let key = self.template.period.map(|p| ts.timestamp().div_euclid(p));
            if key.is_none() || key != self.key {
                self.refresh(ts);
                self.key = key;
            }
        }
        if !self.template.has_fields {
            return &self.whole;
        }
        self.out.clear();
        self.missing = 0;
        let mut dates = self.dates.iter();
        for part in &self.template.parts {
            match part {
                Part::Text(t) => self.out.extend_from_slice(t.as_bytes()),
                Part::Date(_) => {
                    if let Some(d) = dates.next() {
                        self.out.extend_from_slice(d.as_bytes());
                    }
                }
                Part::Field(path, fallback) => {
                    if !fields.write(path, &mut self.out) {
                        match fallback {
                            Some(text) => self.out.extend_from_slice(text.as_bytes()),
                            None => self.missing += 1,
                        }
                    }
                }
            }
        }
        &self.out
    }

    /// Field references the last [`render`](Self::render) did not find (rendered as nothing).
    pub fn missing_fields(&self) -> u32 {
        self.missing
    }

    fn refresh(&mut self, ts: DateTime<Utc>) {
        self.dates.clear();
        self.whole.clear();
        for part in &self.template.parts {
            match part {
                Part::Text(t) => self.whole.extend_from_slice(t.as_bytes()),
                Part::Date(items) => {
                    let d = ts.format_with_items(items.iter()).to_string();
                    self.whole.extend_from_slice(d.as_bytes());
                    self.dates.push(d);
                }
                Part::Field(..) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn line(msg: &[u8]) -> FieldSource<'_> {
        FieldSource::Line {
            message: msg,
            file_key: Some(b"file"),
            path: Some(b"/var/log/app/a.log"),
        }
    }

    #[test]
    fn dates_use_the_event_time_in_utc() {
        let t = IndexTemplate::parse("app-logs-%Y.%m.%d").unwrap();
        let mut r = IndexRenderer::new(t);
        let name = r.render(at("2026-11-26T23:30:00-02:00"), line(b""));
        assert_eq!(name, b"app-logs-2026.11.27");
        assert_eq!(
            r.render(at("2026-11-26T01:00:00Z"), line(b"")),
            b"app-logs-2026.11.26"
        );
    }

    /// Index names come from each event's own time, never from the wall clock: events whose
    /// times jump backwards and forwards (a clock corrected on the host, a late file) each land
    /// in their own day's index, and the renderer's cache never holds a stale name.
    #[test]
    fn index_names_follow_event_time_when_it_jumps() {
        let mut r = IndexRenderer::new(IndexTemplate::parse("app-%Y.%m.%d").unwrap());
        let times = [
            ("2026-03-01T00:00:01Z", "app-2026.03.01"),
            ("2026-02-28T23:59:59Z", "app-2026.02.28"),
            ("2026-03-01T00:00:02Z", "app-2026.03.01"),
            ("2031-01-01T00:00:00Z", "app-2031.01.01"),
            ("1999-12-31T23:59:59Z", "app-1999.12.31"),
            ("2026-03-01T12:00:00Z", "app-2026.03.01"),
        ];
        for (t, want) in times {
            assert_eq!(r.render(at(t), line(b"")), want.as_bytes(), "{t}");
        }
    }

    #[test]
    fn cache_follows_the_finest_unit() {
        assert_eq!(period_of("a-%Y.%m.%d"), Some(86_400));
        assert_eq!(period_of("a-%Y.%m.%d.%H"), Some(3600));
        assert_eq!(period_of("a-%F-%M"), Some(60));
        assert_eq!(period_of("a-%s"), Some(1));
        assert_eq!(period_of("a-%-d"), Some(86_400));
        assert_eq!(period_of("a-%.3f"), None);
        let mut r = IndexRenderer::new(IndexTemplate::parse("h-%Y%m%d%H").unwrap());
        assert_eq!(
            r.render(at("2026-01-01T10:59:59Z"), line(b"")),
            b"h-2026010110"
        );
        assert_eq!(
            r.render(at("2026-01-01T11:00:00Z"), line(b"")),
            b"h-2026010111"
        );
        assert_eq!(
            r.render(at("2025-12-31T23:00:00Z"), line(b"")),
            b"h-2025123123"
        );
    }

    #[test]
    fn static_names() {
        let mut r = IndexRenderer::new(IndexTemplate::parse("plain").unwrap());
        assert_eq!(r.render(Utc::now(), line(b"")), b"plain");
    }

    #[test]
    fn field_references() {
        let t = IndexTemplate::parse("logs-{{ kubernetes.namespace }}-%Y-{{level}}").unwrap();
        let mut r = IndexRenderer::new(t);
        let mut fields = Fields::default();
        fields.insert_path(
            &FieldPath::parse("kubernetes.namespace").unwrap(),
            Value::from("prod"),
        );
        fields.insert(Bytes::from_static(b"level"), Value::Int(3));
        let ts = at("2026-05-01T00:00:00Z");
        assert_eq!(
            r.render(ts, FieldSource::Event(&fields)),
            b"logs-prod-2026-3"
        );
        assert_eq!(r.missing_fields(), 0);
        let empty = Fields::default();
        assert_eq!(r.render(ts, FieldSource::Event(&empty)), b"logs--2026-");
        assert_eq!(r.missing_fields(), 2);
    }

    #[test]
    fn a_missing_field_falls_back_to_its_text() {
        let t = IndexTemplate::parse("{{ kubernetes.namespace ?? logstash }}-%Y.%m.%d").unwrap();
        assert_eq!(t.literal_text(), "logstash-..");
        let mut r = IndexRenderer::new(t);
        let ts = at("2026-12-02T00:00:00Z");
        let mut fields = Fields::default();
        assert_eq!(
            r.render(ts, FieldSource::Event(&fields)),
            b"logstash-2026.12.02"
        );
        assert_eq!(r.missing_fields(), 0);
        fields.insert_path(
            &FieldPath::parse("kubernetes.namespace").unwrap(),
            Value::from("shop"),
        );
        assert_eq!(
            r.render(ts, FieldSource::Event(&fields)),
            b"shop-2026.12.02"
        );
        assert!(IndexTemplate::parse("{{ a ?? }}").is_err());
    }

    #[test]
    fn lines_offer_message_and_file() {
        let mut r = IndexRenderer::new(IndexTemplate::parse("x-{{file}}-{{message}}").unwrap());
        assert_eq!(
            r.render(Utc::now(), line(b"m")),
            b"x-/var/log/app/a.log-m".as_slice()
        );
        let mut r = IndexRenderer::new(IndexTemplate::parse("x-{{other}}").unwrap());
        assert_eq!(r.render(Utc::now(), line(b"m")), b"x-");
        assert_eq!(r.missing_fields(), 1);
    }

    #[test]
    fn literal_text_leaves_out_dates_and_fields() {
        let t = IndexTemplate::parse("App-{{ a.b }}-%Y.%-m.%d-x").unwrap();
        assert_eq!(t.literal_text(), "App--..-x");
    }

    #[test]
    fn bad_templates() {
        for bad in ["", "a-{{ x", "a-{{}}", "a-{{ a..b }}", "bad-%Q"] {
            assert!(IndexTemplate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn concatenation_keeps_parts_in_order() {
        let a = IndexTemplate::parse("logs-").unwrap();
        let b = IndexTemplate::parse("{{ app }}-%Y").unwrap();
        let mut r = IndexRenderer::new(a.concat(b));
        let mut f = Fields::default();
        f.insert(Bytes::from_static(b"app"), Value::from("web"));
        assert_eq!(
            r.render(at("2030-01-01T00:00:00Z"), FieldSource::Event(&f)),
            b"logs-web-2030"
        );
    }
}
