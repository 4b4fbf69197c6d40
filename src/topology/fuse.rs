//! Fuses chains of stateless transforms into one stage.
//!
//! `parse → enrich`, where `parse` feeds only `enrich` and `enrich` reads only `parse`, needs no
//! channel between them: one task can run both on each batch. That removes a hop (a channel, a
//! wake-up, batches waiting in between, so less memory in flight) and lets the parallel runner
//! spread the whole chain over the cores. Each part still counts its own events.

use std::collections::HashMap;

use crate::components::{Component, Config};
use crate::event::Batch;
use crate::metrics::{component, metrics, Labels};
use crate::transforms::{Transform, TransformConfig};

/// Transform components grouped into chains, in an order where each chain's head is as in the
/// config. A chain of one is an ordinary transform.
pub fn chains(config: &Config) -> Vec<Vec<&Component<dyn TransformConfig>>> {
    let by_name: HashMap<&str, &Component<dyn TransformConfig>> = config
        .transforms
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    let consumers = |name: &str| {
        config
            .transforms
            .iter()
            .map(|c| &c.inputs)
            .chain(config.sinks.iter().map(|c| &c.inputs))
            .filter(|inputs| inputs.iter().any(|i| i == name))
            .count()
    };
    // `next[u] = t`: t is fused right after u.
    let mut next: HashMap<&str, &str> = HashMap::new();
    for t in &config.transforms {
        let [u] = t.inputs.as_slice() else { continue };
        let Some(up) = by_name.get(u.as_str()) else {
            continue;
        };
        if up.config.stateless() && t.config.stateless() && consumers(u) == 1 {
            next.insert(up.name.as_str(), t.name.as_str());
        }
    }
    let fused: std::collections::HashSet<&str> = next.values().copied().collect();
    let mut out = Vec::new();
    for head in config
        .transforms
        .iter()
        .filter(|c| !fused.contains(c.name.as_str()))
    {
        let mut chain = vec![head];
        let mut cur = head.name.as_str();
        while let Some(n) = next.get(cur) {
            match by_name.get(n) {
                Some(c) => chain.push(*c),
                None => break,
            }
            cur = n;
        }
        out.push(chain);
    }
    out
}

/// A chain's name in logs: its parts' names joined by `+` (`parse+enrich`).
pub fn name(chain: &[&Component<dyn TransformConfig>]) -> String {
    let names: Vec<&str> = chain.iter().map(|c| c.name.as_str()).collect();
    names.join("+")
}

/// Several transforms applied in turn to each batch.
pub struct Fused {
    parts: Vec<(Box<dyn Transform>, Labels)>,
}

impl Fused {
    /// Builds one instance of every part of `chain`.
    pub fn build(chain: &[&Component<dyn TransformConfig>]) -> Fused {
        Fused {
            parts: chain
                .iter()
                .map(|c| (c.config.build(&c.name), component(&c.name)))
                .collect(),
        }
    }
}

impl Transform for Fused {
    fn transform(&mut self, batch: Batch, out: &mut Vec<Batch>) {
        let m = metrics();
        let mut current = vec![batch];
        for (t, labels) in &mut self.parts {
            let mut produced = Vec::with_capacity(current.len());
            for b in current {
                m.events_in.get_or_create(labels).inc_by(b.len() as u64);
                t.transform(b, &mut produced);
            }
            for b in &produced {
                m.events_out.get_or_create(labels).inc_by(b.len() as u64);
            }
            current = produced;
        }
        out.extend(current);
    }
}
