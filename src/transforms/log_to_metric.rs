//! `log_to_metric`: Prometheus metrics made from events (Vector's `log_to_metric`, Fluent Bit's
//! `log_to_metrics`, mtail).
//!
//! ```toml
//! [transforms.nginx_metrics]
//! type = "log_to_metric"
//! inputs = ["access"]
//! consume = true                      # events only feed metrics (default false: pass on)
//! [[transforms.nginx_metrics.metrics]]
//! name = "nginx_http_requests_total"
//! kind = "counter"                    # count events, or sum `field`
//! labels = { status = "{{ code }}", method = "{{ method }}" }
//! ```
//!
//! Each metric is a counter (count events, or sum a numeric `field`), a gauge (`mode = "set"`
//! or `"add"` the `field`) or a histogram (`field` observed into explicit `buckets`). Label
//! values are templates ([`super::template`]); `conditions` select events as `filter`'s do.
//! Names, label names and buckets follow Prometheus' rules, checked at load.
//!
//! The series live in the process-wide [`crate::log_metrics`] store, shared by every worker of
//! the stage: a batch's events are summed per series locally, then applied once per batch with
//! atomics. A metric's new series over its `max_series` are refused, counted in
//! `skiff_log_metric_refused_series_total` and logged at most every 10 seconds; series idle for
//! `expire_after` are removed. Values that are not numbers are counted in
//! `skiff_log_metric_invalid_values_total`. With `consume = true` the events are removed once
//! counted and the (empty) batch travels on with its acknowledgements, like `filter`'s.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use prometheus_client::metrics::counter::Counter;
use serde::Deserialize;

use super::filter::{Combine, Conditions, RawCondition};
use super::template::Template;
use super::{Transform, TransformConfig};
use crate::config::{parse_table, ConfigDuration, FieldError};
use crate::event::{Batch, Event, FieldPath, Payload, Value};
use crate::log_metrics::{store, Definition, Delta, Family, MetricKind};
use crate::metrics::{component_with, metrics};
use crate::ratelimit::RateLimitedLog;

/// Series per metric by default.
pub const DEFAULT_MAX_SERIES: usize = 10_000;
/// Idle time after which a series is removed, by default.
pub const DEFAULT_EXPIRE_AFTER: Duration = Duration::from_secs(600);

/// `[transforms.NAME] type = "log_to_metric"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// The metrics to make.
    metrics: Vec<RawMetric>,
    /// Remove the events once counted (default false: they pass on unchanged).
    #[serde(default)]
    consume: bool,
    /// Default series limit of each metric.
    #[serde(default)]
    max_series: Option<usize>,
    /// Default idle time after which a series is removed.
    #[serde(default)]
    expire_after: Option<ConfigDuration>,
}

/// `counter`, `gauge` or `histogram`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum RawKind {
    Counter,
    Gauge,
    Histogram,
}

/// What a gauge does with the field's value.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum GaugeMode {
    #[default]
    Set,
    Add,
}

/// One metric, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    name: String,
    kind: RawKind,
    #[serde(default)]
    help: Option<String>,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    mode: Option<GaugeMode>,
    #[serde(default)]
    buckets: Option<Vec<f64>>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    conditions: Option<Vec<RawCondition>>,
    #[serde(default, rename = "match")]
    combine: Combine,
    #[serde(default)]
    max_series: Option<usize>,
    #[serde(default)]
    expire_after: Option<ConfigDuration>,
}

/// What one event contributes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    CountEvents,
    SumField,
    GaugeSet,
    GaugeAdd,
    Observe,
}

/// One metric, compiled.
#[derive(Debug, Clone)]
struct Metric {
    def: Definition,
    op: Op,
    field: Option<FieldPath>,
    labels: Vec<Template>,
    conditions: Option<Conditions>,
}

/// A validated `log_to_metric` transform.
#[derive(Debug, Clone)]
pub struct LogToMetricConfig {
    metrics: Vec<Metric>,
    consume: bool,
}

