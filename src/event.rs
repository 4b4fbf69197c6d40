//! Events and batches: the data that flows from sources through transforms to sinks.
//!
//! A [`Batch`] is the unit of transport and of acknowledgement. A file source emits one batch per
//! read: a shared buffer holding complete lines of one file, with no per-line allocation
//! ([`Payload::Lines`]). The first transform that needs structure turns the lines into
//! [`Event`]s ([`Payload::Events`]); sinks that need nothing but the line (the blackhole, the
//! console in text mode, even the console in JSON mode) read the lines straight from the buffer.
//!
//! Strings are [`Bytes`] slices: a parser that finds a value inside a line keeps a slice of the
//! line's buffer (a reference count, no copy). Invariant: every [`Value::Str`] and every key holds
//! valid UTF-8. The file source guarantees it (invalid input is replaced, lossily, and counted), and
//! everything else builds strings from `&str`.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::acks::AckToken;

/// Where a batch's lines come from: one file, known by its fingerprint.
#[derive(Debug)]
pub struct Origin {
    /// The source component that read the file.
    pub source: Arc<str>,
    /// The file's path when it was opened (a renamed file keeps its first path here).
    pub path: Bytes,
    /// The file's identity (fingerprint), stable across renames and restarts.
    pub file_id: u64,
}

/// A line inside a [`Lines`] buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSpan {
    /// Byte offset of the line's first byte in the file.
    pub offset: u64,
    /// Start of the line inside the batch buffer.
    pub start: u32,
    /// End (exclusive) of the line inside the batch buffer, newline and `\r` removed.
    pub end: u32,
    /// The line was longer than `max_line_bytes` and was cut there.
    pub truncated: bool,
}

/// A batch buffer whose reference counter sits alone in its cache line.
///
/// Parsers keep values as slices of the buffer, so the counter changes on every value made and
/// dropped. Left to `Bytes::from(Vec)`, the counter is a small allocation made wherever the
/// first slice is taken, next to whatever that thread allocates: writes to the neighbours then
/// evict the line and each count waits for it (profiled: the top cost of the JSON bench). Owned
/// this way, the counter shares its line only with the owner's aligned padding.
#[repr(align(128))]
struct LineBuffer(Vec<u8>);

