//! Shutdown end to end: SIGTERM with a sink stuck on a full stdout pipe (bounded drain, probes,
//! consistent checkpoints, nothing lost on restart), and the sentinel file ending a Job.

mod ops_support;

use std::io::Read;
use std::time::{Duration, Instant};

use ops_support::{append_lines, checkpoints, expected, write_config, Skiff, Stdout, LINE_LEN};

fn config(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
data_dir = "{dir}/data"
{extra}

[api]
address = "127.0.0.1:0"

[sources.app]
type = "file"
include = ["{dir}/logs/*.log"]
read_buffer = "4KiB"
checkpoint_interval = "100ms"

[sinks.out]
type = "console"
inputs = ["app"]
encoding = "text"
"#,
        dir = dir.display()
    );
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    write_config(&dir.join("skiff.toml"), &text)
}

#[test]
fn sigterm_with_a_stuck_sink_drains_within_the_timeout_and_loses_nothing() {
    const N: usize = 100_000;
    let timeout = Duration::from_secs(2);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "shutdown_timeout = \"2s\"");
    let log = dir.path().join("logs/app.log");
    let file = log.to_str().unwrap().to_owned();
    append_lines(&log, 0, N);
    // Nobody reads stdout: the console sink blocks once the pipe is full.
    let mut skiff = Skiff::start(&cfg, &[], Stdout::Hold);
    ops_support::wait_until(Duration::from_secs(10), || {
        skiff.get("/ready").status == 200
    })
    .unwrap();

    // Wait until the pipeline is stuck: delivered events stop moving, lag stays up.
    let mut last = -1.0;
    ops_support::wait_until(Duration::from_secs(20), || {
        std::thread::sleep(Duration::from_millis(150));
        let now = skiff
            .scrape()
            .get("skiff_component_sent_events_total", &[("component", "out")])
            .unwrap_or(0.0);
        let stuck = now > 0.0 && now == last;
        last = now;
        stuck
    })
    .unwrap();
    let lag = skiff
        .scrape()
        .get(
            "skiff_file_lag_bytes",
            &[("component", "app"), ("file", &file)],
        )
        .unwrap();
    assert!(lag > 0.0, "undelivered bytes show as lag");
    assert!((last as usize) < N, "the sink is stuck before the end");

    skiff.signal("TERM");
    let t0 = Instant::now();
    ops_support::wait_until(Duration::from_secs(1), || skiff.get("/ready").status == 503)
        .expect("/ready turns 503 once the drain starts");
    std::thread::sleep(timeout / 2);
    let draining = skiff.get("/ready");
    assert_eq!(
        (draining.status, draining.body.as_str()),
        (503, "draining\n"),
        "/ready stays 503 while the drain waits on the stuck sink"
    );
    assert_eq!(skiff.get("/health").status, 200, "draining is not dying");
    let status = skiff.wait_exit(timeout + Duration::from_secs(5));
    let took = t0.elapsed();
    assert_eq!(
        status.code(),
        Some(2),
        "drain timed out: exit 2\n{}",
        skiff.log()
    );
    assert!(took >= timeout, "waited for the drain: {took:?}");
    assert!(took < timeout + Duration::from_secs(2), "bounded: {took:?}");

    // What reached the pipe, in order; the last line may be cut mid-write.
    let mut out = String::new();
    skiff.take_stdout().read_to_string(&mut out).unwrap();
    let delivered: Vec<String> = out
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| l.trim_end().to_owned())
        .collect();
    assert_eq!(delivered, expected(0, delivered.len()));

    // The checkpoint holds only delivered data, at a line boundary.
    let cps = checkpoints(&dir.path().join("data"), "app");
    let (_, offset) = cps.iter().find(|(p, _)| *p == file).unwrap().clone();
    assert!(offset > 0, "delivered data was checkpointed");
    assert_eq!(offset % LINE_LEN, 0);
    assert!(
        offset <= delivered.len() as u64 * LINE_LEN,
        "checkpoint {offset} is past what was delivered ({} lines)",
        delivered.len()
    );

    // A restart delivers the rest, from the checkpoint on.
    let mut again = Skiff::start(&cfg, &["--once"], Stdout::Collect);
    assert_eq!(
        again.wait_exit(Duration::from_secs(60)).code(),
        Some(0),
        "{}",
        again.log()
    );
    let first = (offset / LINE_LEN) as usize;
    assert_eq!(again.lines(), expected(first, N));
    let cps = checkpoints(&dir.path().join("data"), "app");
    assert!(cps.contains(&(file, N as u64 * LINE_LEN)), "{cps:?}");
}

#[test]
fn sentinel_file_ends_a_job_after_everything_was_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let sentinel = dir.path().join("done");
    let cfg = config(
        dir.path(),
        &format!("exit_on_file = \"{}\"", sentinel.display()),
    );
    let log = dir.path().join("logs/app.log");
    append_lines(&log, 0, 200);
    let skiff = Skiff::start(&cfg, &[], Stdout::Collect);
    skiff.wait_for_lines(200, Duration::from_secs(10));

    // The app's last words, then its "done" marker, at once: skiff must still ship them.
    append_lines(&log, 200, 3000);
    std::fs::write(&sentinel, b"").unwrap();
    let mut skiff = skiff;
    let status = skiff.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{}", skiff.log());
    assert!(
        skiff.log().contains("Sentinel file found"),
        "{}",
        skiff.log()
    );
    // Give the stdout reader thread the last bytes the process wrote.
    skiff.wait_for_lines(3200, Duration::from_secs(5));
    assert_eq!(skiff.lines(), expected(0, 3200));
    let cps = checkpoints(&dir.path().join("data"), "app");
    assert_eq!(cps[0].1, 3200 * LINE_LEN, "{cps:?}");
}
