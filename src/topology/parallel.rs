//! Runs a stateless transform on several instances at once, keeping the output in input order.
//!
//! A dispatcher hands each batch to the next worker (round robin) with a one-shot reply
//! channel, and queues the reply's receiver; a collector awaits the replies in queue order and
//! sends them downstream. Queues are bounded, so backpressure works as for a single instance.
//! Only transforms that keep no state between batches run this way
//! ([`TransformConfig::stateless`](crate::transforms::TransformConfig::stateless)).

use tokio::sync::{mpsc, oneshot};

use super::Fanout;
use crate::event::Batch;
use crate::metrics::{component, metrics};
use crate::transforms::Transform;

type Job = (Batch, oneshot::Sender<Vec<Batch>>);

/// Runs `instances` in parallel over `rx`, sending results to `out` in input order. `name` is
/// the stage's name in logs (a fused chain's is its parts' names joined by `+`); events are
/// counted under it when `count` is set (fused chains count per part themselves).
pub async fn run(
    name: String,
    count: bool,
    instances: Vec<Box<dyn Transform>>,
    mut rx: mpsc::Receiver<Batch>,
    out: Fanout,
) {
    let n = instances.len().max(1);
    let mut workers = Vec::with_capacity(n);
    for mut t in instances {
        let (tx, mut jobs) = mpsc::channel::<Job>(1);
        tokio::spawn(async move {
            while let Some((batch, reply)) = jobs.recv().await {
                let mut produced = Vec::with_capacity(1);
                t.transform(batch, &mut produced);
                let _ = reply.send(produced);
            }
        });
        workers.push(tx);
    }
    let (order_tx, mut order_rx) = mpsc::channel::<oneshot::Receiver<Vec<Batch>>>(n);
    let collector_name = name.clone();
    let collector = tokio::spawn(async move {
        let labels = count.then(|| component(&collector_name));
        let m = metrics();
        while let Some(reply) = order_rx.recv().await {
            // A worker that died drops its reply: its batch is lost to this run and its
            // acknowledgement reports "not delivered", so the checkpoint stays before it.
            let Ok(produced) = reply.await else { continue };
            for batch in produced {
                if let Some(labels) = &labels {
                    m.events_out
                        .get_or_create(labels)
                        .inc_by(batch.len() as u64);
                }
                if out.send(batch).await.is_err() {
                    tracing::warn!(
                        message = "Downstream is gone; the transform stops.",
                        transform = %collector_name
                    );
                    return;
                }
            }
        }
    });
    let labels = count.then(|| component(&name));
    let m = metrics();
    let mut next = 0;
    while let Some(batch) = rx.recv().await {
        if let Some(labels) = &labels {
            m.events_in.get_or_create(labels).inc_by(batch.len() as u64);
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        if order_tx.send(reply_rx).await.is_err()
            || workers[next].send((batch, reply_tx)).await.is_err()
        {
            break;
        }
        next = (next + 1) % n;
    }
    drop(workers);
    drop(order_tx);
    let _ = collector.await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use bytes::Bytes;

    /// Takes longer on some batches than on others, so workers finish out of order.
    struct Uneven;

    impl Transform for Uneven {
        fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
            let offset = batch.events_mut()[0].offset;
            std::thread::sleep(std::time::Duration::from_millis(if offset % 3 == 0 {
                5
            } else {
                0
            }));
            out.push(batch);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn output_keeps_input_order() {
        let (in_tx, in_rx) = mpsc::channel(4);
        let (out_tx, mut out_rx) = mpsc::channel(4);
        let instances: Vec<Box<dyn Transform>> = (0..3)
            .map(|_| Box::new(Uneven) as Box<dyn Transform>)
            .collect();
        let runner = tokio::spawn(run(
            "par".into(),
            true,
            instances,
            in_rx,
            Fanout::new(vec![out_tx]),
        ));
        let feeder = tokio::spawn(async move {
            for i in 0..60u64 {
                let b = Batch::from_events(vec![Event::from_message(Bytes::from_static(b"x"), i)]);
                in_tx.send(b).await.unwrap();
            }
        });
        let mut seen = Vec::new();
        while let Some(mut b) = out_rx.recv().await {
            seen.push(b.events_mut()[0].offset);
        }
        feeder.await.unwrap();
        runner.await.unwrap();
        assert_eq!(seen, (0..60).collect::<Vec<_>>());
    }

    /// Collects what the `fmt` subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn logs_name_the_stage() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let (in_tx, in_rx) = mpsc::channel(4);
        let (out_tx, out_rx) = mpsc::channel(4);
        // Downstream is gone before anything arrives.
        drop(out_rx);
        let instances: Vec<Box<dyn Transform>> = vec![Box::new(Uneven)];
        let runner = tokio::spawn(run(
            "parse+enrich".into(),
            false,
            instances,
            in_rx,
            Fanout::new(vec![out_tx]),
        ));
        let b = Batch::from_events(vec![Event::from_message(Bytes::from_static(b"x"), 1)]);
        in_tx.send(b).await.unwrap();
        drop(in_tx);
        runner.await.unwrap();
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(
            logs.contains("Downstream is gone; the transform stops. transform=parse+enrich"),
            "{logs}"
        );
    }
}
