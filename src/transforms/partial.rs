//! What the container log parsers (`parse_cri`, `parse_docker`) share: their options, and the
//! transform that joins a long line the runtime split into pieces.
//!
//! Container runtimes cut long lines: CRI marks the pieces `P` (partial) up to the last one `F`
//! (full); docker's json-file leaves the trailing `\n` off every piece but the last. Pieces are
//! joined per file and per stream (stdout and stderr pieces may interleave) into one event with
//! the first piece's offset, time and fields, up to `max_bytes` (the rest is cut and the event
//! marked `_skiff_truncated`). The joined event leaves with the batch that completes it, carrying
//! the acknowledgement shares of the batches it spans ([`super::pending`]); a file's end flushes
//! what it left unfinished.

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::on_error::{ErrorReport, OnError, Problem, Reason};
use super::parser::reason_bytes;
use super::pending::{BatchMeta, Pending};
use super::Transform;
use crate::config::{ByteSize, FieldError};
use crate::event::{Batch, Event, FieldPath, Fields, Payload, Value, ERROR_KEY, TRUNCATED_KEY};

/// `parse_cri` and `parse_docker` options, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContainerConfig {
    /// Field holding the runtime's line (default `message`).
    #[serde(default = "default_field")]
    field: String,
    /// `keep` (default) or `drop` lines that are not in the runtime's format.
    #[serde(default)]
    on_error: OnError,
    /// Largest joined message; longer ones are cut and marked `_skiff_truncated` (default 1MiB).
    #[serde(default = "default_max_bytes")]
    max_bytes: ByteSize,
}

fn default_field() -> String {
    "message".into()
}

fn default_max_bytes() -> ByteSize {
    ByteSize(1 << 20)
}

/// The path of the `message` field.
fn message_path() -> FieldPath {
    // A constant, valid path: parsing cannot fail.
    FieldPath::parse("message").unwrap_or_else(|_| unreachable!("`message` is a valid path"))
}

/// `parse_cri` and `parse_docker` options, checked.
#[derive(Debug, Clone)]
pub struct ContainerConfig {
    field: FieldPath,
    on_error: OnError,
    max_bytes: usize,
}

impl ContainerConfig {
    /// Parses and checks the table.
    pub fn parse(table: toml::Table) -> Result<ContainerConfig, FieldError> {
        let c: RawContainerConfig = crate::config::parse_table(table)?;
        let field = FieldPath::parse(&c.field).map_err(|e| FieldError::new(&["field"], e))?;
        if c.max_bytes.0 == 0 {
            return Err(FieldError::new(&["max_bytes"], "must be at least 1 byte"));
        }
        Ok(ContainerConfig {
            field,
            on_error: c.on_error,
            max_bytes: c.max_bytes.as_usize(),
        })
    }
}

/// One line of a container runtime, parsed.
#[derive(Debug)]
pub struct Piece {
    /// The application's text (without the runtime's newline).
    pub message: Bytes,
    /// `stdout` or `stderr`.
    pub stream: Bytes,
    /// More pieces of the same line follow.
    pub partial: bool,
    /// The runtime's time for the line.
    pub timestamp: Option<DateTime<Utc>>,
    /// Other fields the runtime wrote (docker `attrs`).
    pub extra: Fields,
    /// The time did not parse.
    pub problem: Option<Reason>,
    /// Pieces join only pieces of their group (the format that read them, when a transform
    /// reads several).
    pub group: u8,
}

/// Reads one runtime line.
pub trait PieceParser: Send + 'static {
    /// Parses a line, or says why it is not in the format.
    fn parse(&mut self, input: &Bytes) -> Result<Piece, Reason>;
}

/// Joins pieces parsed by `P`.
pub struct JoinTransform<P> {
    parser: P,
    field: FieldPath,
    /// Where the joined text goes (`message`, or Fluent Bit's `log`), as a path and a key.
    message: FieldPath,
    content_key: Bytes,
    on_error: OnError,
    max_bytes: usize,
    /// Unfinished lines per (file, format group, stream).
    pending: HashMap<(Option<u64>, u8, Bytes), Pending>,
    report: ErrorReport,
}

impl<P: PieceParser> JoinTransform<P> {
    /// A transform named `name`.
    pub fn new(name: &str, parser: P, config: &ContainerConfig) -> JoinTransform<P> {
        JoinTransform {
            parser,
            field: config.field.clone(),
            message: message_path(),
            content_key: Bytes::from_static(b"message"),
            on_error: config.on_error,
            max_bytes: config.max_bytes,
            pending: HashMap::new(),
            report: ErrorReport::new(name),
        }
    }

    /// Puts the text in top-level field `key` instead of `message` (lines that are not in the
    /// runtime's format too).
    pub fn with_content_key(mut self, key: &'static str) -> JoinTransform<P> {
        if let Ok(path) = FieldPath::parse(key) {
            self.message = path;
            self.content_key = Bytes::from_static(key.as_bytes());
        }
        self
    }

    /// An event holding a line that is not in the runtime's format.
    fn raw_event(&self, line: Bytes, offset: u64) -> Event {
        let mut ev = Event::from_message(line, offset);
        if self.content_key != "message" {
            if let Some(text) = ev.fields.remove("message") {
                ev.fields.push_unchecked(self.content_key.clone(), text);
            }
        }
        ev
    }

    /// Fills `fields` from a piece; the message goes first, then stream and extras.
    fn fill(&mut self, fields: &mut Fields, piece: &mut Piece) {
        fields.insert(self.content_key.clone(), Value::Str(piece.message.clone()));
        fields.insert(
            Bytes::from_static(b"stream"),
            Value::Str(piece.stream.clone()),
        );
        for (k, v) in std::mem::take(&mut piece.extra) {
            fields.insert(k, v);
        }
        if let Some(reason) = piece.problem.take() {
            self.report.record(Problem::KeptTimestamp, &reason);
            fields.insert(error_key(), Value::Str(reason_bytes(reason)));
        }
    }

