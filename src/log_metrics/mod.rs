//! The metrics made from log events (`log_to_metric`): one process-wide store of metric
//! families, each a map of series with atomic values, and their exposition ([`expose`]).
//!
//! The store outlives topologies, like skiff's own registry, so that a reload keeps what was
//! counted. A transform [`register`](Store::register)s each metric it defines when it is built;
//! every worker of a parallel stage gets the same family, so values are exact however many
//! workers update them. A metric whose definition did not change keeps its family (and its
//! series) across a reload; a changed definition replaces it (its series start again); a metric
//! no running transform defines any more is dropped from the exposition once it has been
//! undefined for [`ORPHAN_GRACE`] (a reload's swap is far shorter).
//!
//! Updates come once per batch ([`Family::apply`]) under the family's read lock; a new series
//! takes the write lock, and is refused when the family already holds `max_series` series.
//! Series idle for `expire_after` are removed when the metrics are encoded and when the limit is
//! reached, so memory stays bounded whatever the events hold.
//!
//! Dependencies: a leaf next to [`crate::metrics`]; it knows nothing of events or transforms.

pub mod expose;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// How long a metric no transform defines stays in the exposition (a reload re-registers it
/// well within this).
pub const ORPHAN_GRACE: Duration = Duration::from_secs(60);

/// How often a family at its limit looks for idle series to make room, at most.
pub const SWEEP_EVERY_MS: u64 = 1000;

/// What a metric is.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricKind {
    /// A monotonic sum (the name ends in `_total`).
    Counter,
    /// A value that is set or moved up and down.
    Gauge,
    /// Observations counted into cumulative buckets (upper bounds, `+Inf` implied).
    Histogram { buckets: Vec<f64> },
}

/// A metric's definition; two equal definitions share their series across a reload.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// The metric's name (a counter's ends in `_total`).
    pub name: String,
    /// Its `# HELP` text.
    pub help: String,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// Label names, in the order series keys hold their values.
    pub labels: Vec<String>,
    /// Series kept at most; new ones over it are refused.
    pub max_series: usize,
    /// A series not updated for this long is removed.
    pub expire_after: Duration,
}

/// One series: its value(s) as atomics, updated under the family's read lock.
#[derive(Debug)]
pub struct Series {
    /// Counter or gauge value, or a histogram's sum (f64 bits).
    value: AtomicU64,
    /// A histogram's per-bucket (non-cumulative) counts, the last one for `+Inf`.
    buckets: Box<[AtomicU64]>,
    /// Milliseconds since the store's epoch of the last update.
    touched: AtomicU64,
}

impl Series {
    fn new(buckets: usize, now: u64) -> Series {
        Series {
            value: AtomicU64::new(0f64.to_bits()),
            buckets: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            touched: AtomicU64::new(now),
        }
    }

    fn add(&self, delta: f64) {
        // A compare-and-swap loop: f64 has no atomic add.
        let _ = self
            .value
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + delta).to_bits())
            });
    }

    /// The counter or gauge value, or the histogram's sum.
    pub fn value(&self) -> f64 {
        f64::from_bits(self.value.load(Ordering::Relaxed))
    }

    /// A histogram's non-cumulative bucket counts (the last for `+Inf`).
    pub fn bucket_counts(&self) -> Vec<u64> {
        self.buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }
}

/// What one batch adds to one series.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    /// Add to a counter or a gauge.
    Add(f64),
    /// Set a gauge (the batch's last value).
    Set(f64),
    /// Histogram observations: per-bucket counts (the last for `+Inf`) and their sum.
    Observe { buckets: Vec<u64>, sum: f64 },
}

/// The series of one metric.
#[derive(Debug)]
pub struct Family {
    /// The definition the series follow.
    pub def: Definition,
    series: RwLock<HashMap<Box<[Bytes]>, Series>>,
    /// When idle series were last looked for because the limit was reached (store
    /// milliseconds): at most once per [`SWEEP_EVERY_MS`], so that a flood of refused series
    /// does not scan the map for each one.
    last_sweep: AtomicU64,
    /// When no transform held the family any more (checked at encode time).
    orphaned_since: Mutex<Option<Instant>>,
}

/// What [`Family::apply`] could not do.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// New series refused by the cardinality limit.
    pub refused: u64,
}

