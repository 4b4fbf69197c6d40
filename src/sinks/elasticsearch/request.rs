//! Bulk bodies: the NDJSON being filled ([`BulkBuilder`]) and the frozen body of a request in
//! flight ([`Bulk`]).
//!
//! A body remembers where each document's two lines (action and source) start and end, and which
//! incoming batch each came from. That is what lets a retry resend only the documents that failed,
//! byte for byte as they were first sent (same action, same id, same source), and lets the sink
//! confirm a batch once all of its documents are settled.

use bytes::Bytes;

use super::config::Compression;
use crate::sinks::common::compress::gzip;

/// One document in a body: `body[start..source]` is its action line, `body[source..end]` its
/// source line, both with their newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRef {
    /// Start of the action line.
    pub start: usize,
    /// Start of the source line.
    pub source: usize,
    /// End of the source line (past its newline).
    pub end: usize,
    /// Sequence number of the incoming batch the document belongs to.
    pub batch: u64,
}

/// A body being filled, with the limits of one request.
#[derive(Debug)]
pub struct BulkBuilder {
    /// The NDJSON written so far.
    pub body: Vec<u8>,
    /// The documents in it.
    pub items: Vec<ItemRef>,
    max_events: usize,
    max_bytes: usize,
    /// The last document did not fit and was taken back out.
    overflow: bool,
}

impl BulkBuilder {
    /// An empty body that reuses `buf`'s allocation.
    pub fn new(mut buf: Vec<u8>, max_events: usize, max_bytes: usize) -> BulkBuilder {
        buf.clear();
        BulkBuilder {
            body: buf,
            items: Vec::with_capacity(max_events.min(8192)),
            max_events,
            max_bytes,
            overflow: false,
        }
    }

    /// True when no document can be added.
    pub fn is_full(&self) -> bool {
        self.overflow || self.items.len() >= self.max_events || self.body.len() >= self.max_bytes
    }

    /// True when the body holds no document.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Records the document just written: action line from `start`, source line from `source` to
    /// the end of the body. Returns false, and takes the document back out, when it made the body
    /// exceed `max_bytes` and others are already in (it goes first in the next request).
    pub fn commit(&mut self, start: usize, source: usize, batch: u64) -> bool {
        if self.body.len() > self.max_bytes && !self.items.is_empty() {
            self.body.truncate(start);
            self.overflow = true;
            return false;
        }
        self.items.push(ItemRef {
            start,
            source,
            end: self.body.len(),
            batch,
        });
        true
    }

    /// The finished body.
    pub fn freeze(self) -> Bulk {
        Bulk {
            body: Bytes::from(self.body),
            items: self.items,
        }
    }
}

/// The body of a request in flight.
#[derive(Debug, Clone)]
pub struct Bulk {
    body: Bytes,
    items: Vec<ItemRef>,
}

impl Bulk {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there is no document.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The whole NDJSON body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The documents.
    pub fn items(&self) -> &[ItemRef] {
        &self.items
    }

    /// Document `i`'s action line, without its newline.
    pub fn action(&self, i: usize) -> &[u8] {
        let it = &self.items[i];
        &self.body[it.start..it.source - 1]
    }

    /// Document `i`'s source, without its newline.
    pub fn source(&self, i: usize) -> &[u8] {
        let it = &self.items[i];
        &self.body[it.source..it.end - 1]
    }

    /// A new body holding documents `indices` of this one, bytes unchanged.
    pub fn subset(&self, indices: &[usize]) -> Bulk {
        let size = indices
            .iter()
            .map(|&i| self.items[i].end - self.items[i].start)
            .sum();
        let mut body = Vec::with_capacity(size);
        let mut items = Vec::with_capacity(indices.len());
        for &i in indices {
            let it = self.items[i];
            let start = body.len();
            body.extend_from_slice(&self.body[it.start..it.end]);
            items.push(ItemRef {
                start,
                source: start + (it.source - it.start),
                end: body.len(),
                batch: it.batch,
            });
        }
        Bulk {
            body: Bytes::from(body),
            items,
        }
    }

    /// Splits the body into two halves (a request too large for the server).
    pub fn split(&self) -> (Bulk, Bulk) {
        let all: Vec<usize> = (0..self.items.len()).collect();
        let (a, b) = all.split_at(all.len() / 2);
        (self.subset(a), self.subset(b))
    }

    /// How many documents each incoming batch has in this body, in order.
    pub fn batch_counts(&self) -> Vec<(u64, u64)> {
        let mut counts: Vec<(u64, u64)> = Vec::new();
        for it in &self.items {
            match counts.last_mut() {
                Some((b, n)) if *b == it.batch => *n += 1,
                _ => counts.push((it.batch, 1)),
            }
        }
        counts
    }

    /// The bytes to send: the body itself, or gzipped.
    pub fn wire(&self, compression: Compression) -> std::io::Result<Bytes> {
        match compression {
            Compression::None => Ok(self.body.clone()),
            Compression::Gzip => gzip(&self.body).map(Bytes::from),
        }
    }

    /// Gives the buffer back for reuse, when nothing else holds it.
    pub fn into_buffer(self) -> Option<Vec<u8>> {
        self.body.try_into_mut().ok().map(Vec::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn builder_with(docs: &[(&str, u64)], max_bytes: usize) -> BulkBuilder {
        let mut b = BulkBuilder::new(Vec::new(), 100, max_bytes);
        for (doc, batch) in docs {
            let start = b.body.len();
            b.body.extend_from_slice(b"{\"create\":{}}\n");
            let source = b.body.len();
            b.body.extend_from_slice(doc.as_bytes());
            b.body.push(b'\n');
            b.commit(start, source, *batch);
        }
        b
    }

    #[test]
    fn subsets_keep_bytes() {
        let bulk = builder_with(
            &[("{\"a\":1}", 0), ("{\"b\":2}", 0), ("{\"c\":3}", 1)],
            1000,
        )
        .freeze();
        assert_eq!(bulk.len(), 3);
        assert_eq!(bulk.source(1), b"{\"b\":2}");
        assert_eq!(bulk.action(2), b"{\"create\":{}}");
        let sub = bulk.subset(&[0, 2]);
        assert_eq!(
            sub.body().as_ref(),
            b"{\"create\":{}}\n{\"a\":1}\n{\"create\":{}}\n{\"c\":3}\n"
        );
        assert_eq!(sub.source(1), b"{\"c\":3}");
        assert_eq!(sub.batch_counts(), vec![(0, 1), (1, 1)]);
        assert_eq!(bulk.batch_counts(), vec![(0, 2), (1, 1)]);
        let (a, b) = bulk.split();
        assert_eq!((a.len(), b.len()), (1, 2));
    }

    #[test]
    fn a_document_that_does_not_fit_is_taken_back() {
        let b = builder_with(
            &[("{\"a\":1}", 0), ("{\"bbbbbbbbbbbbbbbbbbbbbbbb\":2}", 0)],
            30,
        );
        assert_eq!(b.len(), 1);
        assert!(b.is_full());
        assert_eq!(b.body, b"{\"create\":{}}\n{\"a\":1}\n");
        // Alone, a document larger than the limit is kept.
        let b = builder_with(&[("{\"bbbbbbbbbbbbbbbbbbbbbbbb\":2}", 0)], 30);
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn gzip_round_trips_and_buffer_comes_back() {
        let bulk = builder_with(&[("{\"a\":1}", 0)], 1000).freeze();
        let wire = bulk.wire(Compression::Gzip).unwrap();
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(wire.as_ref())
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, bulk.body().as_ref());
        drop(wire);
        assert!(bulk.into_buffer().is_some());
    }
}
