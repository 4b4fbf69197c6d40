//! The metrics adapter (`config/nginx-metrics.toml`) end to end: nginx access lines with a known
//! split of statuses, methods and request times go in; a real Prometheus scrapes skiff and its
//! HTTP API must answer exactly what was written. A restart starts the counters from zero and
//! counts no line of the previous run again.
//!
//! Needs the `prometheus` binary (Debian's package; `.ci/run` installs it).

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::prometheus::Prometheus;
use support::skiff::Skiff;
use support::wait::wait_until;
use support::workspace::Workspace;
use support::writers::append;

const WAIT: Duration = Duration::from_secs(30);

fn config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/nginx-metrics.toml")
}

/// Line `i` of the known traffic: 70% `GET 200` in 0.020 s, 20% `GET 404` in 0.200 s, 10%
/// `POST 500` in 1.200 s; body sizes 1000, 100 and 10 bytes.
fn access_line(i: usize) -> String {
    let (method, status, bytes, time) = match i % 10 {
        0..=6 => ("GET", 200, 1000, "0.020"),
        7 | 8 => ("GET", 404, 100, "0.200"),
        _ => ("POST", 500, 10, "1.200"),
    };
    format!(
        "10.0.0.{} - - [02/Dec/2026:13:00:{:02} +0000] \"{method} /item/{i} HTTP/1.1\" {status} {bytes} \"-\" \"load/1.0\" {time}",
        i % 250,
        i % 60
    )
}

fn lines(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(access_line).collect()
}

fn start(ws: &Workspace) -> Skiff {
    let log = ws.log("access.log");
    let data = ws.data();
    Skiff::start_with_env(
        &config(),
        &[],
        &[
            ("NGINX_LOG", log.to_str().unwrap()),
            ("SKIFF_DATA_DIR", data.to_str().unwrap()),
            ("SKIFF_API_ADDRESS", "127.0.0.1:0"),
        ],
    )
}

#[test]
fn prometheus_scrapes_exactly_what_nginx_logged() {
    let ws = Workspace::new();
    append(&ws.log("access.log"), &lines(0..1000));
    let skiff = start(&ws);
    skiff.wait_for_metric(
        "skiff_component_discarded_events_total",
        &[("component", "nginx_metrics"), ("reason", "consumed")],
        1000.0,
    );
    let api = skiff.api();
    let prometheus = Prometheus::start(&api);
    // Two scrapes that saw every line.
    let scraped = wait_until(WAIT, || {
        prometheus.value("count_over_time(nginx_http_requests_total{status=\"200\"}[5m])")
            >= Some(2.0)
    });
    assert!(scraped, "prometheus did not scrape skiff twice at {api}");

    assert_eq!(
        prometheus.value("sum(nginx_http_requests_total)"),
        Some(1000.0)
    );
    assert_eq!(
        prometheus.values_by(
            "sum by (status, method) (nginx_http_requests_total)",
            "status"
        ),
        [
            ("200".to_owned(), 700.0),
            ("404".to_owned(), 200.0),
            ("500".to_owned(), 100.0)
        ]
    );
    let bucket = |le: &str| {
        prometheus.value(&format!(
            "nginx_http_request_duration_seconds_bucket{{le=\"{le}\"}}"
        ))
    };
    assert_eq!(bucket("0.025"), Some(700.0));
    assert_eq!(bucket("0.25"), Some(900.0));
    assert_eq!(bucket("1.0"), Some(900.0));
    assert_eq!(bucket("+Inf"), Some(1000.0));
    assert_eq!(
        prometheus.value("nginx_http_request_duration_seconds_count"),
        Some(1000.0)
    );
    assert_eq!(
        prometheus.value("sum(nginx_http_response_bytes_total)"),
        Some(700.0 * 1000.0 + 200.0 * 100.0 + 100.0 * 10.0)
    );
}

#[test]
fn a_restart_starts_from_zero_and_counts_no_line_twice() {
    let ws = Workspace::new();
    let log = ws.log("access.log");
    append(&log, &lines(0..100));
    let mut skiff = start(&ws);
    skiff.wait_for_metric("nginx_http_requests_total", &[("status", "200")], 70.0);
    skiff.wait_for_metric_where(
        "skiff_checkpoint_writes_total",
        &[("component", "nginx")],
        |v| v >= 1.0,
    );
    assert!(skiff.terminate(WAIT).success(), "{}", skiff.stderr());

    append(&log, &lines(100..110));
    let skiff = start(&ws);
    // The ten new lines only: the checkpoint holds what the first run counted.
    skiff.wait_for_metric("nginx_http_requests_total", &[("status", "200")], 7.0);
    skiff.wait_for_metric(
        "skiff_component_discarded_events_total",
        &[("component", "nginx_metrics"), ("reason", "consumed")],
        10.0,
    );
    let m = skiff.scrape();
    assert_eq!(
        m.get("nginx_http_requests_total", &[("status", "404")]),
        Some(2.0)
    );
    assert_eq!(
        m.get("nginx_http_requests_total", &[("status", "500")]),
        Some(1.0)
    );
}

#[test]
fn a_reload_keeps_unchanged_metrics_and_counts_nothing_twice() {
    let ws = Workspace::new();
    let log = ws.log("access.log");
    append(&log, &lines(0..100));
    let text = std::fs::read_to_string(config()).unwrap();
    let config = ws.write("skiff.toml", &text);
    let data = ws.data();
    let skiff = Skiff::start_with_env(
        &config,
        &[],
        &[
            ("NGINX_LOG", log.to_str().unwrap()),
            ("SKIFF_DATA_DIR", data.to_str().unwrap()),
            ("SKIFF_API_ADDRESS", "127.0.0.1:0"),
        ],
    );
    skiff.wait_for_metric("nginx_http_requests_total", &[("status", "200")], 70.0);

    // A new metric, and the bytes counter's help changed: its definition is not the same.
    let changed = text.replace(
        "help = \"Response body bytes nginx sent ($body_bytes_sent), by status.\"",
        "help = \"Bytes sent.\"",
    ) + "\n[[transforms.nginx_metrics.metrics]]\nname = \"nginx_http_server_errors_total\"\nkind = \"counter\"\nconditions = [{ field = \"code\", matches = \"^5\" }]\n";
    assert_ne!(changed, text);
    std::fs::write(&config, changed).unwrap();
    skiff.wait_for_metric("skiff_config_reloads_total", &[], 1.0);
    append(&log, &lines(100..110));
    skiff.wait_for_metric("nginx_http_server_errors_total", &[], 1.0);
    skiff.wait_for_metric("nginx_http_requests_total", &[("status", "200")], 77.0);
    let m = skiff.scrape();
    assert_eq!(
        m.get("nginx_http_requests_total", &[("status", "500")]),
        Some(11.0),
        "kept across the reload, each line counted once"
    );
    assert_eq!(
        m.get("nginx_http_response_bytes_total", &[("status", "500")]),
        Some(10.0),
        "a changed definition starts again: only the line read after the reload"
    );
}