impl Family {
    fn new(def: Definition) -> Family {
        Family {
            def,
            series: RwLock::default(),
            last_sweep: AtomicU64::new(0),
            orphaned_since: Mutex::new(None),
        }
    }

    fn bucket_slots(&self) -> usize {
        match &self.def.kind {
            MetricKind::Histogram { buckets } => buckets.len() + 1,
            _ => 0,
        }
    }

    /// Applies a batch's deltas, keyed by label values (in the definition's label order).
    /// Label values are copied when a series is created, so that keys never hold a batch's
    /// buffer.
    pub fn apply<'a>(&self, deltas: impl IntoIterator<Item = (&'a [Bytes], &'a Delta)>) -> Applied {
        let now = store().now_ms();
        let mut missing = Vec::new();
        {
            let map = self.series.read().unwrap_or_else(|e| e.into_inner());
            for (key, delta) in deltas {
                match map.get(key) {
                    Some(s) => update(s, delta, now),
                    None => missing.push((key, delta)),
                }
            }
        }
        let mut applied = Applied::default();
        if missing.is_empty() {
            return applied;
        }
        let mut map = self.series.write().unwrap_or_else(|e| e.into_inner());
        for (key, delta) in missing {
            if let Some(s) = map.get(key) {
                update(s, delta, now);
                continue;
            }
            if map.len() >= self.def.max_series {
                let last = self.last_sweep.load(Ordering::Relaxed);
                if last == 0 || now.saturating_sub(last) >= SWEEP_EVERY_MS {
                    self.last_sweep.store(now.max(1), Ordering::Relaxed);
                    expire(&mut map, &self.def, now);
                }
                if map.len() >= self.def.max_series {
                    applied.refused += 1;
                    continue;
                }
            }
            let owned: Box<[Bytes]> = key.iter().map(|b| Bytes::copy_from_slice(b)).collect();
            let s = Series::new(self.bucket_slots(), now);
            update(&s, delta, now);
            map.insert(owned, s);
        }
        applied
    }

    /// Removes idle series, then calls `f` with every series, sorted by label values.
    pub fn visit(&self, mut f: impl FnMut(&[Bytes], &Series)) {
        let now = store().now_ms();
        let idle = |s: &Series| idle_for(s, now) >= self.def.expire_after;
        let any_idle = {
            let map = self.series.read().unwrap_or_else(|e| e.into_inner());
            map.values().any(idle)
        };
        if any_idle {
            let mut map = self.series.write().unwrap_or_else(|e| e.into_inner());
            expire(&mut map, &self.def, now);
        }
        let map = self.series.read().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<&Box<[Bytes]>> = map.keys().collect();
        keys.sort();
        for k in keys {
            if let Some(s) = map.get(k) {
                f(k, s);
            }
        }
    }

    /// Series held now.
    pub fn len(&self) -> usize {
        self.series.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when the family holds no series.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn idle_for(s: &Series, now: u64) -> Duration {
    Duration::from_millis(now.saturating_sub(s.touched.load(Ordering::Relaxed)))
}

fn expire(map: &mut HashMap<Box<[Bytes]>, Series>, def: &Definition, now: u64) {
    map.retain(|_, s| idle_for(s, now) < def.expire_after);
}

fn update(s: &Series, delta: &Delta, now: u64) {
    match delta {
        Delta::Add(d) => s.add(*d),
        Delta::Set(v) => s.value.store(v.to_bits(), Ordering::Relaxed),
        Delta::Observe { buckets, sum } => {
            for (slot, n) in s.buckets.iter().zip(buckets) {
                if *n > 0 {
                    slot.fetch_add(*n, Ordering::Relaxed);
                }
            }
            s.add(*sum);
        }
    }
    s.touched.fetch_max(now, Ordering::Relaxed);
}

/// Every metric family, by name.
#[derive(Debug)]
pub struct Store {
    families: RwLock<BTreeMap<String, Arc<Family>>>,
    epoch: Instant,
}

impl Store {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The family of `def`: the existing one when its definition is the same (its series are
    /// kept), else a new, empty one that replaces it.
    pub fn register(&self, def: Definition) -> Arc<Family> {
        let mut families = self.families.write().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = families.get(&def.name) {
            if f.def == def {
                return Arc::clone(f);
            }
            tracing::info!(
                message = "Metric definition changed: its series start again.",
                metric = %def.name
            );
        }
        let f = Arc::new(Family::new(def));
        families.insert(f.def.name.clone(), Arc::clone(&f));
        f
    }

    /// The families to expose, sorted by name; drops those no transform has held for
    /// [`ORPHAN_GRACE`].
    pub fn families(&self) -> Vec<Arc<Family>> {
        let now = Instant::now();
        let mut families = self.families.write().unwrap_or_else(|e| e.into_inner());
        families.retain(|_, f| {
            // The store's own reference is the only one: no running transform defines it.
            let orphan = Arc::strong_count(f) == 1;
            let mut since = f.orphaned_since.lock().unwrap_or_else(|e| e.into_inner());
            match (orphan, *since) {
                (false, _) => {
                    *since = None;
                    true
                }
                (true, None) => {
                    *since = Some(now);
                    true
                }
                (true, Some(t)) => now.duration_since(t) < ORPHAN_GRACE,
            }
        });
        families.values().cloned().collect()
    }

    /// The family named `name`, if any (tests).
    pub fn get(&self, name: &str) -> Option<Arc<Family>> {
        self.families
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }
}

/// The process-wide store.
pub fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| Store {
        families: RwLock::default(),
        epoch: Instant::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, max_series: usize) -> Definition {
        Definition {
            name: name.into(),
            help: "h".into(),
            kind: MetricKind::Counter,
            labels: vec!["k".into()],
            max_series,
            expire_after: Duration::from_secs(300),
        }
    }

    fn key(s: &'static str) -> Vec<Bytes> {
        vec![Bytes::from_static(s.as_bytes())]
    }

    #[test]
    fn same_definition_shares_series_changed_one_starts_again() {
        let a = store().register(def("store_test_shared_total", 10));
        a.apply([(key("x").as_slice(), &Delta::Add(2.0))]);
        let b = store().register(def("store_test_shared_total", 10));
        assert!(Arc::ptr_eq(&a, &b));
        let c = store().register(def("store_test_shared_total", 11));
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(c.is_empty());
        assert!(Arc::ptr_eq(
            &store().get("store_test_shared_total").unwrap(),
            &c
        ));
    }

    #[test]
    fn the_cardinality_limit_refuses_new_series_only() {
        let f = store().register(def("store_test_limit_total", 2));
        let (a, b, c) = (key("a"), key("b"), key("c"));
        let one = Delta::Add(1.0);
        let r = f.apply([
            (a.as_slice(), &one),
            (b.as_slice(), &one),
            (c.as_slice(), &one),
        ]);
        assert_eq!(r.refused, 1);
        let r = f.apply([(a.as_slice(), &one), (c.as_slice(), &one)]);
        assert_eq!(r.refused, 1);
        let mut seen = Vec::new();
        f.visit(|k, s| seen.push((k[0].clone(), s.value())));
        assert_eq!(
            seen,
            [
                (Bytes::from_static(b"a"), 2.0),
                (Bytes::from_static(b"b"), 1.0)
            ]
        );
    }

    #[test]
    fn idle_series_expire() {
        let mut d = def("store_test_expiry_total", 1);
        d.expire_after = Duration::ZERO;
        let f = store().register(d);
        let r = f.apply([(key("a").as_slice(), &Delta::Add(1.0))]);
        assert_eq!(r.refused, 0);
        // Idle for zero time already: the next new series replaces it instead of being refused.
        let r = f.apply([(key("b").as_slice(), &Delta::Add(1.0))]);
        assert_eq!(r.refused, 0);
        let mut n = 0;
        f.visit(|_, _| n += 1);
        assert_eq!(n, 0, "expired at encode time");
    }

    #[test]
    fn values_are_exact_from_several_threads() {
        let f = store().register(Definition {
            kind: MetricKind::Histogram {
                buckets: vec![1.0, 2.0],
            },
            ..def("store_test_threads", 100)
        });
        std::thread::scope(|s| {
            for _ in 0..4 {
                let f = &f;
                s.spawn(move || {
                    let k = key("x");
                    for _ in 0..10_000 {
                        f.apply([(
                            k.as_slice(),
                            &Delta::Observe {
                                buckets: vec![1, 0, 1],
                                sum: 0.5,
                            },
                        )]);
                    }
                });
            }
        });
        let mut got = None;
        f.visit(|_, s| got = Some((s.bucket_counts(), s.value())));
        assert_eq!(got, Some((vec![40_000, 0, 40_000], 20_000.0)));
    }
}
