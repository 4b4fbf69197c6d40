//! `log_to_metric`'s tests: values read back by parsing the exposition with a Prometheus text
//! parser, config errors with their place, consumption with acknowledgements.

use super::*;
use crate::log_metrics::expose::{render, Format};
use crate::transforms::testing::run_lines;

fn build(s: &str) -> Box<dyn Transform> {
    LogToMetricConfig::parse(toml::from_str(s).unwrap())
        .unwrap()
        .build("log_to_metric_test")
}

/// Parses logfmt lines, then runs them through `t`.
fn feed(t: &mut dyn Transform, lines: &[&str]) -> Vec<Batch> {
    let mut parse = crate::transforms::parse_logfmt::ParseLogfmtConfig::parse(toml::Table::new())
        .unwrap()
        .build("log_to_metric_test_parse");
    let mut out = Vec::new();
    for b in run_lines(parse.as_mut(), lines) {
        t.transform(b, &mut out);
    }
    out
}

/// The log-derived metrics, parsed as Prometheus text and as OpenMetrics.
fn scrape() -> Vec<prometheus_parse::Scrape> {
    [Format::Text, Format::OpenMetrics]
        .into_iter()
        .map(|f| {
            let text = render(None, true, f);
            prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
        })
        .collect()
}

/// The value of `name{labels}` in every format (asserting they agree).
fn value(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let values: Vec<Option<f64>> = scrape()
        .iter()
        .map(|s| {
            s.samples.iter().find_map(|x| {
                let same = x.metric == name
                    && x.labels.len() == labels.len()
                    && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v));
                if !same {
                    return None;
                }
                match &x.value {
                    prometheus_parse::Value::Counter(v)
                    | prometheus_parse::Value::Gauge(v)
                    | prometheus_parse::Value::Untyped(v) => Some(*v),
                    _ => None,
                }
            })
        })
        .collect();
    assert_eq!(values[0], values[1], "text and OpenMetrics agree on {name}");
    values[0]
}

/// A histogram's buckets `(le, cumulative count)`, its sum and count.
fn histogram(name: &str, labels: &[(&str, &str)]) -> (Vec<(f64, f64)>, f64, f64) {
    let scrape = &scrape()[0];
    let sample = |suffix: &str| value(&format!("{name}{suffix}"), labels).unwrap();
    let buckets = scrape
        .samples
        .iter()
        .find_map(|x| match &x.value {
            prometheus_parse::Value::Histogram(h)
                if x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)) =>
            {
                Some(h.iter().map(|b| (b.less_than, b.count)).collect())
            }
            _ => None,
        })
        .unwrap_or_default();
    (buckets, sample("_sum"), sample("_count"))
}

