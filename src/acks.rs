//! End-to-end acknowledgements: how a sink tells a source that data was delivered.
//!
//! A source creates one [`AckToken`] per batch. Every component that passes the batch on keeps
//! the token with it; a fan-out to several sinks [`share`s](AckToken::share) it, and a transform
//! that holds data back (multiline) keeps a share until the held data leaves. Each share must be
//! [`confirm`ed](AckToken::confirm) by a sink after delivery. When the last share is gone the
//! source learns the batch's fate through its [`AckSink`]: delivered if every share was
//! confirmed, not delivered if any share was dropped unconfirmed (a sink gave up, or shutdown
//! came first). A dropped share is therefore never mistaken for a delivery.
//!
//! [`AckTracker`] turns those results, which may arrive out of order, into the highest file
//! offset below which everything was delivered: the only offset a checkpoint may hold.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The fate of one batch, reported to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckResult {
    /// The file the batch was read from.
    pub file_id: u64,
    /// The batch's sequence number within that file.
    pub seq: u64,
    /// The file offset just past the batch's last byte.
    pub end_offset: u64,
    /// True when every consumer confirmed delivery.
    pub delivered: bool,
}

/// Where the results of a source's tokens go (usually the source's own wake-up channel).
pub type AckSink = Arc<dyn Fn(AckResult) + Send + Sync>;

struct Inner {
    file_id: u64,
    seq: u64,
    end_offset: u64,
    failed: AtomicBool,
    sink: AckSink,
}

impl Drop for Inner {
    fn drop(&mut self) {
        (self.sink)(AckResult {
            file_id: self.file_id,
            seq: self.seq,
            end_offset: self.end_offset,
            delivered: !self.failed.load(Ordering::Acquire),
        });
    }
}

/// One share of a batch's acknowledgement. Confirm it after delivery; dropping it unconfirmed
/// marks the batch as not delivered.
pub struct AckToken {
    inner: Arc<Inner>,
    confirmed: bool,
}

impl std::fmt::Debug for AckToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckToken")
            .field("file_id", &self.inner.file_id)
            .field("seq", &self.inner.seq)
            .field("end_offset", &self.inner.end_offset)
            .finish()
    }
}

impl AckToken {
    /// A token for batch `seq` of file `file_id`, covering bytes up to `end_offset`; its result
    /// goes to `sink` once every share is gone.
    pub fn new(sink: &AckSink, file_id: u64, seq: u64, end_offset: u64) -> AckToken {
        AckToken {
            inner: Arc::new(Inner {
                file_id,
                seq,
                end_offset,
                failed: AtomicBool::new(false),
                sink: Arc::clone(sink),
            }),
            confirmed: false,
        }
    }

    /// Another share of the same acknowledgement, for one more consumer.
    pub fn share(&self) -> AckToken {
        AckToken {
            inner: Arc::clone(&self.inner),
            confirmed: false,
        }
    }

    /// Marks this share delivered.
    pub fn confirm(mut self) {
        self.confirmed = true;
    }

    /// The file offset this token covers up to.
    pub fn end_offset(&self) -> u64 {
        self.inner.end_offset
    }
}

impl Drop for AckToken {
    fn drop(&mut self) {
        if !self.confirmed {
            self.inner.failed.store(true, Ordering::Release);
        }
    }
}

/// Per-file ordered tracking: which batches are out, and how far delivery is contiguous.
#[derive(Debug, Default)]
pub struct AckTracker {
    /// Offset below which everything was delivered.
    acked: u64,
    /// Next sequence number to hand out.
    next_seq: u64,
    /// Lowest sequence number not yet resolved.
    low_seq: u64,
    /// Results that arrived ahead of `low_seq`: seq → (end offset, delivered).
    ahead: BTreeMap<u64, (u64, bool)>,
    /// Set once a batch was not delivered: the offset is frozen until restart, so that what
    /// follows cannot be checkpointed past the lost batch.
    stalled: bool,
}

impl AckTracker {
    /// A tracker for a file whose delivery is known complete up to `offset`.
    pub fn new(offset: u64) -> AckTracker {
        AckTracker {
            acked: offset,
            ..AckTracker::default()
        }
    }

    /// Reserves the next sequence number for a batch being sent.
    pub fn next_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Records a result; returns true when the acknowledged offset moved.
    pub fn record(&mut self, seq: u64, end_offset: u64, delivered: bool) -> bool {
        if seq < self.low_seq {
            return false;
        }
        self.ahead.insert(seq, (end_offset, delivered));
        let before = self.acked;
        while let Some((end, ok)) = self.ahead.remove(&self.low_seq) {
            self.low_seq += 1;
            if !ok {
                self.stalled = true;
            }
            if !self.stalled {
                self.acked = end;
            }
        }
        self.acked != before
    }

    /// Offset below which everything was delivered.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// Batches sent and not yet resolved.
    pub fn pending(&self) -> u64 {
        self.next_seq - self.low_seq
    }

    /// True once a batch was reported not delivered.
    pub fn stalled(&self) -> bool {
        self.stalled
    }

    /// Restarts tracking at `offset` (the file was truncated and is read again from 0). Results
    /// still out for earlier batches are ignored from now on.
    pub fn reset(&mut self, offset: u64) {
        self.acked = offset;
        self.low_seq = self.next_seq;
        self.ahead.clear();
        self.stalled = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel() -> (AckSink, std::sync::mpsc::Receiver<AckResult>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let sink: AckSink = Arc::new(move |r| {
            let _ = tx.lock().unwrap().send(r);
        });
        (sink, rx)
    }

    #[test]
    fn confirmed_token_reports_delivered() {
        let (sink, rx) = channel();
        let t = AckToken::new(&sink, 7, 0, 100);
        let shared = t.share();
        t.confirm();
        assert!(rx.try_recv().is_err(), "one share is still out");
        shared.confirm();
        let r = rx.try_recv().unwrap();
        assert_eq!(
            (r.file_id, r.seq, r.end_offset, r.delivered),
            (7, 0, 100, true)
        );
    }

    #[test]
    fn dropped_share_reports_failure() {
        let (sink, rx) = channel();
        let t = AckToken::new(&sink, 1, 3, 50);
        let shared = t.share();
        t.confirm();
        drop(shared);
        assert!(!rx.try_recv().unwrap().delivered);
    }

    #[test]
    fn tracker_advances_only_contiguously() {
        let mut tr = AckTracker::new(10);
        let (a, b, c) = (tr.next_seq(), tr.next_seq(), tr.next_seq());
        assert!(!tr.record(b, 30, true));
        assert_eq!(tr.acked(), 10);
        assert!(tr.record(a, 20, true));
        assert_eq!(tr.acked(), 30);
        assert!(tr.record(c, 40, true));
        assert_eq!(tr.acked(), 40);
        assert_eq!(tr.pending(), 0);
    }

    #[test]
    fn tracker_stalls_on_failure() {
        let mut tr = AckTracker::new(0);
        let (a, b) = (tr.next_seq(), tr.next_seq());
        tr.record(a, 10, false);
        tr.record(b, 20, true);
        assert_eq!(tr.acked(), 0);
        assert!(tr.stalled());
    }

    #[test]
    fn tracker_reset_ignores_old_results() {
        let mut tr = AckTracker::new(0);
        let a = tr.next_seq();
        tr.reset(0);
        let b = tr.next_seq();
        assert!(!tr.record(a, 500, true));
        assert!(tr.record(b, 5, true));
        assert_eq!(tr.acked(), 5);
    }
}
