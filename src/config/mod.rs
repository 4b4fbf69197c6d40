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

pub mod interpolate;
pub mod locate;
pub mod units;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use thiserror::Error;

use crate::sinks::SinkConfig;
use crate::sources::SourceConfig;
use crate::transforms::TransformConfig;
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
    pub inputs: Vec<String>,
    pub config: Box<C>,
}

/// A validated config.
#[derive(Debug)]
pub struct Config {
    /// The file it was loaded from.
    pub path: PathBuf,
    pub data_dir: PathBuf,
    pub shutdown_timeout: Duration,
    pub exit_on_file: Option<PathBuf>,
    pub log: LogConfig,
    pub api: ApiConfig,
    pub sources: Vec<Component<dyn SourceConfig>>,
    pub transforms: Vec<Component<dyn TransformConfig>>,
    pub sinks: Vec<Component<dyn SinkConfig>>,
    /// Problems worth a warning that do not stop skiff (a component that feeds nothing).
    pub warnings: Vec<String>,
}

impl Config {
    /// A one-line summary of the topology, for `skiff validate`.
    pub fn summary(&self) -> String {
        let names = |v: Vec<String>| v.join(", ");
        format!(
            "{} source(s) [{}], {} transform(s) [{}], {} sink(s) [{}]",
            self.sources.len(),
            names(
                self.sources
                    .iter()
                    .map(|c| format!("{}: {}", c.name, c.config.kind()))
                    .collect()
            ),
            self.transforms.len(),
            names(
                self.transforms
                    .iter()
                    .map(|c| format!("{}: {}", c.name, c.config.kind()))
                    .collect()
            ),
            self.sinks.len(),
            names(
                self.sinks
                    .iter()
                    .map(|c| format!("{}: {}", c.name, c.config.kind()))
                    .collect()
            ),
        )
    }
}

/// Reads, interpolates and validates the config file at `path` with the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    load_str(path, &text, |name| std::env::var(name).ok())
}

/// Validates config `text` (named `path` in messages), looking variables up with `env`.
pub fn load_str(
    path: &Path,
    text: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
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
    build(path, raw).map_err(|errs| ConfigError::Invalid(errs.into_iter().map(place).collect()))
}

fn build(path: &Path, raw: RawConfig) -> Result<Config, Vec<FieldError>> {
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
    for (name, table) in raw.sources {
        match split_component(&table, false)
            .and_then(|(kind, _, rest)| crate::sources::parse(&kind, rest))
        {
            Ok(cfg) => config.sources.push(Component {
                name,
                inputs: Vec::new(),
                config: cfg,
            }),
            Err(e) => errors.push(e.within(&["sources", &name])),
        }
    }
    for (name, table) in raw.transforms {
        match split_component(&table, true)
            .and_then(|(kind, inputs, rest)| Ok((crate::transforms::parse(&kind, rest)?, inputs)))
        {
            Ok((cfg, inputs)) => config.transforms.push(Component {
                name,
                inputs,
                config: cfg,
            }),
            Err(e) => errors.push(e.within(&["transforms", &name])),
        }
    }
    for (name, table) in raw.sinks {
        match split_component(&table, true)
            .and_then(|(kind, inputs, rest)| Ok((crate::sinks::parse(&kind, rest)?, inputs)))
        {
            Ok((cfg, inputs)) => config.sinks.push(Component {
                name,
                inputs,
                config: cfg,
            }),
            Err(e) => errors.push(e.within(&["sinks", &name])),
        }
    }
    if config.sources.is_empty() && config.transforms.is_empty() && config.sinks.is_empty() {
        errors.push(FieldError::new(
            &[],
            "the config defines no component: add at least one [sources.NAME] and one [sinks.NAME]",
        ));
    }
    errors.extend(graph::check(&mut config));
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
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
