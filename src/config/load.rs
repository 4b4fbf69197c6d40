//! Loading a config file: interpolation, TOML, the global settings, the graph and every
//! component, with every error found in one run, each placed at its line and column and listed
//! in file order.
//!
//! A mistake is reported once: a variable that is not set leaves its `${VAR}` as written, and the
//! errors that follow from it (on the same line) are not reported; a component whose table fails
//! is still part of the graph ([`super::split`]); a table is parsed again without the key at
//! fault to find its other errors ([`super::collect`]).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::collect::parse_collecting;
use super::graph::{self, Family};
use super::split::{split_family, Split};
use super::{
    interpolate, locate, log_level, parse_table, parse_value, paths, unknown_kind, Component,
    Config, ConfigError, FieldError, Globals, Kind, Registry,
};

/// Reads, interpolates and validates the config file at `path` with the process environment.
pub fn load<S: ?Sized, T: ?Sized, K: ?Sized>(
    path: &Path,
    registry: &Registry<S, T, K>,
) -> Result<Config<S, T, K>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_owned(),
        error,
    })?;
    load_str(path, &text, |name| std::env::var(name).ok(), registry)
}

/// An error with its place in the file, for sorting.
struct Placed {
    at: Option<locate::Position>,
    text: String,
}

/// Validates config `text` (named `path` in messages), looking variables up with `env`.
pub fn load_str<S: ?Sized, T: ?Sized, K: ?Sized>(
    path: &Path,
    raw: &str,
    env: impl Fn(&str) -> Option<String>,
    registry: &Registry<S, T, K>,
) -> Result<Config<S, T, K>, ConfigError> {
    let file = path.display().to_string();
    let (text, unset) = interpolate::interpolate_all(raw, env);
    let mut found: Vec<Placed> = unset
        .iter()
        .map(|e| {
            let at = locate::position_of(raw, e.offset);
            Placed {
                at: Some(at),
                text: format!("{file}:{}:{}: {}", at.line, at.column, e.message),
            }
        })
        .collect();
    // Lines holding a variable that could not be replaced: what else fails there follows from it.
    let tainted: HashSet<usize> = found.iter().filter_map(|p| p.at.map(|a| a.line)).collect();
    let config = match toml::from_str::<toml::Table>(&text) {
        Ok(table) => {
            let (config, errors) = build(path, table, registry);
            for e in errors {
                let at = locate::locate(&text, &e.path);
                if at.is_some_and(|a| tainted.contains(&a.line)) {
                    continue;
                }
                let pos = at.map_or(String::new(), |p| format!(":{}:{}", p.line, p.column));
                let text = if e.path.is_empty() {
                    format!("{file}{pos}: {}", e.message)
                } else {
                    format!("{file}{pos}: {}: {}", e.path.join("."), e.message)
                };
                found.push(Placed { at, text });
            }
            config
        }
        Err(e) => {
            let at = e.span().map(|s| locate::position_of(&text, s.start));
            if !at.is_some_and(|a| tainted.contains(&a.line)) {
                let pos = at.map_or(String::new(), |p| format!(":{}:{}", p.line, p.column));
                found.push(Placed {
                    at,
                    text: format!("{file}{pos}: {}", e.message()),
                });
            }
            None
        }
    };
    match config {
        Some(config) if found.is_empty() => Ok(config),
        _ => {
            // File order; errors without a place (none today) last.
            found.sort_by_key(|p| p.at.map_or((usize::MAX, 0), |a| (a.line, a.column)));
            Err(ConfigError::Invalid(
                found.into_iter().map(|p| p.text).collect(),
            ))
        }
    }
}

/// Checks the parsed file; the config when nothing is wrong, and every error found.
fn build<S: ?Sized, T: ?Sized, K: ?Sized>(
    path: &Path,
    mut table: toml::Table,
    registry: &Registry<S, T, K>,
) -> (Option<Config<S, T, K>>, Vec<FieldError>) {
    let mut errors = Vec::new();
    let families = [Family::Source, Family::Transform, Family::Sink]
        .map(|family| take_family(&mut table, family, &mut errors));
    let (globals, global_errors) = parse_collecting(table, parse_table::<Globals>);
    errors.extend(global_errors);
    let globals = globals.unwrap_or_default();
    let base = paths::base_of(path);
    check_globals(&globals, &mut errors);
    let [sources, transforms, sinks] = families;
    let sources = split_family(
        Family::Source,
        sources,
        &names(registry.sources),
        &mut errors,
    );
    let transforms = split_family(
        Family::Transform,
        transforms,
        &names(registry.transforms),
        &mut errors,
    );
    let sinks = split_family(Family::Sink, sinks, &names(registry.sinks), &mut errors);
    let warnings = check_graph([&sources, &transforms, &sinks], &mut errors);
    let config = Config {
        path: path.to_owned(),
        data_dir: paths::resolve(base, &globals.data_dir),
        shutdown_timeout: globals.shutdown_timeout.get(),
        exit_on_file: globals.exit_on_file.map(|p| paths::resolve(base, &p)),
        log: globals.log,
        api: globals.api,
        sources: parse_family(sources, registry.sources, base, &mut errors),
        transforms: parse_family(transforms, registry.transforms, base, &mut errors),
        sinks: parse_family(sinks, registry.sinks, base, &mut errors),
        warnings,
    };
    (errors.is_empty().then_some(config), errors)
}

