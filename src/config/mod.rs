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

mod collect;
pub mod interpolate;
mod load;
pub mod locate;
pub mod log_level;
pub mod paths;
mod split;
pub mod units;
pub mod wording;

pub use load::{load, load_str};

use std::path::PathBuf;
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
    /// The cause is part of the message (not a `source()`), so that it is printed once.
    #[error("cannot read config file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

/// Log output settings (`[log]`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// Level filter (`info`, `debug`, `skiff=debug,warn`...; Fluent Bit's `warning` too);
    /// `SKIFF_LOG` overrides it. An unknown level is refused ([`log_level`]).
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
    /// Serve the metrics `log_to_metric` makes on a listener of their own, at this address's
    /// `/metrics` (`IP:PORT`), instead of beside skiff's own on the API's `/metrics`.
    #[serde(default)]
    pub log_metrics_address: Option<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            enabled: true,
            address: default_api_address(),
            log_metrics_address: None,
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

/// The global settings, as written in the file (the component tables are taken out first).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Globals {
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
}

impl Default for Globals {
    fn default() -> Self {
        Globals {
            data_dir: default_data_dir(),
            shutdown_timeout: default_shutdown_timeout(),
            exit_on_file: None,
            log: LogConfig::default(),
            api: ApiConfig::default(),
        }
    }
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
    /// The keys of its table that hold file paths (dotted for nested tables: `tls.ca_file`),
    /// resolved against the config file's folder when relative ([`paths`]).
    pub paths: &'static [&'static str],
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
        // The message alone: toml's `Display` appends the key again (`in `max_lines``).
        let message = wording::humanize(e.into_inner().message());
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
