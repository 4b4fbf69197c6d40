//! The configuration: one TOML file, interpolated, parsed, validated, then turned into typed
//! component configs.
//!
//! Loading has two stages, so that the rest of skiff only ever sees a valid config:
//! 1. the text is interpolated (`${VAR}`), parsed as TOML, and split into global settings and
//!    named components, each with its `type` and `inputs`;
//! 2. the graph is checked (unknown inputs, cycles, duplicate names, components without inputs)
//!    and each component's table is handed to its type's parser, which rejects unknown keys and
//!    bad values and compiles what it needs (regexes, templates).
//!
//! Every error names the file, the line and column, and the TOML path of the culprit.
//!
//! This module sits below the components: it knows nothing of sources, transforms or sinks.
//! Each component family lists its types in a table of [`Kind`]s (its registry), and
//! [`crate::components`] hands the three tables to [`load`] as a [`Registry`]. The components
//! import their value types ([`ByteSize`], [`ConfigDuration`], [`FieldError`]) from here, and
//! nothing here imports them back.

pub mod interpolate;
pub mod locate;
pub mod units;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use thiserror::Error;

pub use units::{ByteSize, ConfigDuration};

/// The default config path inside the container.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/skiff/skiff.toml";

/// An error in one place of the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// TOML path of the culprit, relative to where the parser started.
    pub path: Vec<String>,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// An error at `path`.
    pub fn new(path: &[&str], message: impl Into<String>) -> FieldError {
        FieldError {
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            message: message.into(),
        }
    }

    /// The same error, seen from a parent table named `prefix`.
    pub fn within(mut self, prefix: &[&str]) -> FieldError {
        let mut path: Vec<String> = prefix.iter().map(|s| (*s).to_owned()).collect();
        path.append(&mut self.path);
        self.path = path;
        self
    }
}

/// A config that cannot be used: every problem found, each with its place.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

/// Log output settings (`[log]`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// Level filter (`info`, `debug`, `skiff=debug,warn`...); `SKIFF_LOG` overrides it.
    #[serde(default)]
    pub level: Option<String>,
    /// `text` (default) or `json`.
    #[serde(default)]
    pub format: LogFormat,
}

/// How skiff writes its own logs (always to stderr).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The HTTP listener for probes and metrics (`[api]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Serve `/health`, `/ready` and `/metrics` (default true).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Address to listen on, as `IP:PORT` (default `0.0.0.0:8081`; port 0 picks a free port).
    #[serde(default = "default_api_address")]
    pub address: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            enabled: true,
            address: default_api_address(),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_api_address() -> String {
    "0.0.0.0:8081".into()
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/skiff")
}

fn default_shutdown_timeout() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(20))
}

/// The global settings, as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Directory for checkpoints and dead letters.
    #[serde(default = "default_data_dir")]
    data_dir: PathBuf,
    /// How long a drain may take after SIGTERM before skiff gives up and exits.
    #[serde(default = "default_shutdown_timeout")]
    shutdown_timeout: ConfigDuration,
    /// When this file appears, skiff drains and exits 0 (Jobs).
    #[serde(default)]
    exit_on_file: Option<PathBuf>,
    #[serde(default)]
    log: LogConfig,
    #[serde(default)]
    api: ApiConfig,
    #[serde(default)]
    sources: BTreeMap<String, toml::Table>,
    #[serde(default)]
    transforms: BTreeMap<String, toml::Table>,
    #[serde(default)]
    sinks: BTreeMap<String, toml::Table>,
}

/// A named component and the names it reads from.
#[derive(Debug)]
pub struct Component<C: ?Sized> {
    pub name: String,
    /// Its `type`.
    pub kind: &'static str,
    pub inputs: Vec<String>,
    pub config: Box<C>,
}

/// One component type: its `type` name and the parser of its table.
pub struct Kind<C: ?Sized> {
    pub name: &'static str,
    pub parse: fn(toml::Table) -> Result<Box<C>, FieldError>,
}

/// The component types a config may use, one table per family; each family fills its own.
pub struct Registry<S: ?Sized + 'static, T: ?Sized + 'static, K: ?Sized + 'static> {
    pub sources: &'static [Kind<S>],
    pub transforms: &'static [Kind<T>],
    pub sinks: &'static [Kind<K>],
}

/// Parses `table` with the kind named `kind` in `kinds`, or says which kinds exist.
pub fn parse_kind<C: ?Sized>(
    kinds: &[Kind<C>],
    kind: &str,
    table: toml::Table,
) -> Result<(&'static str, Box<C>), FieldError> {
    match kinds.iter().find(|k| k.name == kind) {
        Some(k) => Ok((k.name, (k.parse)(table)?)),
        None => {
            let names: Vec<&str> = kinds.iter().map(|k| k.name).collect();
            Err(unknown_kind(kind, &names))
        }
    }
}

