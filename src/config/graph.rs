//! Checks the topology graph: names unique, inputs known, no cycle, every sink reachable from a
//! source, every source's events reach a sink; transforms that feed nothing are warned about.

use std::collections::{HashMap, HashSet};

use super::FieldError;

/// The three families of components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Source,
    Transform,
    Sink,
}

impl Family {
    pub fn table(self) -> &'static str {
        match self {
            Family::Source => "sources",
            Family::Transform => "transforms",
            Family::Sink => "sinks",
        }
    }
}

/// Checks the graph of `nodes` (name, family, inputs): every component named in the file,
/// including those whose own table has errors, so that one mistake is reported once. When some
/// component's `inputs` could not be read (`complete` false), what reaches what is unknown, and
/// neither "reaches no sink" nor "feeds nothing" is said. Returns the errors and the warnings.
pub fn check(
    nodes: &[(&str, Family, &Vec<String>)],
    complete: bool,
) -> (Vec<FieldError>, Vec<String>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut kinds: HashMap<&str, Family> = HashMap::new();
    for &(name, kind, _) in nodes {
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
    for &(name, kind, inputs) in nodes {
        for (i, input) in inputs.iter().enumerate() {
            let idx = i.to_string();
            match kinds.get(input.as_str()) {
                None => {
                    let mut known: Vec<&str> = kinds
                        .iter()
                        .filter(|(_, k)| **k != Family::Sink)
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
                Some(Family::Sink) => errors.push(FieldError::new(
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
        errors.extend(find_cycle(nodes));
    }
    if errors.is_empty() && complete {
        errors.extend(sources_reaching_no_sink(nodes));
        warnings = unused(nodes);
    }
    (errors, warnings)
}

fn find_cycle(nodes: &[(&str, Family, &Vec<String>)]) -> Option<FieldError> {
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

/// A source whose events reach no sink would be read, dropped and checkpointed as delivered:
/// logs lost by configuration. Each such source is an error naming the fix.
fn sources_reaching_no_sink(nodes: &[(&str, Family, &Vec<String>)]) -> Vec<FieldError> {
    let mut consumers: HashMap<&str, Vec<(&str, Family)>> = HashMap::new();
    for &(name, family, inputs) in nodes {
        for input in inputs {
            consumers
                .entry(input.as_str())
                .or_default()
                .push((name, family));
        }
    }
    let reaches_sink = |start: &str| {
        let mut seen = HashSet::new();
        let mut todo = vec![start];
        while let Some(n) = todo.pop() {
            for &(c, family) in consumers.get(n).map(Vec::as_slice).unwrap_or_default() {
                if family == Family::Sink {
                    return true;
                }
                if seen.insert(c) {
                    todo.push(c);
                }
            }
        }
        false
    };
    nodes
        .iter()
        .filter(|(name, family, _)| *family == Family::Source && !reaches_sink(name))
        .map(|(name, _, _)| {
            FieldError::new(
                &["sources", name],
                format!(
                    "the events of source `{name}` reach no sink: skiff would read them, drop \
                     them and checkpoint them as delivered. Add a sink whose `inputs` lead from \
                     `{name}`, or a sink of type `blackhole` to drop them on purpose"
                ),
            )
        })
        .collect()
}

fn unused(nodes: &[(&str, Family, &Vec<String>)]) -> Vec<String> {
    let used: HashSet<&str> = nodes
        .iter()
        .flat_map(|(_, _, i)| i.iter().map(String::as_str))
        .collect();
    let mut warnings = Vec::new();
    for &(name, kind, _) in nodes {
        if kind != Family::Sink && !used.contains(name) {
            warnings.push(format!(
                "[{}.{name}] feeds nothing: no transform or sink lists it in `inputs`",
                kind.table()
            ));
        }
    }
    warnings
}
