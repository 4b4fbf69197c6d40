//! Which incoming batches are settled: the sink's acknowledgement bookkeeping.
//!
//! Requests and batches do not line up: one bulk request may hold the end of one batch and the
//! start of the next, and a large batch may span several requests in flight at once. The ledger
//! numbers batches as they arrive, counts each batch's documents still out, and hands back the
//! acknowledgement tokens of a batch once every one of its documents is settled (indexed, already
//! there, or dead-lettered) *and* every earlier batch is too: confirmations go out in order.
//!
//! Tokens still in the ledger when the sink stops are dropped unconfirmed: the source learns that
//! those batches were not delivered and does not checkpoint past them.

use std::collections::VecDeque;

use crate::acks::AckToken;

#[derive(Debug)]
struct Entry {
    acks: Vec<AckToken>,
    /// Documents sent or being encoded, not yet settled.
    outstanding: u64,
    /// All documents of the batch were handed to requests.
    closed: bool,
}

/// The batches between arrival and confirmation.
#[derive(Debug, Default)]
pub struct Ledger {
    entries: VecDeque<Entry>,
    /// Sequence number of `entries[0]`.
    base: u64,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Registers an incoming batch's tokens; returns its sequence number.
    pub fn open(&mut self, acks: Vec<AckToken>) -> u64 {
        self.entries.push_back(Entry {
            acks,
            outstanding: 0,
            closed: false,
        });
        self.base + self.entries.len() as u64 - 1
    }

    /// `n` more documents of batch `seq` were put in a request.
    pub fn add(&mut self, seq: u64, n: u64) {
        if let Some(e) = self.entry(seq) {
            e.outstanding += n;
        }
    }

    /// Batch `seq` has no more documents to encode.
    pub fn close(&mut self, seq: u64) {
        if let Some(e) = self.entry(seq) {
            e.closed = true;
        }
    }

    /// `n` documents of batch `seq` are settled.
    pub fn settle(&mut self, seq: u64, n: u64) {
        if let Some(e) = self.entry(seq) {
            e.outstanding = e.outstanding.saturating_sub(n);
        }
    }

    /// Takes the tokens of the leading batches that are closed and fully settled.
    pub fn release(&mut self) -> Vec<AckToken> {
        let mut out = Vec::new();
        while let Some(front) = self.entries.front() {
            if !front.closed || front.outstanding > 0 {
                break;
            }
            if let Some(e) = self.entries.pop_front() {
                out.extend(e.acks);
            }
            self.base += 1;
        }
        out
    }

    /// Batches not yet confirmed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when every batch was confirmed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&mut self, seq: u64) -> Option<&mut Entry> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        self.entries.get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acks::{AckResult, AckSink};
    use std::sync::{Arc, Mutex};

    fn tokens() -> (AckSink, Arc<Mutex<Vec<AckResult>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        let sink: AckSink = Arc::new(move |r| s.lock().unwrap().push(r));
        (sink, seen)
    }

    #[test]
    fn confirms_in_order_once_settled() {
        let (sink, seen) = tokens();
        let mut l = Ledger::new();
        let a = l.open(vec![AckToken::new(&sink, 1, 0, 10)]);
        let b = l.open(vec![AckToken::new(&sink, 1, 1, 20)]);
        l.add(a, 3);
        l.close(a);
        l.add(b, 2);
        l.close(b);
        // The second batch settles first: nothing is released yet.
        l.settle(b, 2);
        assert!(l.release().is_empty());
        l.settle(a, 2);
        assert!(l.release().is_empty());
        l.settle(a, 1);
        let released = l.release();
        assert_eq!(released.len(), 2);
        released.into_iter().for_each(AckToken::confirm);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.iter().map(|r| r.seq).collect::<Vec<_>>(), [0, 1]);
        assert!(seen.iter().all(|r| r.delivered));
        assert!(l.is_empty());
    }

    #[test]
    fn open_batches_are_held() {
        let (sink, _) = tokens();
        let mut l = Ledger::new();
        let a = l.open(vec![AckToken::new(&sink, 1, 0, 10)]);
        l.add(a, 1);
        l.settle(a, 1);
        assert!(l.release().is_empty(), "still encoding");
        l.close(a);
        assert_eq!(l.release().len(), 1);
    }

    #[test]
    fn empty_batches_pass_through() {
        let (sink, _) = tokens();
        let mut l = Ledger::new();
        let a = l.open(vec![AckToken::new(&sink, 1, 0, 10)]);
        l.close(a);
        let b = l.open(Vec::new());
        l.close(b);
        assert_eq!(l.release().len(), 1);
        assert!(l.is_empty());
        assert_eq!(l.open(Vec::new()), 2);
    }

    #[test]
    fn dropped_ledger_reports_not_delivered() {
        let (sink, seen) = tokens();
        let mut l = Ledger::new();
        let a = l.open(vec![AckToken::new(&sink, 1, 0, 10)]);
        l.add(a, 1);
        drop(l);
        assert!(!seen.lock().unwrap()[0].delivered);
    }
}
