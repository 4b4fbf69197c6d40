//! What a transform does with an event it cannot handle, and how it reports it.
//!
//! Two outcomes, chosen per transform with `on_error`: `keep` (default) passes the event on
//! unchanged but marked with [`ERROR_KEY`], counted in `skiff_transform_errors_total`; `drop`
//! removes it, counted in `skiff_component_discarded_events_total{reason="parse_error"}`.
//! Either way the batch's acknowledgement handles travel on, so a dropped event counts as
//! delivered. Counts are added once per batch; warnings are rate-limited so that a file full of
//! bad lines cannot flood skiff's own log.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use bytes::Bytes;
use prometheus_client::metrics::counter::Counter;
use serde::Deserialize;

use crate::event::{Fields, Value, ERROR_KEY};
use crate::metrics::{component_with, metrics};

/// `on_error = "keep" | "drop"`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Pass the event on unchanged, with `_skiff_error` set to the reason.
    #[default]
    Keep,
    /// Drop the event (counted with reason `parse_error`).
    Drop,
}

/// A short, human-readable reason why a value could not be handled.
pub type Reason = Cow<'static, str>;

/// Marks `fields` with the reason of a problem.
pub fn mark_error(fields: &mut Fields, reason: &str) {
    fields.insert(
        Bytes::from_static(ERROR_KEY.as_bytes()),
        Value::Str(Bytes::copy_from_slice(reason.as_bytes())),
    );
}

/// How often a component may log a warning about bad events.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Per-component error accounting: counts per batch, flushes them to the metrics, and logs at
/// most one warning every 10 seconds.
#[derive(Debug)]
pub struct ErrorReport {
    component: String,
    dropped: Counter,
    filtered: Counter,
    kept_parse: Counter,
    kept_timestamp: Counter,
    kept_type: Counter,
    pending: [u64; 5],
    last_warn: Option<Instant>,
    suppressed: u64,
}

/// What happened to an event, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Dropped because it did not parse (`on_error = "drop"`).
    Dropped,
    /// Dropped on purpose by a filter.
    Filtered,
    /// Kept although it did not parse.
    KeptParse,
    /// Kept although its timestamp did not parse.
    KeptTimestamp,
    /// Kept although a value could not be converted to its configured type.
    KeptType,
}

impl ErrorReport {
    /// The report of component `name`.
    pub fn new(name: &str) -> ErrorReport {
        let m = metrics();
        let counter = |family: &crate::metrics::Labels, dropped: bool| {
            if dropped {
                m.events_dropped.get_or_create(family).clone()
            } else {
                m.transform_errors.get_or_create(family).clone()
            }
        };
        ErrorReport {
            component: name.to_owned(),
            dropped: counter(&component_with(name, "reason", "parse_error"), true),
            filtered: counter(&component_with(name, "reason", "filtered"), true),
            kept_parse: counter(&component_with(name, "reason", "parse_error"), false),
            kept_timestamp: counter(&component_with(name, "reason", "timestamp"), false),
            kept_type: counter(&component_with(name, "reason", "type"), false),
            pending: [0; 5],
            last_warn: None,
            suppressed: 0,
        }
    }

    /// Records one problem; `reason` is logged if no warning was logged recently.
    pub fn record(&mut self, problem: Problem, reason: &str) {
        self.pending[problem as usize] += 1;
        if problem == Problem::Filtered {
            return;
        }
        let now = Instant::now();
        if self
            .last_warn
            .is_some_and(|t| now.duration_since(t) < WARN_EVERY)
        {
            self.suppressed += 1;
            return;
        }
        self.last_warn = Some(now);
        let what = match problem {
            Problem::Dropped => "Dropped an event that did not parse.",
            Problem::KeptTimestamp => "Kept an event whose timestamp did not parse.",
            Problem::KeptType => "Kept an event with a value of the wrong type.",
            _ => "Kept an event that did not parse.",
        };
        tracing::warn!(
            message = what,
            component = %self.component,
            %reason,
            similar_since_last_warning = self.suppressed,
        );
        self.suppressed = 0;
    }

    /// Records one problem whose description is worth building only when it is logged.
    pub fn record_with(&mut self, problem: Problem, describe: impl FnOnce() -> String) {
        let quiet = self
            .last_warn
            .is_some_and(|t| Instant::now().duration_since(t) < WARN_EVERY);
        let logs = problem != Problem::Filtered && !quiet;
        if logs {
            self.record(problem, &describe());
        } else {
            self.record(problem, "");
        }
    }

    /// Records `n` events dropped on purpose (no log: dropping is what was asked).
    pub fn filtered(&mut self, n: u64) {
        self.pending[Problem::Filtered as usize] += n;
    }

    /// Adds the counts of the batch just processed to the metrics.
    pub fn flush(&mut self) {
        let counters = [
            &self.dropped,
            &self.filtered,
            &self.kept_parse,
            &self.kept_timestamp,
            &self.kept_type,
        ];
        for (n, c) in self.pending.iter_mut().zip(counters) {
            if *n > 0 {
                c.inc_by(*n);
                *n = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::metrics;

    #[test]
    fn counts_reach_the_metrics_on_flush() {
        let mut r = ErrorReport::new("on_error_test");
        r.record(Problem::Dropped, "bad");
        r.record(Problem::Dropped, "bad");
        r.record(Problem::KeptTimestamp, "bad time");
        r.record(Problem::Filtered, "");
        let before = metrics().encode();
        assert!(!before.contains("component=\"on_error_test\",reason=\"parse_error\"} 2"));
        r.flush();
        let text = metrics().encode();
        assert!(text.contains(
            "skiff_component_discarded_events_total{component=\"on_error_test\",reason=\"parse_error\"} 2"
        ), "{text}");
        assert!(
            text.contains(
                "skiff_transform_errors_total{component=\"on_error_test\",reason=\"timestamp\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains(
            "skiff_component_discarded_events_total{component=\"on_error_test\",reason=\"filtered\"} 1"
        ), "{text}");
    }

    #[test]
    fn marks_the_reason() {
        let mut f = Fields::default();
        mark_error(&mut f, "no pattern matched");
        assert_eq!(f.get(ERROR_KEY), Some(&Value::from("no pattern matched")));
    }
}