/// A validated config, its components typed by the registry it was loaded with (see
/// `crate::components::Config` for skiff's own).
#[derive(Debug)]
pub struct Config<S: ?Sized, T: ?Sized, K: ?Sized> {
    /// The file it was loaded from.
    pub path: PathBuf,
    pub data_dir: PathBuf,
    pub shutdown_timeout: Duration,
    pub exit_on_file: Option<PathBuf>,
    pub log: LogConfig,
    pub api: ApiConfig,
    pub sources: Vec<Component<S>>,
    pub transforms: Vec<Component<T>>,
    pub sinks: Vec<Component<K>>,
    /// Problems worth a warning that do not stop skiff (a component that feeds nothing).
    pub warnings: Vec<String>,
}

impl<S: ?Sized, T: ?Sized, K: ?Sized> Config<S, T, K> {
    /// A one-line summary of the topology, for `skiff validate`.
    pub fn summary(&self) -> String {
        fn names<C: ?Sized>(components: &[Component<C>]) -> String {
            let names: Vec<String> = components
                .iter()
                .map(|c| format!("{}: {}", c.name, c.kind))
                .collect();
            names.join(", ")
        }
        format!(
            "{} source(s) [{}], {} transform(s) [{}], {} sink(s) [{}]",
            self.sources.len(),
            names(&self.sources),
            self.transforms.len(),
            names(&self.transforms),
            self.sinks.len(),
            names(&self.sinks),
        )
    }
}

/// Reads, interpolates and validates the config file at `path` with the process environment.
pub fn load<S: ?Sized, T: ?Sized, K: ?Sized>(
    path: &Path,
    registry: &Registry<S, T, K>,
) -> Result<Config<S, T, K>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    load_str(path, &text, |name| std::env::var(name).ok(), registry)
}

/// Validates config `text` (named `path` in messages), looking variables up with `env`.
pub fn load_str<S: ?Sized, T: ?Sized, K: ?Sized>(
    path: &Path,
    text: &str,
    env: impl Fn(&str) -> Option<String>,
    registry: &Registry<S, T, K>,
) -> Result<Config<S, T, K>, ConfigError> {
    let file = path.display().to_string();
    let text = interpolate::interpolate(text, env).map_err(|e| {
        let pos = locate::position_of(text, e.offset);
        ConfigError::Invalid(vec![format!(
            "{file}:{}:{}: {}",
            pos.line, pos.column, e.message
        )])
    })?;
    let place = |e: FieldError| -> String {
        let pos = locate::locate(&text, &e.path)
            .map(|p| format!(":{}:{}", p.line, p.column))
            .unwrap_or_default();
        if e.path.is_empty() {
            format!("{file}{pos}: {}", e.message)
        } else {
            format!("{file}{pos}: {}: {}", e.path.join("."), e.message)
        }
    };
    let value: toml::Table = toml::from_str(&text).map_err(|e| {
        let pos = e
            .span()
            .map(|s| locate::position_of(&text, s.start))
            .map(|p| format!(":{}:{}", p.line, p.column))
            .unwrap_or_default();
        ConfigError::Invalid(vec![format!("{file}{pos}: {}", e.message())])
    })?;
    let raw: RawConfig = parse_table(value).map_err(|e| ConfigError::Invalid(vec![place(e)]))?;
    build(path, raw, registry)
        .map_err(|errs| ConfigError::Invalid(errs.into_iter().map(place).collect()))
}

fn build<S: ?Sized, T: ?Sized, K: ?Sized>(
    path: &Path,
    raw: RawConfig,
    registry: &Registry<S, T, K>,
) -> Result<Config<S, T, K>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut config = Config {
        path: path.to_owned(),
        data_dir: raw.data_dir,
        shutdown_timeout: raw.shutdown_timeout.get(),
        exit_on_file: raw.exit_on_file,
        log: raw.log,
        api: raw.api,
        sources: Vec::new(),
        transforms: Vec::new(),
        sinks: Vec::new(),
        warnings: Vec::new(),
    };
    if config.api.enabled && config.api.address.parse::<std::net::SocketAddr>().is_err() {
        errors.push(FieldError::new(
            &["api", "address"],
            format!(
                "invalid address `{}`: expected IP:PORT, such as 0.0.0.0:8081",
                config.api.address
            ),
        ));
    }
    if let Some(level) = &config.log.level {
        if tracing_subscriber::EnvFilter::try_new(level).is_err() {
            errors.push(FieldError::new(
                &["log", "level"],
                format!("invalid log level `{level}`"),
            ));
        }
    }
    let sources = split_family(Family::Source, raw.sources, &mut errors);
    let transforms = split_family(Family::Transform, raw.transforms, &mut errors);
    let sinks = split_family(Family::Sink, raw.sinks, &mut errors);
    if sources.is_empty() && transforms.is_empty() && sinks.is_empty() {
        errors.push(FieldError::new(
            &[],
            "the config defines no component: add at least one [sources.NAME] and one [sinks.NAME]",
        ));
    }
    let nodes: Vec<(&str, Family, &Vec<String>)> = [
        (Family::Source, &sources),
        (Family::Transform, &transforms),
        (Family::Sink, &sinks),
    ]
    .into_iter()
    .flat_map(|(family, split)| {
        split
            .iter()
            .map(move |s| (s.name.as_str(), family, &s.inputs))
    })
    .collect();
    let (graph_errors, warnings) = graph::check(&nodes);
    errors.extend(graph_errors);
    config.warnings.extend(warnings);
    config.sources = parse_family(sources, registry.sources, &mut errors);
    config.transforms = parse_family(transforms, registry.transforms, &mut errors);
    config.sinks = parse_family(sinks, registry.sinks, &mut errors);
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