impl AsRef<[u8]> for LineBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Wraps a buffer for sharing among the many values sliced or cloned from it (a batch's lines,
/// the file path its events carry), with its reference counter alone in a cache line.
pub fn shared_buffer(buf: Vec<u8>) -> Bytes {
    Bytes::from_owner(LineBuffer(buf))
}

/// Complete lines of one file, sharing one buffer.
#[derive(Debug, Clone, Default)]
pub struct Lines {
    /// The buffer; valid UTF-8 in every span.
    pub buf: Bytes,
    /// The lines, in file order.
    pub spans: Vec<LineSpan>,
}

impl Lines {
    /// The bytes of one line, without its newline.
    pub fn line(&self, span: &LineSpan) -> &[u8] {
        &self.buf[span.start as usize..span.end as usize]
    }

    /// One line as a shared slice of the buffer (no copy).
    pub fn line_bytes(&self, span: &LineSpan) -> Bytes {
        self.buf.slice(span.start as usize..span.end as usize)
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there is no line.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// A value inside an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A UTF-8 string (invariant: valid UTF-8).
    Str(Bytes),
    Timestamp(DateTime<Utc>),
    Array(Vec<Value>),
    Object(Fields),
}

impl Value {
    /// A string value from static text.
    pub fn from_static(s: &'static str) -> Value {
        Value::Str(Bytes::from_static(s.as_bytes()))
    }

    /// A string value from owned text.
    pub fn from_string(s: String) -> Value {
        Value::Str(Bytes::from(s))
    }

    /// The string, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            // Invariant: `Str` holds valid UTF-8, so this never fails in practice.
            Value::Str(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The object, when this is an object.
    pub fn as_object(&self) -> Option<&Fields> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::from_string(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

/// An ordered map of fields. Events have few fields, so a vector with linear lookup beats a hash
/// map, and it keeps the order in which fields were added (what users see in the output).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    entries: Vec<(Bytes, Value)>,
}

impl Fields {
    /// An empty map with room for `n` fields.
    pub fn with_capacity(n: usize) -> Fields {
        Fields {
            entries: Vec::with_capacity(n),
        }
    }

    /// Looks up a top-level key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_ref() == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// Looks up a top-level key, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_ref() == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// Sets a top-level key, replacing its value if it exists (in place, keeping its position).
    pub fn insert(&mut self, key: Bytes, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Appends a key known to be absent (parsers filling a fresh event); skips the lookup.
    pub fn push_unchecked(&mut self, key: Bytes, value: Value) {
        self.entries.push((key, value));
    }

    /// Removes a top-level key and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let pos = self
            .entries
            .iter()
            .position(|(k, _)| k.as_ref() == key.as_bytes())?;
        Some(self.entries.remove(pos).1)
    }

    /// Iterates over keys and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Number of top-level fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no field.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Looks up a dotted path (`kubernetes.pod_name`) through nested objects.
    pub fn get_path(&self, path: &FieldPath) -> Option<&Value> {
        let (last, parents) = path.segments.split_last()?;
        let mut cur = self;
        for seg in parents {
            cur = cur.get(seg)?.as_object()?;
        }
        cur.get(last)
    }

    /// Sets a dotted path, creating (or replacing non-object values with) objects on the way.
    pub fn insert_path(&mut self, path: &FieldPath, value: Value) {
        let (Some((_, parents)), Some(last_key)) = (path.segments.split_last(), path.keys.last())
        else {
            return;
        };
        let mut cur = self;
        for (seg, key) in parents.iter().zip(&path.keys) {
            if !matches!(cur.get(seg), Some(Value::Object(_))) {
                cur.insert(key.clone(), Value::Object(Fields::default()));
            }
            cur = match cur.get_mut(seg) {
                Some(Value::Object(o)) => o,
                // Just inserted or checked above: the slot holds an object.
                _ => return,
            };
        }
        cur.insert(last_key.clone(), value);
    }

    /// Removes a dotted path and returns its value.
    pub fn remove_path(&mut self, path: &FieldPath) -> Option<Value> {
        let (last, parents) = path.segments.split_last()?;
        let mut cur = self;
        for seg in parents {
            cur = match cur.get_mut(seg)? {
                Value::Object(o) => o,
                _ => return None,
            };
        }
        cur.remove(last)
    }
}

impl IntoIterator for Fields {
    type Item = (Bytes, Value);
    type IntoIter = std::vec::IntoIter<(Bytes, Value)>;

    /// Consumes the map, yielding keys and values in order (merging without cloning).
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<(Bytes, Value)> for Fields {
    fn from_iter<I: IntoIterator<Item = (Bytes, Value)>>(iter: I) -> Fields {
        Fields {
            entries: iter.into_iter().collect(),
        }
    }
}

/// A dotted path into nested objects, parsed once at config load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<String>,
    /// The segments as keys, made once (pooled: see [`crate::intern`]) so that inserting costs
    /// neither an allocation nor a shared reference count.
    keys: Vec<Bytes>,
}

impl FieldPath {
    /// Parses `a.b.c`. A path must have no empty segment.
    pub fn parse(path: &str) -> Result<FieldPath, String> {
        if path.is_empty() {
            return Err("a field path cannot be empty".into());
        }
        let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
        if segments.iter().any(String::is_empty) {
            return Err(format!("field path `{path}` has an empty segment"));
        }
        let keys = segments
            .iter()
            .map(|s| crate::intern::key_bytes(s))
            .collect();
        Ok(FieldPath { segments, keys })
    }

    /// The path's segments.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// True for a path of one segment (a top-level key).
    pub fn is_top_level(&self) -> bool {
        self.segments.len() == 1
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

/// A structured log event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event's fields (`message`, `file`, parsed fields...).
    pub fields: Fields,
    /// The event's own time, once a parser found it; `None` means "the time it was read"
    /// ([`Batch::read_at`]).
    pub timestamp: Option<DateTime<Utc>>,
    /// Byte offset in the source file of the event's first line (for deterministic ids).
    pub offset: u64,
}

impl Event {
    /// An event with a `message` field and nothing else.
    pub fn from_message(message: Bytes, offset: u64) -> Event {
        let mut fields = Fields::with_capacity(4);
        fields.push_unchecked(Bytes::from_static(b"message"), Value::Str(message));
        Event {
            fields,
            timestamp: None,
            offset,
        }
    }
}

/// What a batch carries.
#[derive(Debug, Clone)]
pub enum Payload {
    /// Raw lines straight from a file.
    Lines(Lines),
    /// Structured events.
    Events(Vec<Event>),
    /// Events already turned into the bytes of the one sink that consumes them (see
    /// [`crate::sinks::BatchEncoder`]). Only that sink ever receives this payload: the topology
    /// encodes ahead of a sink only when the sink is the batch's sole consumer.
    Encoded(Encoded),
}

/// The output of a [`crate::sinks::BatchEncoder`]: bytes ready to be written.
#[derive(Debug, Clone, Default)]
pub struct Encoded {
    /// The encoded events.
    pub bytes: Bytes,
    /// How many events they hold (for counting).
    pub events: usize,
}

/// The unit of transport and acknowledgement between components.
#[derive(Debug)]
pub struct Batch {
    /// The file the batch comes from, when it comes from one.
    pub origin: Option<Arc<Origin>>,
    /// When the batch was read; the timestamp of events that have none of their own.
    pub read_at: DateTime<Utc>,
    /// The lines or events.
    pub payload: Payload,
    /// The key under which raw lines carry their file path (`None`: no path field).
    pub file_key: Option<Bytes>,
    /// Set on the last batch of a file that was closed (rotated away, deleted, or drained):
    /// transforms holding state per file (multiline, CRI partial lines) flush it.
    pub end_of_file: bool,
    /// Acknowledgement handles; confirmed by the sink once the batch is delivered.
    pub acks: Vec<AckToken>,
}

impl Batch {
    /// A batch of structured events with no origin (tests, generated events).
    pub fn from_events(events: Vec<Event>) -> Batch {
        Batch {
            origin: None,
            read_at: Utc::now(),
            payload: Payload::Events(events),
            file_key: None,
            end_of_file: false,
            acks: Vec::new(),
        }
    }

    /// Number of events or lines.
    pub fn len(&self) -> usize {
        match &self.payload {
            Payload::Lines(l) => l.len(),
            Payload::Events(e) => e.len(),
            Payload::Encoded(e) => e.events,
        }
    }

    /// True when the batch holds no event (it may still carry acknowledgements or an end of file).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Turns raw lines into events (a `message` field, plus the file path when configured) and
    /// returns them. Events are returned as they are.
    pub fn take_events(&mut self) -> Vec<Event> {
        let payload = std::mem::replace(&mut self.payload, Payload::Events(Vec::new()));
        match payload {
            Payload::Events(events) => events,
            Payload::Lines(lines) => self.lines_to_events(&lines),
            // Invariant: encoded batches go only to the sink that encoded them (the topology
            // adds an encoder only ahead of a sole consumer that is a sink), never to a transform.
            Payload::Encoded(_) => unreachable!("an encoded batch reached a transform"),
        }
    }

    /// Makes the payload structured in place and returns a mutable view of the events.
    pub fn events_mut(&mut self) -> &mut Vec<Event> {
        if let Payload::Lines(_) = self.payload {
            let events = self.take_events();
            self.payload = Payload::Events(events);
        }
        match &mut self.payload {
            Payload::Events(e) => e,
            // Converted just above (and `take_events` never leaves an encoded payload).
            Payload::Lines(_) | Payload::Encoded(_) => {
                unreachable!("payload converted to events above")
            }
        }
    }

    /// The file path to put in this batch's events: a copy per batch. Every event holds a
    /// reference to it; counting references on a batch-local copy keeps the threads that build
    /// and drop events of different batches off one shared counter (profiled: a contended
    /// counter was among the top costs of the regex bench).
    pub fn path_for_events(&self) -> Option<Bytes> {
        self.origin.as_ref().map(|o| shared_buffer(o.path.to_vec()))
    }

    fn lines_to_events(&self, lines: &Lines) -> Vec<Event> {
        let path = self.path_for_events();
        lines
            .spans
            .iter()
            .map(|span| {
                let mut ev = Event::from_message(lines.line_bytes(span), span.offset);
                self.add_line_fields(&mut ev.fields, span, path.as_ref());
                ev
            })
            .collect()
    }

    /// Adds the fields a raw line carries besides its message: the file path and the truncation
    /// mark. Parsers that build events from lines call it so that every event looks the same.
    pub fn add_line_fields(&self, fields: &mut Fields, span: &LineSpan, path: Option<&Bytes>) {
        if let (Some(key), Some(path)) = (&self.file_key, path) {
            fields.push_unchecked(key.clone(), Value::Str(path.clone()));
        }
        if span.truncated {
            fields.push_unchecked(
                Bytes::from_static(TRUNCATED_KEY.as_bytes()),
                Value::Bool(true),
            );
        }
    }

    /// A copy for a second consumer (fan-out), with its own acknowledgement handles.
    pub fn clone_for_fanout(&self) -> Batch {
        Batch {
            origin: self.origin.clone(),
            read_at: self.read_at,
            payload: self.payload.clone(),
            file_key: self.file_key.clone(),
            end_of_file: self.end_of_file,
            acks: self.acks.iter().map(AckToken::share).collect(),
        }
    }

    /// Confirms delivery of everything in this batch.
    pub fn confirm(self) {
        for ack in self.acks {
            ack.confirm();
        }
    }
}

/// The field set to `true` on a line cut at `max_line_bytes`.
pub const TRUNCATED_KEY: &str = "_skiff_truncated";
/// The field that carries a parse error on an event kept despite it.
pub const ERROR_KEY: &str = "_skiff_error";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_create_nested_objects() {
        let mut f = Fields::default();
        let p = FieldPath::parse("kubernetes.pod_name").unwrap();
        f.insert_path(&p, Value::from("web-1"));
        assert_eq!(f.get_path(&p), Some(&Value::from("web-1")));
        let ns = FieldPath::parse("kubernetes.namespace").unwrap();
        f.insert_path(&ns, Value::from("prod"));
        assert_eq!(f.len(), 1, "both keys live under one object");
        assert_eq!(f.remove_path(&p), Some(Value::from("web-1")));
        assert_eq!(f.get_path(&p), None);
        assert_eq!(f.get_path(&ns), Some(&Value::from("prod")));
    }

    #[test]
    fn path_replaces_scalar_parent() {
        let mut f = Fields::default();
        f.insert(Bytes::from_static(b"a"), Value::Int(1));
        let p = FieldPath::parse("a.b").unwrap();
        f.insert_path(&p, Value::Int(2));
        assert_eq!(f.get_path(&p), Some(&Value::Int(2)));
    }

    #[test]
    fn bad_paths_are_rejected() {
        assert!(FieldPath::parse("").is_err());
        assert!(FieldPath::parse("a..b").is_err());
        assert!(FieldPath::parse(".a").is_err());
    }

    #[test]
    fn lines_become_events_with_path() {
        let lines = Lines {
            buf: Bytes::from_static(b"one\ntwo\n"),
            spans: vec![
                LineSpan {
                    offset: 10,
                    start: 0,
                    end: 3,
                    truncated: false,
                },
                LineSpan {
                    offset: 14,
                    start: 4,
                    end: 7,
                    truncated: true,
                },
            ],
        };
        let mut batch = Batch::from_events(vec![]);
        batch.payload = Payload::Lines(lines);
        batch.file_key = Some(Bytes::from_static(b"file"));
        batch.origin = Some(Arc::new(Origin {
            source: "s".into(),
            path: Bytes::from_static(b"/x.log"),
            file_id: 1,
        }));
        let events = batch.take_events();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].fields.get("message"), Some(&Value::from("one")));
        assert_eq!(events[0].fields.get("file"), Some(&Value::from("/x.log")));
        assert_eq!(events[1].offset, 14);
        assert_eq!(
            events[1].fields.get(TRUNCATED_KEY),
            Some(&Value::Bool(true))
        );
    }
}
