//! The API over real HTTP: probes through start, steady state and drain; `/metrics` parsed by a
//! Prometheus text parser; a port already taken is a clear startup error.

mod support;

use std::time::Duration;

use support::api::{http_get_accept, PROMETHEUS_ACCEPT};
use support::skiff::Skiff;
use support::wait::wait_until;
use support::workspace::Workspace;
use support::writers::{append, numbered, numbered_len};

fn config(ws: &Workspace, extra: &str) -> std::path::PathBuf {
    ws.config(&format!(
        r#"
data_dir = "{{dir}}/data"
shutdown_timeout = "5s"
{extra}

[api]
address = "127.0.0.1:0"

[sources.app]
type = "file"
include = ["{{dir}}/logs/*.log"]

[sinks.out]
type = "console"
inputs = ["app"]
encoding = "text"
"#
    ))
}

#[test]
fn probes_and_metrics_follow_the_pipeline() {
    let ws = Workspace::new();
    let cfg = config(&ws, "");
    let log = ws.log("app.log");
    let file = log.to_str().unwrap();
    append(&log, &numbered("line", 0..1000));
    let mut skiff = Skiff::start(&cfg, &[]);

    assert!(wait_until(Duration::from_secs(10), || {
        skiff.get("/ready").status == 200
    }));
    let health = skiff.get("/health");
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    skiff.wait_for_lines(1000, Duration::from_secs(10));

    // Counters equal what went through; lag is back to 0 once delivered.
    skiff.wait_for_metric(
        "skiff_file_lag_bytes",
        &[("component", "app"), ("file", file)],
        0.0,
    );
    let m = skiff.scrape();
    let get = |name: &str, component: &str| m.get(name, &[("component", component)]);
    assert_eq!(
        get("skiff_component_sent_events_total", "app"),
        Some(1000.0)
    );
    assert_eq!(
        get("skiff_component_received_events_total", "out"),
        Some(1000.0)
    );
    assert_eq!(
        get("skiff_component_sent_events_total", "out"),
        Some(1000.0)
    );
    assert_eq!(
        get("skiff_source_read_bytes_total", "app"),
        Some((1000 * numbered_len("line")) as f64)
    );
    assert_eq!(get("skiff_files_watched", "app"), Some(1.0));
    assert_eq!(get("skiff_source_unacked_events", "app"), Some(0.0));
    assert_eq!(get("skiff_source_unacked_batches", "app"), Some(0.0));
    assert!(m.get("process_resident_memory_bytes", &[]).unwrap() > 0.0);
    assert!(m.get("process_cpu_seconds_total", &[]).is_some());
    assert_eq!(
        get("skiff_source_oldest_unacked_age_seconds", "app"),
        Some(0.0)
    );
    assert!(get("skiff_sink_send_duration_seconds_count", "out").unwrap() >= 1.0);
    assert_eq!(m.get("skiff_config_reloads_total", &[]), Some(0.0));
    assert_eq!(m.get("skiff_config_reload_failures_total", &[]), Some(0.0));
    assert_eq!(
        m.get(
            "skiff_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    skiff.wait_for_metric_where(
        "skiff_checkpoint_writes_total",
        &[("component", "app")],
        |v| v >= 1.0,
    );
    // The format follows the Accept header, as Prometheus' client library does: OpenMetrics
    // for Prometheus' own Accept, the text format without one.
    let res = http_get_accept(&skiff.api(), "/metrics", Some(PROMETHEUS_ACCEPT)).unwrap();
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text; version=1.0.0")),
        "{:?}",
        res.headers
    );
    assert!(res.body.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    let res = skiff.get("/metrics");
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        res.headers
    );
    assert!(!res.body.contains("# EOF"), "{}", res.body);
    assert!(
        res.body
            .contains("# TYPE skiff_config_reloads_total counter\nskiff_config_reloads_total 0"),
        "{}",
        res.body
    );

    // Steady state: more lines, the same story.
    append(&log, &numbered("line", 1000..1500));
    skiff.wait_for_lines(1500, Duration::from_secs(10));
    skiff.wait_for_metric(
        "skiff_component_sent_events_total",
        &[("component", "out")],
        1500.0,
    );
    skiff.wait_for_metric(
        "skiff_file_lag_bytes",
        &[("component", "app"), ("file", file)],
        0.0,
    );
    assert_eq!(skiff.get("/ready").status, 200);
    assert_eq!(skiff.get("/nope").status, 404);

    let exit = skiff.terminate(Duration::from_secs(10));
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    assert_eq!(exit.lines, numbered("line", 0..1500));
}

#[test]
fn a_taken_port_is_a_startup_error() {
    let ws = Workspace::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let cfg = config(&ws, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("127.0.0.1:0", &addr);
    std::fs::write(&cfg, text).unwrap();
    let exit = Skiff::start(&cfg, &[]).wait_exit(Duration::from_secs(10));
    assert_eq!(exit.code, 1);
    let log = exit.stderr;
    assert!(
        log.contains(&format!(
            "cannot listen on {addr} for the API ([api] address)"
        )),
        "{log}"
    );
    assert!(
        !log.contains("Source started."),
        "nothing starts before the API is bound: {log}"
    );
}

#[test]
fn disabled_api_serves_nothing() {
    let ws = Workspace::new();
    let cfg = config(&ws, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("address = \"127.0.0.1:0\"", "enabled = false");
    std::fs::write(&cfg, text).unwrap();
    append(&ws.log("app.log"), &numbered("line", 0..3));
    let exit = Skiff::start(&cfg, &["--once"]).wait_exit(Duration::from_secs(10));
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    let log = exit.stderr;
    assert!(log.contains("API disabled"), "{log}");
    assert!(!log.contains("API listening."), "{log}");
    assert_eq!(exit.lines, numbered("line", 0..3));
}
