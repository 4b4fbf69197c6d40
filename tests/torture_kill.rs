//! Torture: `kill -9` at random moments, again and again, while lines are written and the log
//! is rotated by rename; skiff is restarted each time.
//!
//! What must hold: no written line is lost, nothing garbled is shipped, checkpoints are never
//! torn (no checkpoint file is ever set aside as corrupt), and the lines shipped again after a
//! restart come only from the tail of what was shipped before the kill: what was in flight or
//! acknowledged since the last checkpoint write.
//!
//! Into Elasticsearch (deterministic ids, `create` actions, a slow server), the index must hold
//! every line exactly once, however often a line was sent.
//!
//! Short mode: 20 kills at 20,000 lines/s (Elasticsearch: 20 kills at 10,000 lines/s);
//! `SKIFF_TORTURE=long`: 100 kills at 50,000 lines/s (Elasticsearch: 50 kills).
//! The random moments come from a fixed seed (printed on failure; `SKIFF_TORTURE_SEED` replays).

mod support;

use std::collections::HashMap;
use std::time::Duration;

use support::compare::assert_exactly_once;
use support::es::indexed_messages;
use support::es_server::{EsServer, EsServerOptions, Faults};
use support::skiff::{run_once, Skiff};
use support::torture::{pick, seed};
use support::workspace::Workspace;
use support::writers::{checked_lines, parse_checked_line, Reopen, Rotator, Writer};

/// Checkpoints are written this often (ms); it bounds what a kill can make skiff ship again.
const CHECKPOINT_MS: u64 = 100;
/// Bytes read at once; with the channel capacity it bounds the lines in flight.
const READ_BUFFER: u64 = 16 * 1024;