    /// Holds, joins or passes on an event made from `piece`.
    fn place(
        &mut self,
        file: Option<u64>,
        piece: Piece,
        ev: Event,
        meta: &BatchMeta,
        out: &mut Output,
    ) {
        let key = (file, piece.group, piece.stream);
        if piece.partial {
            match self.pending.get_mut(&key) {
                Some(p) => p.append(b"", &piece.message, self.max_bytes),
                None => {
                    let p = Pending::new(ev, piece.message, self.max_bytes, meta.clone());
                    self.pending.insert(key, p);
                }
            }
            return;
        }
        let held = if self.pending.is_empty() {
            None
        } else {
            self.pending.remove(&key)
        };
        match held {
            Some(mut p) => {
                p.append(b"", &piece.message, self.max_bytes);
                if ev.fields.get(TRUNCATED_KEY).is_some() {
                    p.truncated = true;
                }
                let (ev, acks, _) = p.finish(&self.message);
                out.events.push(ev);
                out.acks.extend(acks);
            }
            None => out.events.push(ev),
        }
    }

    /// Applies `on_error` to an event that is not a runtime line; false drops it.
    fn fail(&mut self, ev: &mut Event, reason: Reason) -> bool {
        match self.on_error {
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

    fn lines(
        &mut self,
        batch: &Batch,
        lines: &crate::event::Lines,
        meta: &BatchMeta,
        out: &mut Output,
    ) {
        let file = batch.origin.as_ref().map(|o| o.file_id);
        let path = batch.path_for_events();
        for span in &lines.spans {
            let line = lines.line_bytes(span);
            match self.parser.parse(&line) {
                Ok(mut piece) => {
                    let mut fields = Fields::with_capacity(4 + piece.extra.len());
                    self.fill(&mut fields, &mut piece);
                    batch.add_line_fields(&mut fields, span, path.as_ref());
                    let ev = Event {
                        fields,
                        timestamp: piece.timestamp,
                        offset: span.offset,
                    };
                    self.place(file, piece, ev, meta, out);
                }
                Err(reason) => {
                    let mut ev = self.raw_event(line, span.offset);
                    batch.add_line_fields(&mut ev.fields, span, path.as_ref());
                    if self.fail(&mut ev, reason) {
                        out.events.push(ev);
                    }
                }
            }
        }
    }

    fn events(
        &mut self,
        file: Option<u64>,
        events: Vec<Event>,
        meta: &BatchMeta,
        out: &mut Output,
    ) {
        for mut ev in events {
            let input = match ev.fields.get_path(&self.field) {
                Some(Value::Str(b)) => b.clone(),
                other => {
                    let reason = if other.is_some() {
                        "source field is not a string"
                    } else {
                        "source field is missing"
                    };
                    if self.fail(&mut ev, Reason::Borrowed(reason)) {
                        out.events.push(ev);
                    }
                    continue;
                }
            };
            match self.parser.parse(&input) {
                Ok(mut piece) => {
                    if self.field.segments() != self.message.segments() {
                        ev.fields.remove_path(&self.field);
                    }
                    self.fill(&mut ev.fields, &mut piece);
                    ev.timestamp = piece.timestamp.or(ev.timestamp);
                    self.place(file, piece, ev, meta, out);
                }
                Err(reason) => {
                    if self.fail(&mut ev, reason) {
                        out.events.push(ev);
                    }
                }
            }
        }
    }
}

/// Events and extra acknowledgement shares produced from one batch.
#[derive(Default)]
struct Output {
    events: Vec<Event>,
    acks: Vec<crate::acks::AckToken>,
}

fn error_key() -> Bytes {
    Bytes::from_static(ERROR_KEY.as_bytes())
}

impl<P: PieceParser> Transform for JoinTransform<P> {
    fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
        let file = batch.origin.as_ref().map(|o| o.file_id);
        let meta = BatchMeta::of(&batch);
        let mut output = Output {
            events: Vec::with_capacity(batch.len()),
            acks: Vec::new(),
        };
        match std::mem::replace(&mut batch.payload, Payload::Events(Vec::new())) {
            Payload::Lines(lines) => self.lines(&batch, &lines, &meta, &mut output),
            Payload::Events(events) => self.events(file, events, &meta, &mut output),
            // Invariant: encoded batches only ever reach the sink that encoded them.
            Payload::Encoded(_) => unreachable!("an encoded batch reached a transform"),
        }
        for ((f, _, _), p) in self.pending.iter_mut() {
            if *f == file {
                p.hold_acks_of(&batch);
            }
        }
        if batch.end_of_file {
            let mut keys: Vec<_> = self
                .pending
                .keys()
                .filter(|k| k.0 == file)
                .cloned()
                .collect();
            keys.sort();
            for key in keys {
                if let Some(p) = self.pending.remove(&key) {
                    let (ev, acks, _) = p.finish(&self.message);
                    output.events.push(ev);
                    output.acks.extend(acks);
                }
            }
        }
        batch.payload = Payload::Events(output.events);
        batch.acks.extend(output.acks);
        self.report.flush();
        out.push(batch);
    }

    fn finish(&mut self, out: &mut Vec<Batch>) {
        let mut keys: Vec<_> = self.pending.keys().cloned().collect();
        keys.sort();
        for key in keys {
            if let Some(p) = self.pending.remove(&key) {
                let (ev, acks, meta) = p.finish(&self.message);
                out.push(meta.batch(vec![ev], acks));
            }
        }
    }
}
