//! The Grafana dashboard (`dashboards/skiff.json`) against a real Prometheus: every PromQL
//! expression of every panel parses and returns data from a real Prometheus scraping a running
//! skiff that ships to the in-process Elasticsearch server, with traffic that makes every series
//! exist (a mapping conflict for dead letters, 429s for retries, a long line, a directory where
//! a file is expected).
//!
//! Needs the `prometheus` binary (Debian's package; `.ci/run` installs it).

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::es_server::{EsServer, EsServerOptions, Faults};
use support::prometheus::Prometheus;
use support::skiff::Skiff;
use support::wait::wait_until;

const WAIT: Duration = Duration::from_secs(20);

/// Every panel of the dashboard (rows' panels included) and every expression of each.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in dashboard["panels"].as_array().expect("panels") {
        out.push(p);
        if let Some(inner) = p["panels"].as_array() {
            out.extend(inner.iter());
        }
    }
    out
}

/// The expression as Grafana would send it: variables replaced by what they stand for.
fn concrete(expr: &str) -> String {
    expr.replace("$__rate_interval", "5s")
        .replace("$instance", ".*")
}

/// Sends a bulk body straight to the server (to map `message` as a number).
fn seed_mapping(url: &str) {
    let body = "{\"create\":{\"_index\":\"logs\",\"_id\":\"seed\"}}\n{\"message\":1}\n";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/_bulk"))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert!(status.is_success(), "{status}");
}

/// Starts skiff with traffic that makes every series of the dashboard exist.
fn skiff_with_traffic(dir: &Path, server: &EsServer) -> Skiff {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // A directory where a file is expected: a source file error.
    std::fs::create_dir_all(logs.join("not-a-file.log")).unwrap();
    let long = format!("{{\"message\":\"{}\"}}", "x".repeat(2000));
    let lines = [
        "{\"message\":10}",
        "{\"message\":\"not a number\"}",
        "not json",
        long.as_str(),
        "{\"message\":20}",
    ];
    std::fs::write(logs.join("app.log"), lines.join("\n") + "\n").unwrap();
    let config = dir.join("skiff.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\n[api]\naddress = \"127.0.0.1:0\"\n\
             [sources.app]\ntype = \"file\"\ninclude = [{glob:?}]\nglob_interval = \"200ms\"\n\
             max_line_bytes = \"1KiB\"\n\
             [transforms.parse]\ntype = \"parse_json\"\ninputs = [\"app\"]\n\
             [sinks.es]\ntype = \"elasticsearch\"\ninputs = [\"parse\"]\nendpoints = [{url:?}]\n\
             index = \"logs\"\nbatch = {{ timeout = \"100ms\" }}\n",
            data = dir.join("data").display().to_string(),
            glob = logs.join("*.log").display().to_string(),
            url = server.url(),
        ),
    )
    .unwrap();
    // The first request is refused whole, and two items of the next one: retries.
    server.set_faults(Faults {
        status_429_next: 1,
        item_429_next: 2,
        ..Faults::default()
    });
    Skiff::start(&config, &[])
}

#[test]
fn every_dashboard_query_returns_data_from_a_real_prometheus() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards/skiff.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .expect("dashboards/skiff.json is JSON");
    assert_eq!(dashboard["uid"], "skiff-agent");
    let mut exprs = Vec::new();
    for p in panels(&dashboard) {
        let title = p["title"].as_str().unwrap_or_default();
        assert!(!title.is_empty(), "a panel without a title: {p}");
        if p["type"] == "row" {
            continue;
        }
        assert!(p["description"].is_string(), "{title}: no description");
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title}");
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no query");
        for t in targets {
            let expr = t["expr"].as_str().expect("expr");
            exprs.push((title.to_owned(), expr.to_owned()));
        }
    }
    assert!(exprs.len() >= 20, "{}", exprs.len());

    let server = EsServer::start(EsServerOptions::default());
    seed_mapping(&server.url());
    let dir = tempfile::tempdir().unwrap();
    let skiff = skiff_with_traffic(dir.path(), &server);
    let api = skiff.api();
    // Three documents indexed (the seed, 10, 20), the rest refused for good.
    assert!(
        wait_until(WAIT, || server.total_docs() >= 3),
        "{}",
        skiff.stderr()
    );
    let prometheus = Prometheus::start(&api);
    let scraped = wait_until(WAIT, || {
        prometheus
            .query("count_over_time(skiff_build_info[1m])")
            .ok()
            .and_then(|r| r.first().cloned())
            .and_then(|s| s["value"][1].as_str().map(str::to_owned))
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|n| n >= 3.0)
    });
    assert!(scraped, "prometheus did not scrape skiff at {api}");

    let mut failures = Vec::new();
    for (title, expr) in &exprs {
        let q = concrete(expr);
        let mut last = Ok(Vec::new());
        let found = wait_until(Duration::from_secs(5), || {
            last = prometheus.query(&q);
            last.as_ref().is_ok_and(|r| !r.is_empty())
        });
        if !found {
            failures.push(format!("{title}: {q}: {last:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "queries without data:\n{}\nskiff log:\n{}",
        failures.join("\n"),
        skiff.stderr()
    );
}
