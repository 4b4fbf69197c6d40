//! Encodes a parallel stage's output for the sink that consumes it, on the stage's own workers.
//!
//! When a stateless stage (one transform or a fused chain) feeds exactly one component and that
//! component is a sink with a [`BatchEncoder`], each worker encodes the batches it produced
//! right away: the sink receives [`Payload::Encoded`] bytes and only writes them. Encoding then
//! runs on every core instead of the sink's one thread, and events are freed by the thread that
//! built them, while still in its cache. Acknowledgements travel with the encoded batch as they
//! did with the events, so nothing is confirmed before the sink delivered it.

use crate::event::{Batch, Encoded, Payload};
use crate::sinks::BatchEncoder;
use crate::transforms::Transform;

/// A transform followed by its consumer's encoder.
pub struct Encode {
    inner: Box<dyn Transform>,
    encoder: Box<dyn BatchEncoder>,
    produced: Vec<Batch>,
    /// Size of the last encoding, to size the next buffer in one allocation.
    last_len: usize,
}

impl Encode {
    /// Runs `inner`, then encodes what it produced with `encoder`.
    pub fn new(inner: Box<dyn Transform>, encoder: Box<dyn BatchEncoder>) -> Encode {
        Encode {
            inner,
            encoder,
            produced: Vec::new(),
            last_len: 0,
        }
    }

    fn encode_into(&mut self, out: &mut Vec<Batch>) {
        for mut batch in self.produced.drain(..) {
            if matches!(batch.payload, Payload::Encoded(_)) || batch.is_empty() {
                out.push(batch);
                continue;
            }
            let events = batch.len();
            let mut bytes = Vec::with_capacity(self.last_len + self.last_len / 8);
            self.encoder.encode(&batch, &mut bytes);
            self.last_len = bytes.len();
            // The events are dropped here, on the thread that built them.
            batch.payload = Payload::Encoded(Encoded {
                bytes: bytes.into(),
                events,
            });
            out.push(batch);
        }
    }
}

impl Transform for Encode {
    fn transform(&mut self, batch: Batch, out: &mut Vec<Batch>) {
        self.inner.transform(batch, &mut self.produced);
        self.encode_into(out);
    }

    fn tick_interval(&self) -> Option<std::time::Duration> {
        self.inner.tick_interval()
    }

    fn tick(&mut self, out: &mut Vec<Batch>) {
        self.inner.tick(&mut self.produced);
        self.encode_into(out);
    }

    fn finish(&mut self, out: &mut Vec<Batch>) {
        self.inner.finish(&mut self.produced);
        self.encode_into(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acks::{AckResult, AckSink, AckToken};
    use crate::event::Event;
    use bytes::Bytes;

    /// Passes batches through, dropping events whose message is `drop`.
    struct DropSome;

    impl Transform for DropSome {
        fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
            batch
                .events_mut()
                .retain(|e| e.fields.get("message").and_then(|v| v.as_str()) != Some("drop"));
            out.push(batch);
        }
    }

    /// Writes each message and a newline.
    struct Messages;

    impl BatchEncoder for Messages {
        fn encode(&mut self, batch: &Batch, out: &mut Vec<u8>) {
            if let Payload::Events(events) = &batch.payload {
                for e in events {
                    out.extend_from_slice(
                        e.fields
                            .get("message")
                            .and_then(|v| v.as_str())
                            .unwrap_or("?")
                            .as_bytes(),
                    );
                    out.push(b'\n');
                }
            }
        }
    }

    #[test]
    fn encodes_after_the_transform_and_keeps_acks_and_counts() {
        let results = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink: AckSink = {
            let results = results.clone();
            std::sync::Arc::new(move |r: AckResult| results.lock().unwrap().push(r.delivered))
        };
        let token = AckToken::new(&sink, 1, 0, 10);
        let mut batch = Batch::from_events(
            ["a", "drop", "b"]
                .iter()
                .map(|m| Event::from_message(Bytes::from_static(m.as_bytes()), 0))
                .collect(),
        );
        batch.acks.push(token);
        let mut e = Encode::new(Box::new(DropSome), Box::new(Messages));
        let mut out = Vec::new();
        e.transform(batch, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), 2);
        match &out[0].payload {
            Payload::Encoded(enc) => assert_eq!(&enc.bytes[..], b"a\nb\n"),
            other => panic!("not encoded: {other:?}"),
        }
        assert_eq!(out[0].acks.len(), 1);
        assert!(results.lock().unwrap().is_empty());
        out.pop().unwrap().confirm();
        assert_eq!(*results.lock().unwrap(), [true]);
    }
}