#[test]
fn counters_count_events_or_sum_a_field_by_labels() {
    let mut t = build(
        r#"
[[metrics]]
name = "ltm_requests_total"
kind = "counter"
labels = { status = "{{ status }}", method = "{{ method }}" }
[[metrics]]
name = "ltm_bytes_total"
kind = "counter"
field = "bytes"
help = "Bytes sent."
[[metrics]]
name = "ltm_errors_total"
kind = "counter"
conditions = [{ field = "status", matches = "^5" }]
labels = { route = "/{{ path }}" }
"#,
    );
    feed(
        t.as_mut(),
        &[
            "status=200 method=GET bytes=10 path=a",
            "status=200 method=GET bytes=5.5 path=a",
            "status=500 method=POST bytes=1 path=b",
            "status=503 method=GET bytes=x path=b",
        ],
    );
    assert_eq!(
        value(
            "ltm_requests_total",
            &[("status", "200"), ("method", "GET")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            "ltm_requests_total",
            &[("status", "500"), ("method", "POST")]
        ),
        Some(1.0)
    );
    assert_eq!(value("ltm_bytes_total", &[]), Some(16.5));
    assert_eq!(value("ltm_errors_total", &[("route", "/b")]), Some(2.0));
    assert_eq!(value("ltm_errors_total", &[("route", "/a")]), None);
    assert!(crate::metrics::metrics().encode().contains(
        "skiff_log_metric_invalid_values_total{component=\"log_to_metric_test\",metric=\"ltm_bytes_total\"} 1"
    ));
}

#[test]
fn gauges_set_or_add() {
    let mut t = build(
        r#"
[[metrics]]
name = "ltm_queue_depth"
kind = "gauge"
field = "depth"
labels = { q = "{{ q }}" }
[[metrics]]
name = "ltm_in_flight"
kind = "gauge"
mode = "add"
field = "delta"
"#,
    );
    feed(
        t.as_mut(),
        &[
            "q=a depth=3 delta=1",
            "q=a depth=7 delta=1",
            "q=b depth=1 delta=-1",
        ],
    );
    feed(t.as_mut(), &["q=a depth=4 delta=1"]);
    assert_eq!(value("ltm_queue_depth", &[("q", "a")]), Some(4.0));
    assert_eq!(value("ltm_queue_depth", &[("q", "b")]), Some(1.0));
    assert_eq!(value("ltm_in_flight", &[]), Some(2.0));
}

#[test]
fn histograms_count_into_cumulative_buckets() {
    let mut t = build(
        r#"
[[metrics]]
name = "ltm_duration_seconds"
kind = "histogram"
field = "t"
buckets = [0.1, 0.5, 1]
"#,
    );
    feed(t.as_mut(), &["t=0.05", "t=0.1", "t=0.3", "t=2", "t=0.7"]);
    let (buckets, sum, count) = histogram("ltm_duration_seconds", &[]);
    assert_eq!(
        buckets,
        [(0.1, 2.0), (0.5, 3.0), (1.0, 4.0), (f64::INFINITY, 5.0)]
    );
    assert!((sum - 3.15).abs() < 1e-9, "{sum}");
    assert_eq!(count, 5.0);
}

#[test]
fn consume_empties_the_batch_and_keeps_its_acknowledgements() {
    let mut t = build(
        r#"
consume = true
[[metrics]]
name = "ltm_consumed_total"
kind = "counter"
"#,
    );
    let out = feed(t.as_mut(), &["a", "b"]);
    assert_eq!(out.len(), 1, "the batch travels on");
    assert!(out[0].is_empty());
    assert_eq!(value("ltm_consumed_total", &[]), Some(2.0));
    assert!(crate::metrics::metrics().encode().contains(
        "skiff_component_discarded_events_total{component=\"log_to_metric_test\",reason=\"consumed\"} 2"
    ));
    let mut pass = build("[[metrics]]\nname = \"ltm_passed_total\"\nkind = \"counter\"");
    let out = feed(pass.as_mut(), &["a", "b"]);
    assert_eq!(out[0].len(), 2, "events pass on by default");
}

#[test]
fn workers_share_one_series() {
    let config = LogToMetricConfig::parse(
        toml::from_str("[[metrics]]\nname = \"ltm_shared_total\"\nkind = \"counter\"").unwrap(),
    )
    .unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let mut t = config.build("log_to_metric_test");
            s.spawn(move || {
                for _ in 0..250 {
                    feed(t.as_mut(), &["a", "b", "c", "d"]);
                }
            });
        }
    });
    assert_eq!(value("ltm_shared_total", &[]), Some(4000.0));
}

