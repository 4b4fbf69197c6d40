//! The `http` sink's run loop: incoming batches → bodies → requests in flight → confirmations.
//!
//! The same shape as the `elasticsearch` sink's: one task owns the body being filled, the batch
//! being encoded into it, the shared [`Ledger`] of unconfirmed batches and up to `max_in_flight`
//! delivery tasks. A body is sent when it holds `max_events` events or `max_bytes`, when its
//! first event has waited `timeout`, when the next event goes to another URI, or at the end of
//! input. No new batch is read while the body is full and every slot is taken: backpressure
//! reaches the source, and the data waits in the file. At the drain deadline (`abort`) the loop
//! returns at once; unsettled batches stay unconfirmed and are read again after a restart.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;

use super::deliver::{deliver, Completed, Shared};
use super::encoder::{BodyBuilder, HttpEncoder};
use crate::event::Batch;
use crate::metrics::{component, metrics, Labels};
use crate::sinks::common::ledger::Ledger;
use crate::sinks::common::problems::Every;
use crate::sinks::{SinkContext, SinkError};

/// When a body is sent, and how many at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Events per body.
    pub max_events: usize,
    /// Bytes per body (uncompressed).
    pub max_bytes: usize,
    /// Longest wait of an event in a body being filled.
    pub timeout: Duration,
    /// Requests at once.
    pub max_in_flight: usize,
}

struct Current {
    batch: Batch,
    next: usize,
    seq: u64,
}

struct Run {
    shared: Arc<Shared>,
    encoder: HttpEncoder,
    limits: Limits,
    builder: BodyBuilder,
    deadline: Option<Instant>,
    current: Option<Current>,
    ledger: Ledger,
    inflight: JoinSet<Completed>,
    labels: Labels,
    missing_log: Every,
}

/// Runs the sink until its input closes and everything is delivered, or until `ctx.abort`.
pub async fn run(
    shared: Arc<Shared>,
    encoder: HttpEncoder,
    limits: Limits,
    ctx: SinkContext,
    mut input: mpsc::Receiver<Batch>,
) -> Result<(), SinkError> {
    let mut run = Run {
        labels: component(&ctx.name),
        shared,
        encoder,
        builder: BodyBuilder::new(limits.max_events, limits.max_bytes),
        limits,
        deadline: None,
        current: None,
        ledger: Ledger::new(),
        inflight: JoinSet::new(),
        missing_log: Every::new(Duration::from_secs(60)),
    };
    let mut input_open = true;
    loop {
        run.fill();
        while run.ready_to_send(input_open) && run.inflight.len() < run.limits.max_in_flight {
            run.dispatch();
            run.fill();
        }
        if !input_open && run.current.is_none() && run.builder.is_empty() && run.inflight.is_empty()
        {
            return Ok(());
        }
        let can_read = input_open && run.current.is_none() && !run.builder.is_full();
        let timer = run.deadline.filter(|d| *d > Instant::now());
        tokio::select! {
            biased;
            () = ctx.abort.cancelled() => {
                tracing::warn!(message = "Drain deadline reached; unsent events stay unacknowledged and will be read again after restart.", sink = %ctx.name, batches = run.ledger.len());
                return Ok(());
            }
            Some(done) = run.inflight.join_next(), if !run.inflight.is_empty() => {
                run.complete(done)?;
            }
            () = sleep_until(timer), if timer.is_some() => {}
            batch = input.recv(), if can_read => match batch {
                Some(b) => run.accept(b),
                None => input_open = false,
            },
        }
    }
}

impl Run {
    fn ready_to_send(&self, input_open: bool) -> bool {
        !self.builder.is_empty()
            && (self.builder.is_full()
                || self.deadline.is_some_and(|d| d <= Instant::now())
                || (!input_open && self.current.is_none()))
    }

    fn accept(&mut self, mut batch: Batch) {
        metrics()
            .events_in
            .get_or_create(&self.labels)
            .inc_by(batch.len() as u64);
        let seq = self.ledger.open(std::mem::take(&mut batch.acks));
        if batch.is_empty() {
            self.ledger.close(seq);
            self.confirm_settled();
        } else {
            self.current = Some(Current {
                batch,
                next: 0,
                seq,
            });
        }
    }

    /// Encodes the current batch into the body until one of them runs out.
    fn fill(&mut self) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let mut added = 0;
        while cur.next < cur.batch.len() && !self.builder.is_full() {
            if !self
                .encoder
                .encode(&mut self.builder, &cur.batch, cur.next, cur.seq)
            {
                break;
            }
            cur.next += 1;
            added += 1;
        }
        let (seq, done) = (cur.seq, cur.next >= cur.batch.len());
        if added > 0 {
            self.ledger.add(seq, added);
            if self.deadline.is_none() {
                self.deadline = Some(Instant::now() + self.limits.timeout);
            }
        }
        if done {
            self.current = None;
            self.ledger.close(seq);
        }
        let missing = self.encoder.take_missing_fields();
        if missing > 0 && self.missing_log.ready(std::time::Instant::now()) {
            tracing::warn!(message = "The URI or label templates refer to fields some events lack; they were left empty.", sink = %self.shared.name, count = missing);
        }
    }

    fn dispatch(&mut self) {
        let body = self.encoder.finish(&mut self.builder);
        self.deadline = None;
        self.inflight.spawn(deliver(Arc::clone(&self.shared), body));
    }

    fn complete(&mut self, done: Result<Completed, JoinError>) -> Result<(), SinkError> {
        let done = done.map_err(|e| SinkError::Other(format!("an HTTP delivery failed: {e}")))?;
        for (seq, n) in done.batches {
            self.ledger.settle(seq, n);
        }
        self.confirm_settled();
        Ok(())
    }

    fn confirm_settled(&mut self) {
        for token in self.ledger.release() {
            token.confirm();
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
