//! What every field parser (`parse_json`, `parse_regex`, `parse_logfmt`) shares: the common
//! options, and the transform that runs a [`Parse`] over a batch.
//!
//! Common options: `field` (the text to parse, default `message`), `target` (where the parsed
//! data goes; absent: merged into the event root), `keep_source` (default false: the source field
//! is removed after a successful parse, unless the parsed data set it again), `on_error` and
//! `timestamp`.
//!
//! Merging into the root puts the parsed fields first, in the order the parser found them,
//! followed by the event's other fields that the parsed data did not set. Raw lines take a fast
//! path that builds each event straight from the parsed fields and the line's own fields (file
//! path, truncation mark) without an intermediate event; it gives exactly what the general path
//! gives (a test checks it).

use std::borrow::Cow;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::on_error::{ErrorReport, OnError, Problem, Reason};
use super::timestamp::{Applied, TimestampConfig, TimestampRule};
use super::Transform;
use crate::config::{parse_table, FieldError};
use crate::event::{Batch, Event, FieldPath, Fields, Payload, Value, ERROR_KEY, TRUNCATED_KEY};

/// Parses one text value into structured data.
pub trait Parse: Send + 'static {
    /// Parses `input`, a string lying inside `owner` (a line buffer that values share: slice
    /// them with [`Bytes::slice_ref`]). A problem that does not fail the parse (a value of the
    /// wrong type) goes to `warning`.
    fn parse(
        &mut self,
        owner: &Bytes,
        input: &[u8],
        warning: &mut Option<Reason>,
    ) -> Result<Value, Reason>;

    /// The event time the last successful [`Parse::parse`] read, for parsers that read times
    /// themselves (a `timestamp` option, when set, takes precedence).
    fn event_time(&mut self) -> Option<DateTime<Utc>> {
        None
    }
}

/// The options every parser has, as written in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommonConfig {
    /// Field holding the text to parse (default `message`).
    #[serde(default = "default_field")]
    field: String,
    /// Where to put the parsed data; absent: merge it into the event root.
    #[serde(default)]
    target: Option<String>,
    /// Keep the source field after a successful parse (default false).
    #[serde(default)]
    keep_source: bool,
    /// `keep` (default) or `drop` events that do not parse.
    #[serde(default)]
    on_error: OnError,
    /// Take the event's time from a parsed field.
    #[serde(default)]
    timestamp: Option<TimestampConfig>,
}

fn default_field() -> String {
    "message".into()
}

const COMMON_KEYS: [&str; 5] = ["field", "target", "keep_source", "on_error", "timestamp"];

/// The common options, compiled.
#[derive(Debug, Clone)]
pub struct ParserOptions {
    field: FieldPath,
    /// The field is the top-level `message`: raw lines can take the fast path.
    field_is_message: bool,
    target: Option<FieldPath>,
    keep_source: bool,
    on_error: OnError,
    timestamp: Option<TimestampRule>,
    /// `_skiff_error` text for a timestamp that does not parse.
    timestamp_reason: Bytes,
}

impl ParserOptions {
    /// Takes the common options out of a parser's table, leaving its own options.
    pub fn take_from(table: &mut toml::Table) -> Result<ParserOptions, FieldError> {
        let mut common = toml::Table::new();
        for key in COMMON_KEYS {
            if let Some(v) = table.remove(key) {
                common.insert(key.to_owned(), v);
            }
        }
        let c: CommonConfig = parse_table(common)?;
        let field = FieldPath::parse(&c.field).map_err(|e| FieldError::new(&["field"], e))?;
        let target = c
            .target
            .as_deref()
            .map(FieldPath::parse)
            .transpose()
            .map_err(|e| FieldError::new(&["target"], e))?;
        let timestamp = c
            .timestamp
            .as_ref()
            .map(TimestampConfig::compile)
            .transpose()
            .map_err(|e| e.within(&["timestamp"]))?;
        let timestamp_reason = Bytes::from(format!(
            "timestamp field `{}` did not parse",
            c.timestamp.as_ref().map_or("", |t| t.field.as_str())
        ));
        Ok(ParserOptions {
            field_is_message: c.field == "message",
            field,
            target,
            keep_source: c.keep_source,
            on_error: c.on_error,
            timestamp,
            timestamp_reason,
        })
    }
}

