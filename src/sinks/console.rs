//! The `console` sink: events to stdout, as JSON lines or as text (the message only). The
//! adapter pattern's output: the app's logs, standardized, on the sidecar's stdout where the
//! node's log agent picks them up.
//!
//! With `text`, an event that has no `message` field (a parser moved everything into fields) is
//! written as a JSON line rather than as an empty line: nothing of it is lost, each event stays
//! one line, and a rate-limited warning says that it happened.
//!
//! Writing runs on a blocking thread: stdout may be a pipe that blocks, and a blocked write must
//! hold back the pipeline (backpressure), not a runtime worker. A batch is confirmed after its
//! bytes were written and flushed. The sink's input is received by an async task that hands
//! batches to the writer one at a time: when the drain deadline passes and the topology aborts
//! the sink, that task and the input go away at once, releasing the sources even while the writer
//! stays blocked on a pipe nobody reads.

use std::io::{ErrorKind, Write};
use std::time::Instant;

use serde::Deserialize;
use tokio::sync::mpsc;

use super::{BatchEncoder, SinkConfig, SinkContext, SinkError, SinkFuture};
use crate::codec::json::{to_text, JsonEncoder};
use crate::event::{Batch, Payload, Value};
use crate::metrics::{component, metrics};
use crate::ratelimit::RateLimitedLog;

/// `[sinks.NAME] type = "console"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// `json` (default): one JSON object per line; `text`: the message field only.
    #[serde(default)]
    pub encoding: Encoding,
    /// Key of the event timestamp in JSON output (default `timestamp`).
    #[serde(default = "default_timestamp_key")]
    pub timestamp_key: String,
    /// Write to `stdout` (default) or `stderr`.
    #[serde(default)]
    pub target: Target,
}

fn default_timestamp_key() -> String {
    "timestamp".into()
}

/// Output encoding.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Json,
    Text,
}

/// Output stream.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    #[default]
    Stdout,
    Stderr,
}

impl SinkConfig for ConsoleConfig {
    fn kind(&self) -> &'static str {
        "console"
    }

    fn build(
        &self,
        ctx: SinkContext,
        input: mpsc::Receiver<Batch>,
    ) -> Result<SinkFuture, SinkError> {
        let config = self.clone();
        Ok(Box::pin(async move {
            let (tx, rx) = mpsc::channel(1);
            let writer = tokio::task::spawn_blocking(move || write_loop(&config, &ctx, rx));
            forward(input, tx).await;
            writer
                .await
                .map_err(|e| SinkError::Other(format!("console writer failed: {e}")))?
        }))
    }

    fn encoder(&self) -> Option<Box<dyn BatchEncoder>> {
        Some(Box::new(ConsoleEncoder::new(self)))
    }
}

/// The console's encoding, runnable ahead of the sink.
struct ConsoleEncoder {
    encoding: Encoding,
    json: JsonEncoder,
    /// Events without `message` written as JSON by the `text` encoding.
    no_message: RateLimitedLog,
}

impl ConsoleEncoder {
    fn new(config: &ConsoleConfig) -> ConsoleEncoder {
        ConsoleEncoder {
            encoding: config.encoding,
            json: JsonEncoder::new(&config.timestamp_key),
            no_message: RateLimitedLog::default(),
        }
    }

    /// The `text` encoding: the message of each event or line; an event without one as JSON.
    fn write_text(&mut self, buf: &mut Vec<u8>, batch: &Batch) {
        let events = match &batch.payload {
            Payload::Encoded(e) => return buf.extend_from_slice(&e.bytes),
            Payload::Lines(lines) => {
                for span in &lines.spans {
                    buf.extend_from_slice(lines.line(span));
                    buf.push(b'\n');
                }
                return;
            }
            Payload::Events(events) => events,
        };
        let mut without = 0;
        for ev in events {
            match ev.fields.get("message") {
                Some(Value::Str(s)) => buf.extend_from_slice(s),
                Some(other) => buf.extend_from_slice(to_text(other).as_bytes()),
                None => {
                    self.json.write_event(buf, ev, batch.read_at);
                    without += 1;
                }
            }
            buf.push(b'\n');
        }
        if let Some(suppressed) = self.no_message.hit(Instant::now(), without) {
            tracing::warn!(message = "Events without a `message` field were written as JSON lines (the console's text encoding writes only the message).", events = without, similar_since_last_warning = suppressed);
        }
    }
}

