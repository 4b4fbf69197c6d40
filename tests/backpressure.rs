//! Backpressure: with a sink that stops taking batches, the source stops reading and the number
//! of events in flight stays bounded, however much the file holds.

mod support;

use std::time::Duration;

use skiff::metrics::{component, metrics};
use skiff::topology::{TopologyError, CHANNEL_BATCHES};
use support::inproc::InProc;
use support::wait::wait_until_settled;
use support::workspace::Workspace;

#[test]
fn a_stuck_sink_bounds_events_in_flight() {
    let ws = Workspace::new();
    // 200,000 lines of 100 bytes: 20 MB waiting in the file.
    let mut data = Vec::with_capacity(20 << 20);
    for i in 0..200_000 {
        data.extend_from_slice(format!("{i:099}\n").as_bytes());
    }
    ws.write("logs/big.log", &data);
    let text = format!(
        "data_dir = \"{d}/data\"\nshutdown_timeout = \"1s\"\n[api]\nenabled = false\n[sources.bp_src]\ntype = \"file\"\ninclude = [\"{d}/logs/*.log\"]\nread_buffer = \"64KiB\"\n",
        d = ws.dir().display()
    );
    // A sink that takes no batch: held until the drain deadline aborts it.
    let run = InProc::start_held(&text);

    let gauge = || {
        metrics()
            .events_unacked
            .get_or_create(&component("bp_src"))
            .get()
    };
    // Wait until the source is blocked: the gauge stops moving.
    wait_until_settled(Duration::from_secs(5), Duration::from_millis(100), gauge);
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

    let (result, delivered) = run.stop();
    assert!(
        matches!(result, Err(TopologyError::DrainTimeout(_))),
        "{result:?}"
    );
    assert!(delivered.is_empty(), "{} lines delivered", delivered.len());
    // Nothing was delivered, so nothing may be checkpointed past 0.
    for (path, offset) in ws.checkpoints("bp_src") {
        assert_eq!(offset, 0, "{path}");
    }
}