/// Parses a parser's own options (after [`ParserOptions::take_from`]), naming the common
/// options too when a key is unknown.
pub fn parse_own<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<T, FieldError> {
    parse_table(table).map_err(|mut e| {
        if e.message.starts_with("unknown field") {
            e.message
                .push_str(", or one of the options every parser has: ");
            e.message.push_str(&COMMON_KEYS.join(", "));
        }
        e
    })
}

/// Turns a reason into the bytes of an `_skiff_error` value (static text is not copied).
pub fn reason_bytes(reason: Reason) -> Bytes {
    match reason {
        Cow::Borrowed(s) => Bytes::from_static(s.as_bytes()),
        Cow::Owned(s) => Bytes::from(s),
    }
}

fn error_key() -> Bytes {
    Bytes::from_static(ERROR_KEY.as_bytes())
}

fn has_key(fields: &Fields, key: &[u8]) -> bool {
    fields.iter().any(|(k, _)| k.as_ref() == key)
}

/// A transform that runs parser `P` on every event.
pub struct ParserTransform<P> {
    parser: P,
    opts: ParserOptions,
    report: ErrorReport,
}

impl<P: Parse> ParserTransform<P> {
    /// A parser transform named `name`.
    pub fn new(name: &str, parser: P, opts: ParserOptions) -> ParserTransform<P> {
        ParserTransform {
            parser,
            opts,
            report: ErrorReport::new(name),
        }
    }

    /// Raw lines, parsing `message`, merging at the root: events built directly.
    fn lines(&mut self, batch: &mut Batch) {
        let Payload::Lines(lines) =
            std::mem::replace(&mut batch.payload, Payload::Events(Vec::new()))
        else {
            return;
        };
        let path = batch.path_for_events();
        let mut events = Vec::with_capacity(lines.len());
        for span in &lines.spans {
            let mut warning = None;
            let result = self
                .parser
                .parse(&lines.buf, lines.line(span), &mut warning);
            let mut ev = match result {
                Ok(Value::Object(mut parsed)) => {
                    let own = self.parser.event_time();
                    let timestamp = self.take_timestamp(&mut parsed, &mut warning).or(own);
                    if self.opts.keep_source && !has_key(&parsed, b"message") {
                        parsed.push_unchecked(
                            Bytes::from_static(b"message"),
                            Value::Str(lines.line_bytes(span)),
                        );
                    }
                    if let (Some(key), Some(path)) = (&batch.file_key, &path) {
                        if !has_key(&parsed, key) {
                            parsed.push_unchecked(key.clone(), Value::Str(path.clone()));
                        }
                    }
                    if span.truncated && !has_key(&parsed, TRUNCATED_KEY.as_bytes()) {
                        parsed.push_unchecked(
                            Bytes::from_static(TRUNCATED_KEY.as_bytes()),
                            Value::Bool(true),
                        );
                    }
                    Event {
                        fields: parsed,
                        timestamp,
                        offset: span.offset,
                    }
                }
                other => {
                    let mut ev = Event::from_message(lines.line_bytes(span), span.offset);
                    batch.add_line_fields(&mut ev.fields, span, path.as_ref());
                    let outcome = match other {
                        Ok(value) => self.merge(&mut ev, value, &mut warning),
                        Err(reason) => Err(reason),
                    };
                    if let Err(reason) = outcome {
                        if !self.fail(&mut ev, reason) {
                            continue;
                        }
                    }
                    ev
                }
            };
            self.warn(&mut ev, warning);
            events.push(ev);
        }
        batch.payload = Payload::Events(events);
    }

