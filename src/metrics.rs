//! skiff's own metrics, in one process-wide registry, exposed by the API as Prometheus text.
//!
//! Components update them per batch, never per event. Names follow Prometheus conventions: a
//! `skiff_` prefix, `_total` on counters (added by the encoder), base units (`_bytes`,
//! `_seconds`). The registry outlives topologies, so a config reload keeps the counts.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// Label pairs, e.g. `[("component", "app_logs")]`.
pub type Labels = Vec<(&'static str, String)>;

type Counters = Family<Labels, Counter>;
type Gauges = Family<Labels, Gauge>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// Every metric skiff exports.
pub struct Metrics {
    registry: Registry,
    /// Events a component received.
    pub events_in: Counters,
    /// Events a component passed on (or, for sinks, delivered).
    pub events_out: Counters,
    /// Events a component dropped on purpose or could not handle, by `reason`.
    pub events_dropped: Counters,
    /// Bytes read from files.
    pub bytes_read: Counters,
    /// Files a source has open.
    pub files_watched: Gauges,
    /// Per file: bytes in the file not yet acknowledged by every sink.
    pub file_lag_bytes: Gauges,
    /// Events read by a source and not yet acknowledged.
    pub events_unacked: Gauges,
    /// Batches sent by a source and not yet acknowledged.
    pub batches_unacked: Gauges,
    /// Age of the oldest batch a source read and that is not yet acknowledged.
    pub oldest_unacked_age_seconds: Family<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    /// Checkpoint files written.
    pub checkpoint_writes: Counters,
    /// Checkpoint writes that failed.
    pub checkpoint_write_failures: Counters,
    /// Matched paths a source cannot follow, by `reason`, counted when a problem starts.
    pub file_errors: Counters,
    /// Lines that were invalid UTF-8 or too long (per reason).
    pub line_problems: Counters,
    /// Events a transform kept despite a problem (a value that did not parse), by `reason`.
    pub transform_errors: Counters,
    /// Elasticsearch requests by HTTP status (`error` for transport errors).
    pub es_requests: Counters,
    /// Elasticsearch bulk items that failed, by error type.
    pub es_item_errors: Counters,
    /// Requests of the `http` sink, by HTTP status (`error`: no answer).
    pub http_requests: Counters,
    /// Items or requests sent again.
    pub retries: Counters,
    /// Events written to the dead-letter file.
    pub dead_letters: Counters,
    /// Time to deliver one batch to a sink.
    pub send_duration_seconds: Histograms,
    /// New series a `log_to_metric` metric refused (over its `max_series`), by `metric`.
    pub log_metric_refused_series: Counters,
    /// Events whose value a `log_to_metric` metric could not read as a number, by `metric`.
    pub log_metric_invalid_values: Counters,
    /// Config reloads applied.
    pub config_reloads: Counter,
    /// Config reloads refused (invalid config).
    pub config_reload_failures: Counter,
    /// Per source: when its oldest unacknowledged batch was read. The age gauge is computed from
    /// it at encode time, so it keeps growing while a stuck source cannot update it.
    oldest_unacked_since: Mutex<HashMap<Labels, Instant>>,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Metrics {
    fn new() -> Metrics {
        // skiff's own metrics under `skiff_`; the process's under the standard `process_`.
        let mut root = Registry::default();
        root.register_collector(Box::new(crate::process_metrics::ProcessCollector));
        let registry = root.sub_registry_with_prefix("skiff");
        let m = Metrics {
            events_in: Counters::default(),
            events_out: Counters::default(),
            events_dropped: Counters::default(),
            bytes_read: Counters::default(),
            files_watched: Gauges::default(),
            file_lag_bytes: Gauges::default(),
            events_unacked: Gauges::default(),
            batches_unacked: Gauges::default(),
            oldest_unacked_age_seconds: Family::default(),
            checkpoint_writes: Counters::default(),
            checkpoint_write_failures: Counters::default(),
            file_errors: Counters::default(),
            line_problems: Counters::default(),
            transform_errors: Counters::default(),
            es_requests: Counters::default(),
            es_item_errors: Counters::default(),
            http_requests: Counters::default(),
            retries: Counters::default(),
            dead_letters: Counters::default(),
            send_duration_seconds: Family::new_with_constructor(latency_histogram),
            log_metric_refused_series: Counters::default(),
            log_metric_invalid_values: Counters::default(),
            config_reloads: Counter::default(),
            config_reload_failures: Counter::default(),
            oldest_unacked_since: Mutex::default(),
            registry: Registry::default(),
        };
        let r = registry;
        r.register(
            "component_received_events",
            "Events a component received",
            m.events_in.clone(),
        );
        r.register(
            "component_sent_events",
            "Events a component passed on or delivered",
            m.events_out.clone(),
        );
        r.register(
            "component_discarded_events",
            "Events dropped, by reason",
            m.events_dropped.clone(),
        );
        r.register(
            "source_read_bytes",
            "Bytes read from files",
            m.bytes_read.clone(),
        );
        r.register(
            "source_line_problems",
            "Lines cut at max_line_bytes or with invalid UTF-8, by reason",
            m.line_problems.clone(),
        );
        r.register(
            "transform_errors",
            "Events a transform kept despite a problem, marked with _skiff_error, by reason",
            m.transform_errors.clone(),
        );
        r.register(
            "files_watched",
            "Files a source has open",
            m.files_watched.clone(),
        );
        r.register(
            "file_lag_bytes",
            "Bytes of a file not yet acknowledged by every sink",
            m.file_lag_bytes.clone(),
        );
        r.register(
            "source_unacked_events",
            "Events read and not yet acknowledged",
            m.events_unacked.clone(),
        );
        r.register(
            "source_unacked_batches",
            "Batches read and not yet acknowledged",
            m.batches_unacked.clone(),
        );
        r.register(
            "source_oldest_unacked_age_seconds",
            "Age of the oldest read batch not yet acknowledged",
            m.oldest_unacked_age_seconds.clone(),
        );
        r.register(
            "checkpoint_writes",
            "Checkpoint files written",
            m.checkpoint_writes.clone(),
        );
        r.register(
            "checkpoint_write_failures",
            "Checkpoint writes that failed",
            m.checkpoint_write_failures.clone(),
        );
        r.register(
            "source_file_errors",
            "Matched paths a source cannot follow (open, stat, read, not a file), by reason",
            m.file_errors.clone(),
        );
        r.register(
            "elasticsearch_requests",
            "Elasticsearch requests by HTTP status",
            m.es_requests.clone(),
        );
        r.register(
            "elasticsearch_item_errors",
            "Bulk items rejected, by error type",
            m.es_item_errors.clone(),
        );
        r.register(
            "http_requests",
            "Requests of the http sink by HTTP status",
            m.http_requests.clone(),
        );
        r.register(
            "sink_retries",
            "Items or requests sent again",
            m.retries.clone(),
        );
        r.register(
            "dead_letters",
            "Events written to the dead-letter file",
            m.dead_letters.clone(),
        );
        r.register(
            "sink_send_duration_seconds",
            "Time to deliver one batch",
            m.send_duration_seconds.clone(),
        );
        r.register(
            "log_metric_refused_series",
            "New series of a log-derived metric refused over its max_series, by metric",
            m.log_metric_refused_series.clone(),
        );
        r.register(
            "log_metric_invalid_values",
            "Events whose value a log-derived metric could not read as a number, by metric",
            m.log_metric_invalid_values.clone(),
        );
        r.register(
            "config_reloads",
            "Config reloads applied",
            m.config_reloads.clone(),
        );
        r.register(
            "config_reload_failures",
            "Config reloads refused",
            m.config_reload_failures.clone(),
        );
        r.register(
            "build",
            "skiff build information",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION").to_owned())]),
        );
        Metrics {
            registry: root,
            ..m
        }
    }

    /// Records when the oldest batch of the component `labels` still waiting for its
    /// acknowledgement was read (`None`: nothing is waiting).
    pub fn set_oldest_unacked(&self, labels: &Labels, since: Option<Instant>) {
        let gauge = self.oldest_unacked_age_seconds.get_or_create(labels);
        gauge.set(since.map_or(0.0, |t| t.elapsed().as_secs_f64()));
        if let Ok(mut map) = self.oldest_unacked_since.lock() {
            match since {
                Some(t) => {
                    map.insert(labels.clone(), t);
                }
                None => {
                    map.remove(labels);
                }
            }
        }
    }

    /// The Prometheus text exposition (OpenMetrics 1.0) of every metric.
    pub fn encode(&self) -> String {
        if let Ok(map) = self.oldest_unacked_since.lock() {
            for (labels, since) in map.iter() {
                self.oldest_unacked_age_seconds
                    .get_or_create(labels)
                    .set(since.elapsed().as_secs_f64());
            }
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Labels naming one component.
pub fn component(name: &str) -> Labels {
    vec![("component", name.to_owned())]
}

/// Labels naming one component and one more dimension.
pub fn component_with(name: &str, key: &'static str, value: &str) -> Labels {
    vec![("component", name.to_owned()), (key, value.to_owned())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_with_prefix_and_total_suffix() {
        let m = metrics();
        m.events_in.get_or_create(&component("unit_test")).inc_by(3);
        let text = m.encode();
        assert!(
            text.contains("skiff_component_received_events_total{component=\"unit_test\"} 3"),
            "{text}"
        );
        assert!(text.contains("skiff_build_info{version="), "{text}");
        assert!(
            text.contains("\n# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total "),
            "{text}"
        );
        assert!(text.contains("\nprocess_resident_memory_bytes "), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn oldest_unacked_age_grows_at_encode_time() {
        let m = metrics();
        let labels = component("age_test");
        let since = Instant::now() - std::time::Duration::from_secs(5);
        m.set_oldest_unacked(&labels, Some(since));
        let text = m.encode();
        let line = text
            .lines()
            .find(|l| {
                l.starts_with("skiff_source_oldest_unacked_age_seconds{component=\"age_test\"}")
            })
            .unwrap();
        let age: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(age >= 5.0, "{line}");
        m.set_oldest_unacked(&labels, None);
        assert!(m
            .encode()
            .contains("skiff_source_oldest_unacked_age_seconds{component=\"age_test\"} 0.0"));
    }
}