/// The type names of one family.
fn names<C: ?Sized>(kinds: &[Kind<C>]) -> Vec<&'static str> {
    kinds.iter().map(|k| k.name).collect()
}

/// Takes one family's table (`[sources]`...) out of the file's.
fn take_family(
    table: &mut toml::Table,
    family: Family,
    errors: &mut Vec<FieldError>,
) -> BTreeMap<String, toml::Table> {
    match table.remove(family.table()) {
        None => BTreeMap::new(),
        Some(v) => parse_value(v).unwrap_or_else(|e| {
            errors.push(e.within(&[family.table()]));
            BTreeMap::new()
        }),
    }
}

fn check_globals(globals: &Globals, errors: &mut Vec<FieldError>) {
    let api = &globals.api;
    if api.enabled && api.address.parse::<std::net::SocketAddr>().is_err() {
        errors.push(FieldError::new(
            &["api", "address"],
            format!(
                "invalid address `{}`: expected IP:PORT, such as 0.0.0.0:8081",
                api.address
            ),
        ));
    }
    if let Some(address) = &api.log_metrics_address {
        if address.parse::<std::net::SocketAddr>().is_err() {
            errors.push(FieldError::new(
                &["api", "log_metrics_address"],
                format!("invalid address `{address}`: expected IP:PORT, such as 0.0.0.0:9145"),
            ));
        } else if !api.enabled {
            errors.push(FieldError::new(
                &["api", "log_metrics_address"],
                "the log metrics listener is part of the API: it needs `[api] enabled = true`",
            ));
        }
    }
    if let Some(level) = &globals.log.level {
        if let Err(e) = log_level::normalize(level) {
            errors.push(FieldError::new(&["log", "level"], e));
        }
    }
}

/// Checks the graph of every component named in the file; returns the warnings.
fn check_graph(families: [&Vec<Split>; 3], errors: &mut Vec<FieldError>) -> Vec<String> {
    if families.iter().all(|f| f.is_empty()) {
        errors.push(FieldError::new(
            &[],
            "the config defines no component: add at least one [sources.NAME] and one [sinks.NAME]",
        ));
    }
    let none = Vec::new();
    let nodes: Vec<(&str, Family, &Vec<String>)> = families
        .iter()
        .flat_map(|split| split.iter())
        .map(|s| {
            (
                s.name.as_str(),
                s.family,
                s.inputs.as_ref().unwrap_or(&none),
            )
        })
        .collect();
    let complete = families
        .iter()
        .flat_map(|split| split.iter())
        .all(|s| s.inputs.is_some());
    let (graph_errors, warnings) = graph::check(&nodes, complete);
    errors.extend(graph_errors);
    warnings
}

/// Parses every split component of one family with its registry.
fn parse_family<C: ?Sized>(
    split: Vec<Split>,
    kinds: &[Kind<C>],
    base: &Path,
    errors: &mut Vec<FieldError>,
) -> Vec<Component<C>> {
    let mut parsed = Vec::new();
    for s in split {
        let Some(kind) = s.kind else { continue };
        let place = [s.family.table(), s.name.as_str()];
        let Some(k) = kinds.iter().find(|k| k.name == kind) else {
            let names: Vec<&str> = kinds.iter().map(|k| k.name).collect();
            errors.push(unknown_kind(&kind, &names).within(&place));
            continue;
        };
        let mut rest = s.rest;
        paths::resolve_keys(base, &mut rest, k.paths);
        let (config, found) = parse_collecting(rest, k.parse);
        let ok = found.is_empty();
        errors.extend(found.into_iter().map(|e| e.within(&place)));
        match (config, s.inputs) {
            (Some(config), Some(inputs)) if ok => parsed.push(Component {
                name: s.name,
                kind: k.name,
                inputs,
                config,
            }),
            _ => {}
        }
    }
    parsed
}
