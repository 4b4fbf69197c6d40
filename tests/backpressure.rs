//! Backpressure: with a sink that stops taking batches, the source stops reading and the number
//! of events in flight stays bounded, however much the file holds.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use skiff::components::{self as config, Component};
use skiff::event::Batch;
use skiff::metrics::{component, metrics};
use skiff::sinks::{SinkConfig, SinkContext, SinkError, SinkFuture};
use skiff::topology::{self, RunOptions, CHANNEL_BATCHES};
use tokio::sync::mpsc;

/// A sink that never takes a batch until the drain deadline aborts it.
#[derive(Debug)]
struct StuckSink;

impl SinkConfig for StuckSink {
    fn kind(&self) -> &'static str {
        "stuck"
    }
    fn build(
        &self,
        ctx: SinkContext,
        input: mpsc::Receiver<Batch>,
    ) -> Result<SinkFuture, SinkError> {
        Ok(Box::pin(async move {
            ctx.abort.cancelled().await;
            drop(input);
            Ok(())
        }))
    }
}

#[test]
fn a_stuck_sink_bounds_events_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // 200,000 lines of 100 bytes: 20 MB waiting in the file.
    let mut data = Vec::with_capacity(20 << 20);
    for i in 0..200_000 {
        data.extend_from_slice(format!("{i:099}\n").as_bytes());
    }
    std::fs::write(logs.join("big.log"), &data).unwrap();
    let text = format!(
        "data_dir = \"{d}/data\"\nshutdown_timeout = \"1s\"\n[api]\nenabled = false\n[sources.bp_src]\ntype = \"file\"\ninclude = [\"{d}/logs/*.log\"]\nread_buffer = \"64KiB\"\n[sinks.stuck]\ntype = \"blackhole\"\ninputs = [\"bp_src\"]\n",
        d = dir.path().display()
    );
    // The file's `stuck` sink stands in for the one built here, which no config can name.
    let mut config = config::load_str(Path::new("bp.toml"), &text, |_| None).unwrap();
    config.sinks = vec![Component {
        name: "stuck".into(),
        kind: "stuck",
        inputs: vec!["bp_src".into()],
        config: Box::new(StuckSink),
    }];

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let status = Arc::new(topology::Status::default());
    let opts = RunOptions {
        once: false,
        status,
        resumed: false,
    };
    let handle = rt.spawn(topology::run(config, opts, async {
        let _ = stop_rx.await;
    }));

    let gauge = || {
        metrics()
            .events_unacked
            .get_or_create(&component("bp_src"))
            .get()
    };
    // Wait until the source is blocked: the gauge stops moving.
    let mut last = -1;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        let now = gauge();
        if now == last && now > 0 {
            break;
        }
        last = now;
    }
    let in_flight = gauge();
    // One batch per 64 KiB read (~650 lines): the channel's batches, plus one being sent.
    let per_batch = (64 * 1024) / 100 + 1;
    let bound = ((CHANNEL_BATCHES + 1) * per_batch) as i64;
    assert!(in_flight > 0, "the source read nothing");
    assert!(
        in_flight <= bound,
        "{in_flight} events in flight, bound {bound}"
    );
    let read = metrics()
        .bytes_read
        .get_or_create(&component("bp_src"))
        .get();
    assert!(read < 2 << 20, "the source kept reading: {read} bytes");

    stop_tx.send(()).unwrap();
    let result = rt.block_on(handle).unwrap();
    assert!(
        matches!(result, Err(topology::TopologyError::DrainTimeout(_))),
        "{result:?}"
    );
    // Nothing was delivered, so nothing may be checkpointed past 0.
    if let Ok(cp) = std::fs::read_to_string(dir.path().join("data/checkpoints/bp_src.json")) {
        let cp: serde_json::Value = serde_json::from_str(&cp).unwrap();
        for f in cp["files"].as_array().unwrap() {
            assert_eq!(f["offset"], 0, "{cp}");
        }
    }
}