    /// Parses one event in place; false when it must be dropped.
    fn event(&mut self, ev: &mut Event) -> bool {
        let input = match ev.fields.get_path(&self.opts.field) {
            Some(Value::Str(b)) => b.clone(),
            Some(_) => return self.fail(ev, Cow::Borrowed("source field is not a string")),
            None => return self.fail(ev, Cow::Borrowed("source field is missing")),
        };
        let mut warning = None;
        let outcome = match self.parser.parse(&input, &input, &mut warning) {
            Ok(value) => self.merge(ev, value, &mut warning),
            Err(reason) => Err(reason),
        };
        if let Err(reason) = outcome {
            return self.fail(ev, reason);
        }
        self.warn(ev, warning);
        true
    }

    /// Puts parsed data into the event, or explains why it cannot.
    fn merge(
        &mut self,
        ev: &mut Event,
        mut value: Value,
        warning: &mut Option<Reason>,
    ) -> Result<(), Reason> {
        if self.opts.target.is_none() && !matches!(value, Value::Object(_)) {
            return Err(Cow::Borrowed(
                "parsed value is not an object and no target is set",
            ));
        }
        let own = self.parser.event_time();
        if let Value::Object(parsed) = &mut value {
            if let Some(ts) = self.take_timestamp(parsed, warning).or(own) {
                ev.timestamp = Some(ts);
            }
        }
        if !self.opts.keep_source {
            ev.fields.remove_path(&self.opts.field);
        }
        match (&self.opts.target, value) {
            (Some(target), value) => ev.fields.insert_path(target, value),
            (None, Value::Object(parsed)) => {
                let old = std::mem::replace(&mut ev.fields, parsed);
                for (k, v) in old {
                    if !has_key(&ev.fields, &k) {
                        ev.fields.push_unchecked(k, v);
                    }
                }
            }
            // Checked above: without a target the value is an object.
            (None, _) => {}
        }
        Ok(())
    }

    /// Reads the configured time field of freshly parsed data.
    fn take_timestamp(
        &mut self,
        parsed: &mut Fields,
        warning: &mut Option<Reason>,
    ) -> Option<DateTime<Utc>> {
        let rule = self.opts.timestamp.as_ref()?;
        match rule.apply(parsed) {
            Applied::Absent => None,
            Applied::Time(ts) => Some(ts),
            Applied::Unreadable => {
                self.report
                    .record_with(Problem::KeptTimestamp, || rule.describe_failure(parsed));
                // A type warning, if any, is less useful than this one.
                *warning = None;
                parsed.insert(error_key(), Value::Str(self.opts.timestamp_reason.clone()));
                None
            }
        }
    }

    /// Marks an event with a non-fatal problem.
    fn warn(&mut self, ev: &mut Event, warning: Option<Reason>) {
        if let Some(reason) = warning {
            self.report.record(Problem::KeptType, &reason);
            ev.fields
                .insert(error_key(), Value::Str(reason_bytes(reason)));
        }
    }

    /// Applies `on_error`; false when the event must be dropped.
    fn fail(&mut self, ev: &mut Event, reason: Reason) -> bool {
        match self.opts.on_error {
            OnError::Keep => {
                self.report.record(Problem::KeptParse, &reason);
                ev.fields
                    .insert(error_key(), Value::Str(reason_bytes(reason)));
                true
            }
            OnError::Drop => {
                self.report.record(Problem::Dropped, &reason);
                false
            }
        }
    }
}

impl<P: Parse> Transform for ParserTransform<P> {
    fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
        let fast = self.opts.field_is_message && self.opts.target.is_none();
        if fast && matches!(batch.payload, Payload::Lines(_)) {
            self.lines(&mut batch);
        } else {
            let mut events = std::mem::take(batch.events_mut());
            events.retain_mut(|ev| self.event(ev));
            batch.payload = Payload::Events(events);
        }
        self.report.flush();
        out.push(batch);
    }
}