/// Prometheus' metric name rule, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn valid_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Prometheus' label name rule, `[a-zA-Z_][a-zA-Z0-9_]*`, `__` reserved.
fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with("__")
}

fn check_name(name: &str, kind: RawKind) -> Result<(), String> {
    if !valid_metric_name(name) {
        return Err(format!(
            "`{name}` is not a Prometheus metric name: letters, digits, `_` and `:`, not starting with a digit"
        ));
    }
    if name.starts_with("__") {
        return Err(format!("`{name}`: names starting with `__` are reserved"));
    }
    if name.starts_with("skiff_") || name.starts_with("process_") {
        return Err(format!(
            "`{name}`: the `skiff_` and `process_` prefixes are skiff's own metrics"
        ));
    }
    match kind {
        RawKind::Counter if !name.ends_with("_total") || name == "_total" => Err(format!(
            "`{name}`: a counter's name ends in `_total` (Prometheus' convention, which OpenMetrics requires)"
        )),
        RawKind::Gauge | RawKind::Histogram if name.ends_with("_total") => Err(format!(
            "`{name}`: only counters end in `_total`"
        )),
        RawKind::Histogram
            if ["_bucket", "_sum", "_count"]
                .iter()
                .any(|s| name.ends_with(s)) =>
        {
            Err(format!(
                "`{name}`: a histogram's name must not end in `_bucket`, `_sum` or `_count` (its series add them)"
            ))
        }
        _ => Ok(()),
    }
}

fn check_buckets(buckets: &[f64]) -> Result<(), (usize, String)> {
    if buckets.is_empty() {
        return Err((
            usize::MAX,
            "`buckets` is empty: give at least one upper bound".into(),
        ));
    }
    for (i, b) in buckets.iter().enumerate() {
        if !b.is_finite() {
            return Err((
                i,
                "a bucket bound is a finite number (`+Inf` is implied)".into(),
            ));
        }
        if i > 0 && *b <= buckets[i - 1] {
            return Err((i, "bucket bounds must be in increasing order".into()));
        }
    }
    Ok(())
}

impl RawMetric {
    fn compile(self, defaults: (usize, Duration)) -> Result<Metric, FieldError> {
        let at = |key: &str, msg: String| FieldError::new(&[key], msg);
        check_name(&self.name, self.kind).map_err(|m| at("name", m))?;
        let field = self
            .field
            .as_deref()
            .map(FieldPath::parse)
            .transpose()
            .map_err(|e| at("field", e))?;
        let op = match (self.kind, &field) {
            (RawKind::Counter, None) => Op::CountEvents,
            (RawKind::Counter, Some(_)) => Op::SumField,
            (RawKind::Gauge, Some(_)) => match self.mode.unwrap_or_default() {
                GaugeMode::Set => Op::GaugeSet,
                GaugeMode::Add => Op::GaugeAdd,
            },
            (RawKind::Histogram, Some(_)) => Op::Observe,
            (_, None) => {
                return Err(FieldError::new(
                    &[],
                    "a gauge or a histogram needs `field`, the value it reads",
                ))
            }
        };
        if self.mode.is_some() && self.kind != RawKind::Gauge {
            return Err(at("mode", "`mode` is for gauges only".into()));
        }
        let kind = match (self.kind, self.buckets) {
            (RawKind::Histogram, Some(buckets)) => {
                check_buckets(&buckets).map_err(|(i, m)| {
                    if i == usize::MAX {
                        at("buckets", m)
                    } else {
                        FieldError::new(&["buckets", &i.to_string()], m)
                    }
                })?;
                MetricKind::Histogram { buckets }
            }
            (RawKind::Histogram, None) => {
                return Err(FieldError::new(
                    &[],
                    "a histogram needs `buckets`, its upper bounds",
                ))
            }
            (_, Some(_)) => return Err(at("buckets", "`buckets` is for histograms only".into())),
            (RawKind::Counter, None) => MetricKind::Counter,
            (RawKind::Gauge, None) => MetricKind::Gauge,
        };
        let mut names = Vec::new();
        let mut templates = Vec::new();
        for (label, text) in &self.labels {
            let place = |m: String| FieldError::new(&["labels", label], m);
            if !valid_label_name(label) {
                return Err(place(format!(
                    "`{label}` is not a Prometheus label name: letters, digits and `_`, not starting with a digit or `__`"
                )));
            }
            if label == "le" && matches!(kind, MetricKind::Histogram { .. }) {
                return Err(place("`le` is the histogram's own bucket label".into()));
            }
            templates.push(Template::parse(text).map_err(place)?);
            names.push(label.clone());
        }
        let conditions = self
            .conditions
            .as_deref()
            .map(|c| Conditions::compile(self.combine, c))
            .transpose()?;
        let max_series = self.max_series.unwrap_or(defaults.0);
        if max_series == 0 {
            return Err(at("max_series", "`max_series` must be at least 1".into()));
        }
        Ok(Metric {
            def: Definition {
                help: self
                    .help
                    .unwrap_or_else(|| format!("Made by skiff from log events ({})", self.name)),
                name: self.name,
                kind,
                labels: names,
                max_series,
                expire_after: self.expire_after.map_or(defaults.1, ConfigDuration::get),
            },
            op,
            field,
            labels: templates,
            conditions,
        })
    }
}