/// A component's table with `type` and `inputs` taken out.
struct Split {
    family: Family,
    name: String,
    /// `None` when `type` itself is wrong (already reported).
    kind: Option<String>,
    inputs: Vec<String>,
    rest: toml::Table,
}

/// Splits every component of one family. A component whose `type` or `inputs` is wrong is
/// reported and still kept by name, so that those reading from it get no second error.
fn split_family(
    family: Family,
    components: BTreeMap<String, toml::Table>,
    errors: &mut Vec<FieldError>,
) -> Vec<Split> {
    let needs_inputs = family != Family::Source;
    components
        .into_iter()
        .map(|(name, t)| match split_component(&t, needs_inputs) {
            Ok((kind, inputs, rest)) => Split {
                family,
                name,
                kind: Some(kind),
                inputs,
                rest,
            },
            Err(e) => {
                errors.push(e.within(&[family.table(), &name]));
                Split {
                    family,
                    name,
                    kind: None,
                    inputs: Vec::new(),
                    rest: toml::Table::new(),
                }
            }
        })
        .collect()
}

/// Parses every split component of one family with its registry.
fn parse_family<C: ?Sized>(
    split: Vec<Split>,
    kinds: &[Kind<C>],
    errors: &mut Vec<FieldError>,
) -> Vec<Component<C>> {
    let mut parsed = Vec::new();
    for s in split {
        let Some(kind) = s.kind else { continue };
        match parse_kind(kinds, &kind, s.rest) {
            Ok((kind, config)) => parsed.push(Component {
                name: s.name,
                kind,
                inputs: s.inputs,
                config,
            }),
            Err(e) => errors.push(e.within(&[s.family.table(), &s.name])),
        }
    }
    parsed
}

/// Takes `type` and `inputs` out of a component's table and returns the rest.
fn split_component(
    table: &toml::Table,
    needs_inputs: bool,
) -> Result<(String, Vec<String>, toml::Table), FieldError> {
    let mut rest = table.clone();
    let kind = match rest.remove("type") {
        Some(toml::Value::String(s)) => s,
        Some(_) => return Err(FieldError::new(&["type"], "`type` must be a string")),
        None => return Err(FieldError::new(&[], "missing `type`")),
    };
    let inputs = match rest.remove("inputs") {
        None if needs_inputs => {
            return Err(FieldError::new(
                &[],
                "missing `inputs`: name the components this one reads from",
            ))
        }
        None => Vec::new(),
        Some(_) if !needs_inputs => {
            return Err(FieldError::new(
                &["inputs"],
                "a source reads no input: remove `inputs`",
            ))
        }
        Some(v) => {
            let inputs: Vec<String> = parse_value(v).map_err(|e| e.within(&["inputs"]))?;
            if inputs.is_empty() {
                return Err(FieldError::new(
                    &["inputs"],
                    "`inputs` is empty: name at least one component",
                ));
            }
            inputs
        }
    };
    Ok((kind, inputs, rest))
}

/// Deserializes a component's table into its typed config, keeping the path of any error.
pub fn parse_table<T: DeserializeOwned>(table: toml::Table) -> Result<T, FieldError> {
    parse_value(toml::Value::Table(table))
}

/// Deserializes a TOML value into `T`, keeping the path of any error.
pub fn parse_value<T: DeserializeOwned>(value: toml::Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path: Vec<String> = e
            .path()
            .iter()
            .filter_map(|seg| match seg {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                _ => None,
            })
            .collect();
        let message = e.into_inner().to_string();
        // serde names an unknown key only in its message: point the path at that key.
        if let Some(rest) = message.strip_prefix("unknown field `") {
            if let Some(end) = rest.find('`') {
                let key = &rest[..end];
                if path.last().map(String::as_str) != Some(key) {
                    path.push(key.to_owned());
                }
            }
        }
        FieldError { path, message }
    })
}

/// Checks a component config's kind name against a list, with a helpful message.
pub fn unknown_kind(kind: &str, valid: &[&str]) -> FieldError {
    FieldError::new(
        &["type"],
        format!(
            "unknown type `{kind}`, expected one of: {}",
            valid.join(", ")
        ),
    )
}

pub mod graph;

use graph::Family;
