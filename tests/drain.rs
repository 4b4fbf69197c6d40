//! Shutdown end to end: SIGTERM with a sink stuck on a full stdout pipe (bounded drain, probes,
//! consistent checkpoints, nothing lost on restart), and the sentinel file ending a Job.

mod support;

use std::io::Read;
use std::time::{Duration, Instant};

use support::skiff::{run_command, Skiff, Stdout};
use support::wait::{wait_until, wait_until_settled};
use support::workspace::Workspace;
use support::writers::{append, numbered, numbered_len};

fn config(ws: &Workspace, extra: &str) -> std::path::PathBuf {
    ws.config(&format!(
        r#"
data_dir = "{{dir}}/data"
{extra}

[api]
address = "127.0.0.1:0"

[sources.app]
type = "file"
include = ["{{dir}}/logs/*.log"]
read_buffer = "4KiB"
checkpoint_interval = "100ms"

[sinks.out]
type = "console"
inputs = ["app"]
encoding = "text"
"#
    ))
}

#[test]
fn sigterm_with_a_stuck_sink_drains_within_the_timeout_and_loses_nothing() {
    const N: usize = 100_000;
    let timeout = Duration::from_secs(2);
    let ws = Workspace::new();
    let cfg = config(&ws, "shutdown_timeout = \"2s\"");
    let log = ws.log("app.log");
    let file = log.to_str().unwrap().to_owned();
    let line_len = numbered_len("line");
    append(&log, &numbered("line", 0..N));
    // Nobody reads stdout: the console sink blocks once the pipe is full.
    let mut skiff = Skiff::spawn(run_command(&cfg, &[]), Stdout::Hold);
    assert!(wait_until(Duration::from_secs(10), || {
        skiff.get("/ready").status == 200
    }));

    // Wait until the pipeline is stuck: delivered events stop moving, lag stays up.
    let last = wait_until_settled(Duration::from_secs(20), Duration::from_millis(150), || {
        skiff
            .scrape()
            .get("skiff_component_sent_events_total", &[("component", "out")])
            .unwrap_or(0.0)
    })
    .expect("delivered events stop moving");
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
    assert!(
        wait_until(Duration::from_secs(1), || skiff.get("/ready").status == 503),
        "/ready turns 503 once the drain starts"
    );
    std::thread::sleep(timeout / 2);
    let draining = skiff.get("/ready");
    assert_eq!(
        (draining.status, draining.body.as_str()),
        (503, "draining\n"),
        "/ready stays 503 while the drain waits on the stuck sink"
    );
    assert_eq!(skiff.get("/health").status, 200, "draining is not dying");
    let exit = skiff.wait_exit(timeout + Duration::from_secs(5));
    let took = t0.elapsed();
    assert_eq!(exit.code, 2, "drain timed out: exit 2\n{}", exit.stderr);
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
    assert_eq!(delivered, numbered("line", 0..delivered.len()));

    // The checkpoint holds only delivered data, at a line boundary.
    let cps = ws.checkpoints("app");
    let (_, offset) = cps.iter().find(|(p, _)| *p == file).unwrap().clone();
    assert!(offset > 0, "delivered data was checkpointed");
    assert_eq!(offset % line_len, 0);
    assert!(
        offset <= delivered.len() as u64 * line_len,
        "checkpoint {offset} is past what was delivered ({} lines)",
        delivered.len()
    );

    // A restart delivers the rest, from the checkpoint on.
    let again = Skiff::start(&cfg, &["--once"]).wait_exit(Duration::from_secs(60));
    assert_eq!(again.code, 0, "{}", again.stderr);
    let first = (offset / line_len) as usize;
    assert_eq!(again.lines, numbered("line", first..N));
    let cps = ws.checkpoints("app");
    assert!(cps.contains(&(file, N as u64 * line_len)), "{cps:?}");
}

#[test]
fn sentinel_file_ends_a_job_after_everything_was_delivered() {
    let ws = Workspace::new();
    let sentinel = ws.path("done");
    let cfg = config(&ws, &format!("exit_on_file = \"{}\"", sentinel.display()));
    let log = ws.log("app.log");
    append(&log, &numbered("line", 0..200));
    let mut skiff = Skiff::start(&cfg, &[]);
    skiff.wait_for_lines(200, Duration::from_secs(10));

    // The app's last words, then its "done" marker, at once: skiff must still ship them.
    append(&log, &numbered("line", 200..3200));
    std::fs::write(&sentinel, b"").unwrap();
    let exit = skiff.wait_exit(Duration::from_secs(15));
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    assert!(
        exit.stderr.contains("Sentinel file found"),
        "{}",
        exit.stderr
    );
    // The exit waits for the stdout reader to get the last bytes the process wrote.
    assert_eq!(exit.lines, numbered("line", 0..3200));
    let cps = ws.checkpoints("app");
    assert_eq!(cps[0].1, 3200 * numbered_len("line"), "{cps:?}");
}