impl LogToMetricConfig {
    /// Parses and checks the table.
    pub fn parse(table: toml::Table) -> Result<LogToMetricConfig, FieldError> {
        let raw: RawConfig = parse_table(table)?;
        if raw.metrics.is_empty() {
            return Err(FieldError::new(
                &["metrics"],
                "`metrics` is empty: define at least one metric",
            ));
        }
        if raw.max_series == Some(0) {
            return Err(FieldError::new(
                &["max_series"],
                "`max_series` must be at least 1",
            ));
        }
        let defaults = (
            raw.max_series.unwrap_or(DEFAULT_MAX_SERIES),
            raw.expire_after
                .map_or(DEFAULT_EXPIRE_AFTER, ConfigDuration::get),
        );
        let mut seen = HashSet::new();
        let mut metrics = Vec::with_capacity(raw.metrics.len());
        for (i, m) in raw.metrics.into_iter().enumerate() {
            let index = i.to_string();
            let m = m
                .compile(defaults)
                .map_err(|e| e.within(&["metrics", &index]))?;
            if !seen.insert(m.def.name.clone()) {
                return Err(FieldError::new(
                    &["metrics", &index, "name"],
                    format!("metric `{}` is defined twice", m.def.name),
                ));
            }
            metrics.push(m);
        }
        Ok(LogToMetricConfig {
            metrics,
            consume: raw.consume,
        })
    }
}

impl TransformConfig for LogToMetricConfig {
    fn kind(&self) -> &'static str {
        "log_to_metric"
    }

    fn stateless(&self) -> bool {
        // The series live in the shared store: workers add to the same atomics.
        true
    }

    fn build(&self, name: &str) -> Box<dyn Transform> {
        let m = metrics();
        Box::new(LogToMetric {
            metrics: self
                .metrics
                .iter()
                .map(|metric| Running {
                    family: store().register(metric.def.clone()),
                    refused: m
                        .log_metric_refused_series
                        .get_or_create(&component_with(name, "metric", &metric.def.name))
                        .clone(),
                    invalid: m
                        .log_metric_invalid_values
                        .get_or_create(&component_with(name, "metric", &metric.def.name))
                        .clone(),
                    metric: metric.clone(),
                    scratch: HashMap::new(),
                })
                .collect(),
            consumed: m
                .events_dropped
                .get_or_create(&component_with(name, "reason", "consumed"))
                .clone(),
            consume: self.consume,
            component: name.to_owned(),
            refused_log: RateLimitedLog::default(),
        })
    }
}

