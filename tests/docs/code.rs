//! What the code accepts and exports, asked from the code itself: the keys of every part of the
//! config (from the config loader's errors for an unknown key, which list the valid ones) and
//! the metrics the registry holds (from their registrations).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use regex::Regex;

/// The keys of each part of the config: `global`, and `SECTION.TYPE` for every component type.
/// Keys of nested tables (and of lists of tables) are written `table.key`.
pub fn config_keys() -> BTreeMap<String, BTreeSet<String>> {
    let mut code: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let global = code.entry("global".into()).or_default();
    all_keys(Part::Global, &[], global);
    // The component sections are taken off the top level before the global keys are checked,
    // so the unknown-key error does not list them.
    global.extend(["sources", "transforms", "sinks"].map(String::from));
    for section in ["sources", "transforms", "sinks"] {
        for kind in kinds(section) {
            let mut keys = BTreeSet::new();
            all_keys(Part::Component(section, &kind), &[], &mut keys);
            code.insert(format!("{section}.{kind}"), keys);
        }
    }
    code
}

const PROBE: &str = "__skiff_probe";

/// What the config loader says about `text`.
fn load_errors(text: &str) -> Vec<String> {
    match skiff::components::load_str(Path::new("probe.toml"), text, |_| None) {
        Ok(_) => Vec::new(),
        Err(skiff::config::ConfigError::Invalid(v)) => v,
        Err(e) => vec![e.to_string()],
    }
}

/// Where a probe goes: the top of the file, or a component `SECTION.TYPE`.
#[derive(Clone, Copy)]
enum Part<'a> {
    Global,
    Component(&'a str, &'a str),
}

/// The keys accepted at `path` (a key of `part`, then keys of nested tables; `None`: the
/// value at `path` is not a table with fixed keys). With `array`, the last step of the path
/// is a list of tables.
fn accepted(part: Part, path: &[String], array: bool) -> Option<Vec<String>> {
    let mut value = format!("{{ {PROBE} = 0 }}");
    if array {
        value = format!("[{value}]");
    }
    let Some((first, nested)) = path.split_first() else {
        return accepted_at(part, &format!("{PROBE} = 0\n"), "");
    };
    for key in nested.iter().rev() {
        value = format!("{{ {key} = {value} }}");
    }
    let index = if array { ".0" } else { "" };
    accepted_at(
        part,
        &format!("{first} = {value}\n"),
        &format!("{}{index}.", path.join(".")),
    )
}

fn accepted_at(part: Part, line: &str, at: &str) -> Option<Vec<String>> {
    let (text, at) = match part {
        Part::Global => (line.to_owned(), at.to_owned()),
        Part::Component(section, kind) => {
            let inputs = if section == "sources" {
                ""
            } else {
                "inputs = [\"x\"]\n"
            };
            (
                format!("[{section}.p]\ntype = \"{kind}\"\n{inputs}{line}"),
                format!("{section}.p.{at}"),
            )
        }
    };
    let errors = load_errors(&text);
    let message = errors
        .iter()
        .find(|e| e.contains(&format!(" {at}{PROBE}: ")) && e.contains(&format!("`{PROBE}`")))?;
    Some(
        listed_keys(message).unwrap_or_else(|| {
            panic!("the error for an unknown key lists no valid keys:\n{message}")
        }),
    )
}

/// The valid keys an unknown-key error lists: in backticks, or after a colon.
fn listed_keys(message: &str) -> Option<Vec<String>> {
    let rest = message.split_once(&format!("`{PROBE}`"))?.1;
    let tick = regex!(r"`([a-z_0-9]+)`");
    let word = regex!(r"^[a-z_0-9]+$");
    let mut keys = Vec::new();
    for line in rest.lines().filter(|l| !l.trim_start().starts_with("in `")) {
        keys.extend(tick.captures_iter(line).map(|c| c[1].to_owned()));
        if let Some((_, list)) = line.rsplit_once(": ") {
            keys.extend(
                list.split(',')
                    .map(|k| k.trim().trim_matches('`'))
                    .filter(|k| word.is_match(k))
                    .map(str::to_owned),
            );
        }
    }
    (!keys.is_empty() || rest.contains("there are no fields")).then_some(keys)
}

/// Every key `part` accepts, nested ones as `table.key`.
fn all_keys(part: Part, prefix: &[String], out: &mut BTreeSet<String>) {
    let Some(keys) = accepted(part, prefix, false) else {
        return;
    };
    for key in keys {
        let mut path = prefix.to_vec();
        path.push(key);
        out.insert(path.join("."));
        if path.len() < 4 {
            if accepted(part, &path, false).is_some() {
                all_keys(part, &path, out);
            } else if let Some(inner) = accepted(part, &path, true) {
                for k in inner {
                    out.insert(format!("{}.{k}", path.join(".")));
                }
            }
        }
    }
}

/// The component types of a section, from the error for an unknown type.
fn kinds(section: &str) -> Vec<String> {
    let inputs = if section == "sources" {
        ""
    } else {
        "inputs = [\"x\"]\n"
    };
    let text = format!("[{section}.p]\ntype = \"{PROBE}\"\n{inputs}");
    let errors = load_errors(&text);
    let message = errors
        .iter()
        .find(|e| e.contains("unknown type"))
        .unwrap_or_else(|| panic!("no error for an unknown {section} type: {errors:?}"));
    let list = message.rsplit_once(": ").unwrap().1;
    list.split(',')
        .map(|k| k.trim().trim_matches('`').to_owned())
        .collect()
}

/// Every metric `src/metrics.rs` registers, with the suffix its type adds (`_total` for counters,
/// `_info` for info metrics). Families without series are not encoded, so the list comes from
/// the registrations, checked against what the registry does encode.
pub fn registered_metrics() -> BTreeSet<String> {
    let src = std::fs::read_to_string("src/metrics.rs").unwrap();
    let field = regex!(r"pub (\w+): ([^\n]+),\n");
    let types: BTreeMap<&str, &str> = field
        .captures_iter(&src)
        .map(|c| (c.get(1).unwrap().as_str(), c.get(2).unwrap().as_str()))
        .collect();
    let register = regex!(r#"\.register\(\s*"(\w+)",\s*"[^"]*",\s*([^;]*?)\);"#);
    let mut out = BTreeSet::new();
    for c in register.captures_iter(&src) {
        let metric = c[2].trim().trim_end_matches(',');
        let kind = metric
            .strip_prefix("m.")
            .and_then(|f| types.get(f.trim_end_matches(".clone()")))
            .copied()
            .unwrap_or(metric);
        let suffix = match kind {
            k if k.contains("Counter") => "_total",
            k if k.contains("Info") => "_info",
            _ => "",
        };
        out.insert(format!("skiff_{}{suffix}", &c[1]));
    }
    // The process's own resources, under Prometheus' standard names.
    let process = std::fs::read_to_string("src/process_metrics.rs").unwrap();
    for c in regex!(r#""(process_\w+)""#).captures_iter(&process) {
        let name = &c[1];
        let counter = name == "process_cpu_seconds";
        out.insert(format!("{name}{}", if counter { "_total" } else { "" }));
    }
    out
}