#[test]
fn the_cardinality_limit_refuses_and_counts() {
    let mut t = build(
        r#"
max_series = 3
[[metrics]]
name = "ltm_users_total"
kind = "counter"
labels = { user = "{{ user }}" }
"#,
    );
    let lines: Vec<String> = (0..10).map(|i| format!("user=u{i}")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    feed(t.as_mut(), &lines);
    let family = store().get("ltm_users_total").unwrap();
    assert_eq!(family.len(), 3);
    assert!(crate::metrics::metrics().encode().contains(
        "skiff_log_metric_refused_series_total{component=\"log_to_metric_test\",metric=\"ltm_users_total\"} 7"
    ));
}

#[test]
fn a_reload_keeps_unchanged_metrics_and_resets_changed_ones() {
    let one = "[[metrics]]\nname = \"ltm_reload_total\"\nkind = \"counter\"";
    let mut t = build(one);
    feed(t.as_mut(), &["a", "b"]);
    drop(t);
    let mut t = build(one);
    feed(t.as_mut(), &["c"]);
    assert_eq!(value("ltm_reload_total", &[]), Some(3.0));
    drop(t);
    let mut t = build(&format!("{one}\nhelp = \"changed\""));
    feed(t.as_mut(), &["d"]);
    assert_eq!(value("ltm_reload_total", &[]), Some(1.0));
}

#[test]
fn config_errors_name_the_key() {
    let err = |s: &str| LogToMetricConfig::parse(toml::from_str(s).unwrap()).unwrap_err();
    let metric = |body: &str| err(&format!("[[metrics]]\n{body}"));
    assert_eq!(err("metrics = []").path, ["metrics"]);
    let e = metric("name = \"1bad_total\"\nkind = \"counter\"");
    assert_eq!(e.path, ["metrics", "0", "name"]);
    assert!(
        e.message.contains("Prometheus metric name"),
        "{}",
        e.message
    );
    assert_eq!(
        metric("name = \"requests\"\nkind = \"counter\"").path,
        ["metrics", "0", "name"]
    );
    assert_eq!(
        metric("name = \"skiff_x_total\"\nkind = \"counter\"").path,
        ["metrics", "0", "name"]
    );
    assert_eq!(
        metric("name = \"x_total\"\nkind = \"counter\"\nlabels = { \"a-b\" = \"x\" }").path,
        ["metrics", "0", "labels", "a-b"]
    );
    assert_eq!(
        metric("name = \"x_total\"\nkind = \"counter\"\nlabels = { __a = \"x\" }").path,
        ["metrics", "0", "labels", "__a"]
    );
    assert_eq!(
        metric("name = \"x\"\nkind = \"histogram\"\nfield = \"t\"\nbuckets = [1, 0.5]").path,
        ["metrics", "0", "buckets", "1"]
    );
    assert_eq!(
        metric("name = \"x\"\nkind = \"histogram\"\nfield = \"t\"\nbuckets = []").path,
        ["metrics", "0", "buckets"]
    );
    assert_eq!(
        metric("name = \"x\"\nkind = \"histogram\"\nfield = \"t\"\nbuckets = [1]\nlabels = { le = \"a\" }").path,
        ["metrics", "0", "labels", "le"]
    );
    assert_eq!(
        metric("name = \"x\"\nkind = \"gauge\"").path,
        ["metrics", "0"]
    );
    assert_eq!(
        metric("name = \"x_total\"\nkind = \"counter\"\nbuckets = [1]").path,
        ["metrics", "0", "buckets"]
    );
    assert_eq!(
        metric("name = \"x_total\"\nkind = \"summary\"").path,
        ["metrics", "0", "kind"]
    );
    assert_eq!(
        metric("name = \"x_total\"\nkind = \"counter\"\nconditions = [{ field = \"a\" }]").path,
        ["metrics", "0", "conditions", "0"]
    );
    assert_eq!(
        metric("name = \"x_total\"\nkind = \"counter\"\nlabels = { a = \"{{ b\" }").path,
        ["metrics", "0", "labels", "a"]
    );
    assert_eq!(
        err("[[metrics]]\nname = \"x_total\"\nkind = \"counter\"\n[[metrics]]\nname = \"x_total\"\nkind = \"counter\"").path,
        ["metrics", "1", "name"]
    );
}

#[test]
fn config_errors_carry_line_and_column() {
    let text = "[sources.a]\ntype = \"file\"\ninclude = [\"/x/*.log\"]\n[transforms.m]\ntype = \"log_to_metric\"\ninputs = [\"a\"]\n[[transforms.m.metrics]]\nname = \"bad-name_total\"\nkind = \"counter\"\n[sinks.b]\ntype = \"blackhole\"\ninputs = [\"m\"]\n";
    let err = crate::components::load_str(std::path::Path::new("s.toml"), text, |_| None)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("s.toml:8:"), "{err}");
    assert!(err.contains("transforms.m.metrics.0.name"), "{err}");
}
