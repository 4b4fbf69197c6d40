//! The sink's run loop: incoming batches → bulk bodies → deliveries in flight → confirmations.
//!
//! One task owns the state: the body being filled, the batch being encoded into it, the ledger of
//! unconfirmed batches, and up to `max_in_flight` delivery tasks. A body is sent when it holds
//! `max_events` documents or `max_bytes`, when its first document has waited `timeout`, or at the
//! end of input. A batch larger than the room left is encoded across several bodies; the loop
//! reads no new batch while the body is full and every delivery slot is taken: backpressure reaches
//! the source, and the data waits in the file.
//!
//! At the end of input the loop sends what is left and waits for every delivery. When the drain
//! deadline passes (`abort`), it returns at once: deliveries are dropped, and the tokens of
//! unsettled batches with them, unconfirmed, so the source does not checkpoint past them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;

use super::deliver::{deliver, Completed, Shared};
use super::encoder::BulkEncoder;
use super::request::BulkBuilder;
use crate::event::Batch;
use crate::metrics::{component, component_with, metrics, Labels};
use crate::sinks::common::ledger::Ledger;
use crate::sinks::common::problems::Every;
use crate::sinks::{SinkContext, SinkError};

/// When a body is sent, and how many at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Documents per body.
    pub max_events: usize,
    /// Bytes per body (uncompressed).
    pub max_bytes: usize,
    /// Longest wait of a document in a body being filled.
    pub timeout: Duration,
    /// Deliveries at once.
    pub max_in_flight: usize,
}

struct Current {
    batch: Batch,
    next: usize,
    seq: u64,
}

struct Run {
    shared: Arc<Shared>,
    encoder: BulkEncoder,
    limits: Limits,
    builder: BulkBuilder,
    /// When the body being filled must go, whatever its size.
    deadline: Option<Instant>,
    current: Option<Current>,
    ledger: Ledger,
    inflight: JoinSet<Completed>,
    pool: Vec<Vec<u8>>,
    labels: Labels,
    missing_log: Every,
}

/// Runs the sink until its input closes and everything is delivered, or until `ctx.abort`.
pub async fn run(
    shared: Arc<Shared>,
    encoder: BulkEncoder,
    limits: Limits,
    healthcheck: bool,
    ctx: SinkContext,
    mut input: mpsc::Receiver<Batch>,
) -> Result<(), SinkError> {
    let check = healthcheck.then(|| {
        let s = Arc::clone(&shared);
        tokio::spawn(async move { s.service.healthcheck().await })
    });
    let mut run = Run::new(shared, encoder, limits, &ctx.name);
    let result = run.main_loop(&ctx, &mut input).await;
    if let Some(h) = check {
        h.abort();
    }
    result
}

impl Run {
    fn new(shared: Arc<Shared>, encoder: BulkEncoder, limits: Limits, name: &str) -> Run {
        Run {
            shared,
            encoder,
            builder: new_builder(Vec::new(), &limits),
            limits,
            deadline: None,
            current: None,
            ledger: Ledger::new(),
            inflight: JoinSet::new(),
            pool: Vec::new(),
            labels: component(name),
            missing_log: Every::new(Duration::from_secs(60)),
        }
    }

    async fn main_loop(
        &mut self,
        ctx: &SinkContext,
        input: &mut mpsc::Receiver<Batch>,
    ) -> Result<(), SinkError> {
        let mut input_open = true;
        loop {
            self.fill();
            while self.ready_to_send(input_open) && self.inflight.len() < self.limits.max_in_flight
            {
                self.dispatch();
                self.fill();
            }
            if !input_open
                && self.current.is_none()
                && self.builder.is_empty()
                && self.inflight.is_empty()
            {
                return Ok(());
            }
            let can_read = input_open && self.current.is_none() && !self.builder.is_full();
            let timer = self.deadline.filter(|d| *d > Instant::now());
            tokio::select! {
                biased;
                () = ctx.abort.cancelled() => {
                    tracing::warn!(message = "Drain deadline reached; unsent documents stay unacknowledged and will be read again after restart.", sink = %ctx.name, batches = self.ledger.len());
                    return Ok(());
                }
                Some(done) = self.inflight.join_next(), if !self.inflight.is_empty() => {
                    self.complete(done)?;
                }
                () = sleep_until(timer), if timer.is_some() => {}
                batch = input.recv(), if can_read => match batch {
                    Some(b) => self.accept(b),
                    None => input_open = false,
                },
            }
        }
    }

    fn ready_to_send(&self, input_open: bool) -> bool {
        !self.builder.is_empty()
            && (self.builder.is_full()
                || self.deadline.is_some_and(|d| d <= Instant::now())
                || (!input_open && self.current.is_none()))
    }

    /// Takes in a batch: its tokens go to the ledger, its documents are encoded by `fill`.
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
        self.count_missing_fields();
    }

    /// Hands the body to a new delivery task.
    fn dispatch(&mut self) {
        let buf = self.pool.pop().unwrap_or_default();
        let full = std::mem::replace(&mut self.builder, new_builder(buf, &self.limits));
        self.deadline = None;
        self.inflight
            .spawn(deliver(Arc::clone(&self.shared), full.freeze()));
    }

    /// A delivery finished: its documents are settled.
    fn complete(&mut self, done: Result<Completed, JoinError>) -> Result<(), SinkError> {
        let done = done.map_err(|e| SinkError::Other(format!("a bulk delivery failed: {e}")))?;
        for (seq, n) in done.batches {
            self.ledger.settle(seq, n);
        }
        self.confirm_settled();
        if let Some(buf) = done.buffer {
            if self.pool.len() <= self.limits.max_in_flight {
                self.pool.push(buf);
            }
        }
        Ok(())
    }

    fn confirm_settled(&mut self) {
        for token in self.ledger.release() {
            token.confirm();
        }
    }

    fn count_missing_fields(&mut self) {
        let missing = self.encoder.take_missing_fields();
        if missing == 0 {
            return;
        }
        let name = &self.shared.name;
        metrics()
            .es_item_errors
            .get_or_create(&component_with(name, "type", "index_field_missing"))
            .inc_by(missing);
        if self.missing_log.ready(std::time::Instant::now()) {
            tracing::warn!(message = "Index name template refers to fields some events lack; they were left empty in the name.", sink = %name, count = missing);
        }
    }
}

fn new_builder(buf: Vec<u8>, limits: &Limits) -> BulkBuilder {
    BulkBuilder::new(buf, limits.max_events, limits.max_bytes)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