#[test]
fn kill9_at_random_moments_loses_nothing_and_repeats_only_the_tail() {
    let seed = seed(21);
    let mut rng = fastrand::Rng::with_seed(seed);
    let (kills, rate) = pick((20, 20_000), (100, 50_000));
    let ws = Workspace::new();
    let config = ws.console_config(
        "app.log*",
        &format!("checkpoint_interval = \"{CHECKPOINT_MS}ms\"\nread_buffer = \"{READ_BUFFER}\""),
    );
    let live = ws.log("app.log");
    std::fs::write(&live, b"").unwrap();
    let writer = Writer::start(live.clone(), rate, rate / 100, Reopen::WhenInodeChanges);
    let rotator = Rotator::start(live.clone(), 200, 700, seed);

    // shipped[i]: what run i printed, in order.
    let mut runs: Vec<Vec<String>> = Vec::new();
    for _ in 0..kills {
        let mut skiff = Skiff::start(&config, &[]);
        // From "not started yet" to "in full flow": startup, catch-up and steady state.
        std::thread::sleep(Duration::from_millis(rng.u64(0..800)));
        runs.push(skiff.kill9().lines);
    }
    let rotations = rotator.stop();
    let written = writer.stop();
    let last = run_once(&config, &[]);
    assert_eq!(last.code, 0, "seed {seed}: {}", last.stderr);
    runs.push(last.lines());

    let all: Vec<&String> = runs.iter().flatten().collect();
    let garbled: Vec<&&String> = all
        .iter()
        .filter(|l| parse_checked_line(l).is_none_or(|s| s >= written))
        .collect();
    assert!(
        garbled.is_empty(),
        "seed {seed}: {} garbled lines, e.g. {:?}",
        garbled.len(),
        garbled.first()
    );
    let mut seen = vec![false; written as usize];
    for l in &all {
        if let Some(s) = parse_checked_line(l) {
            seen[s as usize] = true;
        }
    }
    let lost: Vec<usize> = (0..written as usize).filter(|&s| !seen[s]).collect();
    assert!(
        lost.is_empty(),
        "seed {seed}: {} of {written} lines lost over {kills} kills and {rotations} rotations, first {:?}",
        lost.len(),
        lost.iter().take(5).collect::<Vec<_>>()
    );

    let corrupt: Vec<String> = std::fs::read_dir(ws.path("data/checkpoints"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("corrupt"))
        .collect();
    assert!(
        corrupt.is_empty(),
        "seed {seed}: torn checkpoints: {corrupt:?}"
    );

    let (repeats, worst) = repeats_from_the_tail(&runs);
    // In flight when killed: the channel's batches, the one the sink writes, the one the source
    // sends (16 KiB of ~60-byte lines each); plus what was acknowledged since the last
    // checkpoint write, at the speed skiff ships when catching up after a restart.
    let per_batch = READ_BUFFER as usize / 40;
    let catch_up_per_interval = 400_000 * CHECKPOINT_MS as usize / 1000;
    let bound = (skiff::topology::CHANNEL_BATCHES + 2) * per_batch + catch_up_per_interval;
    eprintln!(
        "kill -9: {kills} kills, {rotations} rotations, {written} lines, none lost; repeated per restart {repeats:?}; farthest from the tail {worst} (bound {bound})"
    );
    assert!(
        worst <= bound,
        "seed {seed}: a restart repeated a line {worst} lines before the end of what was shipped (bound {bound}); repeats {repeats:?}"
    );
}

/// For each restart, how many lines it shipped again, and over all restarts the largest distance
/// from the end of the earlier output to a line shipped again.
fn repeats_from_the_tail(runs: &[Vec<String>]) -> (Vec<usize>, usize) {
    let mut position: HashMap<&str, usize> = HashMap::new();
    let mut shipped = 0;
    let mut repeats = Vec::new();
    let mut worst = 0;
    for run in runs {
        let end = shipped;
        let mut n = 0;
        for l in run {
            if let Some(&at) = position.get(l.as_str()) {
                if at < end {
                    n += 1;
                    worst = worst.max(end - at);
                }
            }
        }
        for l in run {
            position.insert(l.as_str(), shipped);
            shipped += 1;
        }
        repeats.push(n);
    }
    (repeats, worst)
}

#[test]
fn kill9_at_random_moments_into_elasticsearch_indexes_every_line_once() {
    let seed = seed(22);
    let mut rng = fastrand::Rng::with_seed(seed);
    let (kills, rate) = pick((20, 10_000), (50, 10_000));
    let server = EsServer::start(EsServerOptions {
        faults: Faults {
            delay: Duration::from_millis(20),
            ..Default::default()
        },
        ..Default::default()
    });
    let ws = Workspace::new();
    let config = ws.config(&format!(
        r#"
data_dir = "{{dir}}/data"
shutdown_timeout = "60s"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{{dir}}/logs/app.log*"]
glob_interval = "100ms"
rotate_wait = "1s"
checkpoint_interval = "{CHECKPOINT_MS}ms"
[sinks.es]
type = "elasticsearch"
inputs = ["app"]
endpoints = ["{}"]
batch = {{ max_events = 1000, timeout = "50ms" }}
retry = {{ initial_backoff = "10ms", max_backoff = "200ms" }}
"#,
        server.url()
    ));
    let live = ws.log("app.log");
    std::fs::write(&live, b"").unwrap();
    let writer = Writer::start(live.clone(), rate, rate / 100, Reopen::WhenInodeChanges);
    let rotator = Rotator::start(live.clone(), 200, 700, seed);
    for _ in 0..kills {
        let mut skiff = Skiff::start(&config, &[]);
        std::thread::sleep(Duration::from_millis(rng.u64(0..800)));
        skiff.kill9();
    }
    let rotations = rotator.stop();
    let written = writer.stop();
    let last = run_once(&config, &[]);
    assert_eq!(last.code, 0, "seed {seed}: {}", last.stderr);

    let expected = checked_lines(0..written);
    assert_exactly_once(
        &indexed_messages(&server),
        &expected,
        &format!("seed {seed}, {kills} kills, {rotations} rotations"),
    );
    assert_eq!(
        server.duplicates(),
        0,
        "seed {seed}: an id was written twice"
    );
    let sent = server.bulk_items_received();
    eprintln!(
        "kill -9 into Elasticsearch: {kills} kills, {rotations} rotations, {written} lines indexed once each; {sent} documents sent ({} again after kills)",
        sent.saturating_sub(written)
    );
}