/// One metric in a running transform.
struct Running {
    metric: Metric,
    family: Arc<Family>,
    refused: Counter,
    invalid: Counter,
    /// This batch's deltas by label values (slices of the batch); emptied after each batch.
    scratch: HashMap<Vec<Bytes>, Delta>,
}

/// The running transform.
pub struct LogToMetric {
    metrics: Vec<Running>,
    consumed: Counter,
    consume: bool,
    component: String,
    refused_log: RateLimitedLog,
}

/// A field's value as a number: numbers, and text that reads as one.
fn number(v: Option<&Value>) -> Option<f64> {
    let n = match v? {
        Value::Int(n) => *n as f64,
        Value::Float(f) => *f,
        Value::Str(s) => std::str::from_utf8(s).ok()?.trim().parse().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

impl Running {
    /// Adds one event to this batch's deltas; false when its value is not a usable number.
    fn record(&mut self, ev: &Event) -> bool {
        let m = &self.metric;
        if m.conditions.as_ref().is_some_and(|c| !c.matches(ev)) {
            return true;
        }
        let value = match (&m.field, m.op) {
            (_, Op::CountEvents) | (None, _) => 1.0,
            (Some(f), op) => match number(ev.fields.get_path(f)) {
                Some(v) if op == Op::SumField && v < 0.0 => return false,
                Some(v) => v,
                None => return false,
            },
        };
        let key: Vec<Bytes> = m.labels.iter().map(|t| t.render(&ev.fields)).collect();
        let delta = self
            .scratch
            .entry(key)
            .or_insert_with(|| match &m.def.kind {
                MetricKind::Histogram { buckets } => Delta::Observe {
                    buckets: vec![0; buckets.len() + 1],
                    sum: 0.0,
                },
                _ if m.op == Op::GaugeSet => Delta::Set(0.0),
                _ => Delta::Add(0.0),
            });
        match delta {
            Delta::Add(d) => *d += value,
            Delta::Set(s) => *s = value,
            Delta::Observe { buckets, sum } => {
                if let MetricKind::Histogram { buckets: bounds } = &m.def.kind {
                    let slot = bounds.partition_point(|b| *b < value);
                    if let Some(n) = buckets.get_mut(slot) {
                        *n += 1;
                    }
                }
                *sum += value;
            }
        }
        true
    }
}

impl Transform for LogToMetric {
    fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
        let events = batch.events_mut();
        let mut refused_now = 0u64;
        let mut example = None;
        for running in &mut self.metrics {
            let mut invalid = 0u64;
            for ev in events.iter() {
                if !running.record(ev) {
                    invalid += 1;
                }
            }
            if invalid > 0 {
                running.invalid.inc_by(invalid);
            }
            if running.scratch.is_empty() {
                continue;
            }
            let applied = running
                .family
                .apply(running.scratch.iter().map(|(k, d)| (k.as_slice(), d)));
            running.scratch.clear();
            if applied.refused > 0 {
                running.refused.inc_by(applied.refused);
                refused_now += applied.refused;
                example.get_or_insert_with(|| {
                    (
                        running.metric.def.name.clone(),
                        running.metric.def.max_series,
                    )
                });
            }
        }
        if let Some((metric, max_series)) = example {
            if let Some(suppressed) = self.refused_log.hit(Instant::now(), refused_now) {
                tracing::warn!(
                    message = "New metric series refused: the metric holds max_series series.",
                    component = %self.component,
                    metric = %metric,
                    max_series,
                    refused = refused_now,
                    suppressed,
                );
            }
        }
        if self.consume {
            let n = events.len() as u64;
            if n > 0 {
                self.consumed.inc_by(n);
            }
            // The batch travels on empty, with its acknowledgements: counted means delivered.
            batch.payload = Payload::Events(Vec::new());
        }
        out.push(batch);
    }
}

#[cfg(test)]
mod tests;
