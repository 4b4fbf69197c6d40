//! Torture: the data directory fills up.
//!
//! `data_dir` is a small tmpfs, filled to its last byte while skiff runs. Checkpoint writes and
//! dead-letter writes then fail: skiff keeps delivering, says so once, counts the failures
//! (`skiff_checkpoint_write_failures_total`), and the checkpoint file on disk stays the last
//! good one (it is only ever replaced whole). When space returns, checkpoints catch up and a
//! restart repeats nothing. Needs permission to mount a tmpfs (root); skips itself otherwise.

mod support;

use std::time::Duration;

use support::es_server::{EsServer, EsServerOptions};
use support::skiff::{Exit, Skiff};
use support::tmpfs::Tmpfs;
use support::wait::wait_until;
use support::workspace::{read_ndjson, Workspace};
use support::writers::{append, numbered, numbered_len};

const T: Duration = Duration::from_secs(60);

#[test]
fn a_full_data_dir_fails_writes_loudly_keeps_delivering_and_recovers() {
    let ws = Workspace::new();
    let disk = match Tmpfs::mount(&ws.data(), "256k") {
        Ok(d) => d,
        Err(why) => {
            eprintln!("SKIPPED: cannot mount a tmpfs for data_dir ({why}); run as root");
            return;
        }
    };
    let server = EsServer::start(EsServerOptions {
        max_content_length: 8192,
        ..Default::default()
    });
    let config = ws.es_config(
        "*.log",
        &[server.url()],
        "checkpoint_interval = \"50ms\"",
        "compression = \"none\"\nbatch = { max_events = 50, timeout = \"50ms\" }\nretry = { initial_backoff = \"10ms\", max_backoff = \"100ms\" }",
    );
    let config_text = std::fs::read_to_string(&config).unwrap();
    let config = ws.write(
        "skiff-api.toml",
        config_text.replace("[api]\nenabled = false", "[api]\naddress = \"127.0.0.1:0\""),
    );
    let log = ws.log("app.log");
    let mut skiff = Skiff::start(&config, &[]);
    append(&log, &numbered("a", 0..100));
    assert!(wait_until(T, || server.total_docs() >= 100));
    let line = numbered_len("a");
    let good = 100 * line;
    assert!(
        wait_until(T, || ws.checkpoints("app").iter().any(|(_, o)| *o == good)),
        "checkpoint at {good}: {:?}",
        ws.checkpoints("app")
    );

    disk.fill();
    // Lines keep flowing, and a document too large for the server is refused for good: its
    // dead letter cannot be written either.
    let mut more = numbered("a", 100..200);
    more.insert(50, "g".repeat(10_000));
    append(&log, &more);
    assert!(
        wait_until(T, || server.total_docs() >= 200),
        "{} documents",
        server.total_docs()
    );
    skiff.wait_for_log("Cannot write checkpoints; delivery goes on", T);
    skiff.wait_for_log("Cannot write the dead-letter file", T);
    skiff.wait_for_metric_where(
        "skiff_checkpoint_write_failures_total",
        &[("component", "app")],
        |v| v > 0.0,
    );
    // The checkpoint on disk is the last good one, whole.
    assert_eq!(
        ws.checkpoints("app"),
        vec![(log.display().to_string(), good)]
    );
    assert!(skiff.is_running());

    disk.free();
    skiff.wait_for_log("Checkpoint writes work again.", T);
    append(&log, &numbered("a", 200..300));
    assert!(wait_until(T, || server.total_docs() >= 300));
    let end = 300 * line + 10_001;
    assert!(
        wait_until(T, || ws.checkpoints("app").iter().any(|(_, o)| *o == end)),
        "checkpoint at {end}: {:?}",
        ws.checkpoints("app")
    );
    // Dead letters are written again once there is room.
    append(&log, &["h".repeat(10_000)]);
    let dead = ws.data().join("dead-letter/es.ndjson");
    assert!(wait_until(T, || !read_ndjson(&dead).is_empty()));
    let Exit { code, stderr, .. } = skiff.terminate(T);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stderr.matches("Cannot write checkpoints").count(),
        1,
        "said once:\n{stderr}"
    );
    assert_eq!(server.duplicates(), 0);
    drop(disk);
}