impl BatchEncoder for ConsoleEncoder {
    fn encode(&mut self, batch: &Batch, out: &mut Vec<u8>) {
        match self.encoding {
            Encoding::Json => self.json.write_batch(out, batch),
            Encoding::Text => self.write_text(out, batch),
        }
    }
}

/// Passes batches to the writer thread until the input closes or the writer is gone.
async fn forward(mut input: mpsc::Receiver<Batch>, tx: mpsc::Sender<Batch>) {
    while let Some(batch) = input.recv().await {
        if tx.send(batch).await.is_err() {
            return;
        }
    }
}

fn write_loop(
    config: &ConsoleConfig,
    ctx: &SinkContext,
    mut input: mpsc::Receiver<Batch>,
) -> Result<(), SinkError> {
    let mut out: Box<dyn Write> = match config.target {
        Target::Stdout => Box::new(std::io::stdout().lock()),
        Target::Stderr => Box::new(std::io::stderr().lock()),
    };
    let mut encoder = ConsoleEncoder::new(config);
    let mut buf = Vec::new();
    let labels = component(&ctx.name);
    let m = metrics();
    while let Some(batch) = input.blocking_recv() {
        let bytes = match &batch.payload {
            Payload::Encoded(e) => &e.bytes[..],
            _ => {
                buf.clear();
                encoder.encode(&batch, &mut buf);
                &buf[..]
            }
        };
        let n = batch.len() as u64;
        m.events_in.get_or_create(&labels).inc_by(n);
        let started = Instant::now();
        if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
            return Err(if e.kind() == ErrorKind::BrokenPipe {
                SinkError::BrokenPipe
            } else {
                SinkError::Io(e)
            });
        }
        m.send_duration_seconds
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        m.events_out.get_or_create(&labels).inc_by(n);
        batch.confirm();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use bytes::Bytes;

    fn text_encoder() -> ConsoleEncoder {
        let t: toml::Table = toml::from_str("encoding = \"text\"").unwrap();
        ConsoleEncoder::new(&crate::config::parse_table::<ConsoleConfig>(t).unwrap())
    }

    #[test]
    fn text_writes_messages() {
        let mut b = Batch::from_events(vec![
            Event::from_message(Bytes::from_static(b"a"), 0),
            Event::from_message(Bytes::from_static(b"b"), 2),
        ]);
        b.events_mut()[1]
            .fields
            .insert(Bytes::from_static(b"message"), Value::Int(3));
        let mut buf = Vec::new();
        text_encoder().encode(&b, &mut buf);
        assert_eq!(buf, b"a\n3\n");
    }

    #[test]
    fn text_writes_an_event_without_message_as_json() {
        let mut b = Batch::from_events(vec![Event::from_message(Bytes::from_static(b"a"), 0)]);
        let fields = &mut b.events_mut()[0].fields;
        fields.remove_path(&crate::event::FieldPath::parse("message").unwrap());
        fields.insert(Bytes::from_static(b"level"), Value::from("INFO"));
        let mut buf = Vec::new();
        text_encoder().encode(&b, &mut buf);
        let line = String::from_utf8(buf).unwrap();
        assert!(line.ends_with(",\"level\":\"INFO\"}\n"), "{line}");
        assert!(line.starts_with("{\"timestamp\":"), "{line}");
    }

    #[test]
    fn config_rejects_unknown_encoding() {
        let t: toml::Table = toml::from_str("encoding = \"xml\"").unwrap();
        assert!(crate::config::parse_table::<ConsoleConfig>(t).is_err());
    }
}
