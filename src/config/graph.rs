//! Checks the topology graph: names unique, inputs known, no cycle, every sink reachable from a
//! source; components that feed nothing are warned about.

use std::collections::{HashMap, HashSet};

use super::{Config, FieldError};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Source,
    Transform,
    Sink,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::Source => "sources",
            Kind::Transform => "transforms",
            Kind::Sink => "sinks",
        }
    }
}

/// Returns the graph's errors and records its warnings in `config.warnings`.
pub fn check(config: &mut Config) -> Vec<FieldError> {
    let (errors, warnings) = check_graph(config);
    config.warnings.extend(warnings);
    errors
}

fn check_graph(config: &Config) -> (Vec<FieldError>, Vec<String>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut kinds: HashMap<&str, Kind> = HashMap::new();
    let all = config
        .sources
        .iter()
        .map(|c| (c.name.as_str(), Kind::Source, &c.inputs))
        .chain(
            config
                .transforms
                .iter()
                .map(|c| (c.name.as_str(), Kind::Transform, &c.inputs)),
        )
        .chain(
            config
                .sinks
                .iter()
                .map(|c| (c.name.as_str(), Kind::Sink, &c.inputs)),
        );
    let nodes: Vec<_> = all.collect();
    for &(name, kind, _) in &nodes {
        if let Some(prev) = kinds.insert(name, kind) {
            errors.push(FieldError::new(
                &[kind.table(), name],
                format!(
                    "the name `{name}` is used twice (also in [{}])",
                    prev.table()
                ),
            ));
        }
    }
    for &(name, kind, inputs) in &nodes {
        for (i, input) in inputs.iter().enumerate() {
            let idx = i.to_string();
            match kinds.get(input.as_str()) {
                None => {
                    let mut known: Vec<&str> = kinds
                        .iter()
                        .filter(|(_, k)| **k != Kind::Sink)
                        .map(|(n, _)| *n)
                        .collect();
                    known.sort_unstable();
                    errors.push(FieldError::new(
                        &[kind.table(), name, "inputs", &idx],
                        format!(
                            "unknown input `{input}`; components that can be inputs: {}",
                            known.join(", ")
                        ),
                    ));
                }
                Some(Kind::Sink) => errors.push(FieldError::new(
                    &[kind.table(), name, "inputs", &idx],
                    format!("`{input}` is a sink: a sink produces nothing to read"),
                )),
                Some(_) if input == name => errors.push(FieldError::new(
                    &[kind.table(), name, "inputs", &idx],
                    format!("`{name}` cannot read from itself"),
                )),
                Some(_) => {}
            }
        }
    }
    if errors.is_empty() {
        errors.extend(find_cycle(&nodes));
    }
    if errors.is_empty() {
        warnings = unused(&nodes, config.sinks.is_empty());
    }
    (errors, warnings)
}

fn find_cycle(nodes: &[(&str, Kind, &Vec<String>)]) -> Option<FieldError> {
    let inputs: HashMap<&str, &Vec<String>> = nodes.iter().map(|(n, _, i)| (*n, *i)).collect();
    // Depth-first search; `stack` holds the current path for the message.
    fn visit<'a>(
        n: &'a str,
        inputs: &HashMap<&'a str, &'a Vec<String>>,
        done: &mut HashSet<&'a str>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(pos) = stack.iter().position(|s| *s == n) {
            let mut cycle = stack[pos..].to_vec();
            cycle.push(n);
            return Some(cycle);
        }
        if !done.insert(n) {
            return None;
        }
        stack.push(n);
        for i in inputs.get(n).map(|v| v.as_slice()).unwrap_or_default() {
            if let Some(c) = visit(i.as_str(), inputs, done, stack) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = HashSet::new();
    for &(name, kind, _) in nodes {
        let mut stack = Vec::new();
        if let Some(mut cycle) = visit(name, &inputs, &mut done, &mut stack) {
            cycle.reverse();
            return Some(FieldError::new(
                &[kind.table(), cycle[0], "inputs"],
                format!("the inputs form a cycle: {}", cycle.join(" -> ")),
            ));
        }
    }
    None
}

fn unused(nodes: &[(&str, Kind, &Vec<String>)], no_sinks: bool) -> Vec<String> {
    let used: HashSet<&str> = nodes
        .iter()
        .flat_map(|(_, _, i)| i.iter().map(String::as_str))
        .collect();
    let mut warnings = Vec::new();
    for &(name, kind, _) in nodes {
        if kind != Kind::Sink && !used.contains(name) {
            warnings.push(format!(
                "[{}.{name}] feeds nothing: no transform or sink lists it in `inputs`",
                kind.table()
            ));
        }
    }
    if no_sinks {
        warnings.push("the config has no sink: events are read and dropped".into());
    }
    warnings
}
