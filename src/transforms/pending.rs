//! An event assembled from several lines of one file, held across batches: CRI and docker
//! partial lines, multiline messages.
//!
//! Acknowledgements stay exact: while an event is pending, it holds a [share](AckToken::share) of
//! the token of every batch that gave it a line, so no such batch counts as delivered (and no
//! checkpoint moves past the event's first line) until the batch carrying the finished event is
//! confirmed by the sinks. The batches themselves travel on as usual with the events they
//! completed.

use std::sync::Arc;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use chrono::{DateTime, Utc};

use crate::acks::AckToken;
use crate::event::{Batch, Event, FieldPath, Origin, Payload, Value, TRUNCATED_KEY};

/// What a batch made from held events needs besides them: where its lines came from.
#[derive(Debug, Clone)]
pub struct BatchMeta {
    origin: Option<Arc<Origin>>,
    read_at: DateTime<Utc>,
    file_key: Option<Bytes>,
}

impl BatchMeta {
    /// The metadata of `batch`.
    pub fn of(batch: &Batch) -> BatchMeta {
        BatchMeta {
            origin: batch.origin.clone(),
            read_at: batch.read_at,
            file_key: batch.file_key.clone(),
        }
    }

    /// A batch of `events` with this metadata, carrying `acks`.
    pub fn batch(&self, events: Vec<Event>, acks: Vec<AckToken>) -> Batch {
        Batch {
            origin: self.origin.clone(),
            read_at: self.read_at,
            payload: Payload::Events(events),
            file_key: self.file_key.clone(),
            end_of_file: false,
            acks,
        }
    }
}

/// The text of a pending event: one piece (as it came, not copied) or several joined.
#[derive(Debug)]
enum Text {
    One(Bytes),
    Joined(BytesMut),
}

/// An event being assembled.
#[derive(Debug)]
pub struct Pending {
    event: Event,
    text: Text,
    /// Lines joined so far.
    pub lines: usize,
    /// A piece was cut to respect the size limit.
    pub truncated: bool,
    acks: Vec<AckToken>,
    touched: bool,
    /// When the last piece arrived (set by the caller once per batch).
    pub updated: Option<Instant>,
    meta: BatchMeta,
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn cut(s: &[u8], max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut end = max;
    while end > 0 && (s[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    end
}

impl Pending {
    /// Starts from `event` whose text is `text`, cut to `max_bytes`.
    pub fn new(event: Event, text: Bytes, max_bytes: usize, meta: BatchMeta) -> Pending {
        let keep = cut(&text, max_bytes);
        Pending {
            event,
            truncated: keep < text.len(),
            text: Text::One(text.slice(..keep)),
            lines: 1,
            acks: Vec::new(),
            touched: true,
            updated: None,
            meta,
        }
    }

    /// Bytes of text so far.
    pub fn len(&self) -> usize {
        match &self.text {
            Text::One(b) => b.len(),
            Text::Joined(b) => b.len(),
        }
    }

    /// True when the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `sep` and `piece`, cutting what would pass `max_bytes`.
    pub fn append(&mut self, sep: &[u8], piece: &[u8], max_bytes: usize) {
        self.lines += 1;
        self.touched = true;
        let room = max_bytes.saturating_sub(self.len());
        if room < sep.len() + piece.len() {
            self.truncated = true;
        }
        if room < sep.len() {
            return;
        }
        let piece = &piece[..cut(piece, room - sep.len())];
        if let Text::One(first) = &self.text {
            let mut b = BytesMut::with_capacity((first.len() + sep.len() + piece.len()) * 2);
            b.put_slice(first);
            self.text = Text::Joined(b);
        }
        if let Text::Joined(b) = &mut self.text {
            b.put_slice(sep);
            b.put_slice(piece);
        }
    }

    /// At the end of a batch: holds a share of the batch's tokens if it gave this event a line,
    /// and says whether it did.
    pub fn hold_acks_of(&mut self, batch: &Batch) -> bool {
        let touched = std::mem::take(&mut self.touched);
        if touched {
            self.acks.extend(batch.acks.iter().map(AckToken::share));
        }
        touched
    }

    /// The finished event, its text written to `field`, and the shares it holds.
    pub fn finish(self, field: &FieldPath) -> (Event, Vec<AckToken>, BatchMeta) {
        let mut event = self.event;
        let text = match self.text {
            Text::One(b) => b,
            Text::Joined(b) => b.freeze(),
        };
        event.fields.insert_path(field, Value::Str(text));
        if self.truncated {
            event.fields.insert(
                Bytes::from_static(TRUNCATED_KEY.as_bytes()),
                Value::Bool(true),
            );
        }
        (event, self.acks, self.meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acks::{AckResult, AckSink};
    use crate::transforms::testing::events_batch;

    #[test]
    fn cuts_on_character_boundaries() {
        assert_eq!(cut("abc".as_bytes(), 5), 3);
        assert_eq!(cut("aé".as_bytes(), 2), 1);
        assert_eq!(cut("aé".as_bytes(), 3), 3);
        assert_eq!(cut("é".as_bytes(), 1), 0);
    }

    #[test]
    fn joins_and_truncates() {
        let msg = FieldPath::parse("message").unwrap();
        let meta = BatchMeta::of(&events_batch(vec![]));
        let ev = Event::from_message(Bytes::from_static(b"first"), 7);
        let mut p = Pending::new(ev, Bytes::from_static(b"first"), 12, meta);
        p.append(b"\n", b"second", 12);
        assert_eq!(p.len(), 12);
        assert!(!p.truncated);
        p.append(b"\n", b"third", 12);
        assert!(p.truncated);
        let (ev, _, _) = p.finish(&msg);
        assert_eq!(
            ev.fields.get("message"),
            Some(&Value::from("first\nsecond"))
        );
        assert_eq!(ev.fields.get(TRUNCATED_KEY), Some(&Value::Bool(true)));
        assert_eq!(ev.offset, 7);
    }

    #[test]
    fn holds_shares_only_of_batches_it_spans() {
        let (tx, rx) = std::sync::mpsc::channel::<AckResult>();
        let tx = std::sync::Mutex::new(tx);
        let sink: AckSink = Arc::new(move |r| {
            let _ = tx.lock().unwrap().send(r);
        });
        let mut b1 = events_batch(vec![]);
        b1.acks.push(AckToken::new(&sink, 1, 0, 10));
        let ev = Event::from_message(Bytes::from_static(b"x"), 0);
        let mut p = Pending::new(ev, Bytes::from_static(b"x"), 100, BatchMeta::of(&b1));
        p.hold_acks_of(&b1);
        let mut b2 = events_batch(vec![]);
        b2.acks.push(AckToken::new(&sink, 1, 1, 20));
        p.hold_acks_of(&b2);
        b1.confirm();
        b2.confirm();
        let r = rx.try_recv().unwrap();
        assert_eq!(
            r.seq, 1,
            "the second batch gave no line: it is resolved at once"
        );
        assert!(
            rx.try_recv().is_err(),
            "the first batch waits for the held event"
        );
        let (_, acks, _) = p.finish(&FieldPath::parse("message").unwrap());
        for a in acks {
            a.confirm();
        }
        let r = rx.try_recv().unwrap();
        assert_eq!((r.seq, r.delivered), (0, true));
    }
}
