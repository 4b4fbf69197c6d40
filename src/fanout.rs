//! Sends a component's output to every component that lists it as an input.
//!
//! A leaf below both the sources and the topology: a source sends into the [`Fanout`] the
//! topology hands it, without knowing how the graph is wired.

use tokio::sync::mpsc;

use crate::event::Batch;

/// The downstream side of a component: one bounded channel per consumer.
#[derive(Debug, Clone, Default)]
pub struct Fanout {
    outputs: Vec<mpsc::Sender<Batch>>,
}

/// Every consumer is gone (they stopped or failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl Fanout {
    /// A fanout to `outputs`.
    pub fn new(outputs: Vec<mpsc::Sender<Batch>>) -> Fanout {
        Fanout { outputs }
    }

    /// Number of consumers.
    pub fn len(&self) -> usize {
        self.outputs.len()
    }

    /// True when nobody consumes this output.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    /// True when a consumer's channel is full: a send would wait. Lets a producer that has
    /// other work (a file source discovering files, handling acknowledgements) do it instead of
    /// blocking.
    pub fn is_full(&self) -> bool {
        self.outputs.iter().any(|tx| tx.capacity() == 0)
    }

    /// Sends `batch` to every consumer, waiting while a channel is full (backpressure). With no
    /// consumer the batch is confirmed: nobody needs it.
    pub async fn send(&self, batch: Batch) -> Result<(), Closed> {
        let Some((last, rest)) = self.outputs.split_last() else {
            batch.confirm();
            return Ok(());
        };
        for tx in rest {
            tx.send(batch.clone_for_fanout())
                .await
                .map_err(|_| Closed)?;
        }
        last.send(batch).await.map_err(|_| Closed)
    }

    /// Like [`send`](Self::send), from a thread outside the async runtime.
    pub fn blocking_send(&self, batch: Batch) -> Result<(), Closed> {
        let Some((last, rest)) = self.outputs.split_last() else {
            batch.confirm();
            return Ok(());
        };
        for tx in rest {
            tx.blocking_send(batch.clone_for_fanout())
                .map_err(|_| Closed)?;
        }
        last.blocking_send(batch).map_err(|_| Closed)
    }
}
