//! The `http` sink's configuration: the TOML schema as users write it. Batching, TLS, retries,
//! compression and dead letters are the tables every HTTP sink shares
//! ([`crate::sinks::common::config`]); the checks that need no network are in
//! [`super::settings`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigDuration;
use crate::sinks::common::config::{
    BatchConfig, Compression, DeadLetterConfig, RetryConfig, Secret, TlsConfig,
};

/// `[sinks.NAME] type = "http"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Where requests go: an `http` or `https` URI; strftime specifiers (event time, UTC) and
    /// `{{ field }}` references allowed. `%%` is a literal `%`.
    pub uri: String,
    /// `post` (default) or `put`.
    #[serde(default)]
    pub method: Method,
    /// How events are written in a body (default `ndjson`).
    #[serde(default)]
    pub encoding: Encoding,
    /// Key of the event timestamp in JSON encodings (default `timestamp`).
    #[serde(default = "default_timestamp_key")]
    pub timestamp_key: String,
    /// Loki push API settings (`encoding = "loki"` only).
    #[serde(default)]
    pub loki: Option<LokiConfig>,
    /// Request body compression: `none` (default) or `gzip`.
    #[serde(default = "default_compression")]
    pub compression: Compression,
    /// Time allowed for one request, response included (default `30s`).
    #[serde(default = "default_request_timeout")]
    pub request_timeout: ConfigDuration,
    /// Requests in flight at once (default 2); acknowledgements are still confirmed in order.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Extra headers sent with every request (values redacted in logs).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// When a request is sent.
    #[serde(default)]
    pub batch: BatchConfig,
    /// Credentials: basic (`user` + `password` or `password_file`) or a bearer token (`token`
    /// or `token_file`).
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// TLS settings for `https` URIs.
    #[serde(default)]
    pub tls: TlsConfig,
    /// Backoff between attempts; attempts never stop.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Where events refused for good (4xx) go.
    #[serde(default)]
    pub dead_letter: DeadLetterConfig,
}

fn default_timestamp_key() -> String {
    "timestamp".into()
}
fn default_compression() -> Compression {
    Compression::None
}
fn default_request_timeout() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(30))
}
fn default_max_in_flight() -> usize {
    2
}

/// The request method.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    #[default]
    Post,
    Put,
}

/// How events are written in a body.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// One JSON object per line (`application/x-ndjson`).
    #[default]
    Ndjson,
    /// One JSON array of objects (`application/json`).
    JsonArray,
    /// The message of each event, one per line (`text/plain`).
    Text,
    /// Loki's JSON push API body (`application/json`).
    Loki,
}

/// `loki = { labels, line }`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LokiConfig {
    /// Stream labels: name to template (`{{ field }}`, strftime); at least one.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The log line: `json` (default: the whole event) or `text` (its message).
    #[serde(default)]
    pub line: LokiLine,
}

/// What a Loki log line holds.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LokiLine {
    #[default]
    Json,
    Text,
}

/// `auth = { ... }`: basic credentials or a bearer token.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Basic auth user.
    #[serde(default)]
    pub user: Option<String>,
    /// Basic auth password.
    #[serde(default)]
    pub password: Option<Secret>,
    /// File holding the basic auth password (re-read after each 401/403).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Bearer token.
    #[serde(default)]
    pub token: Option<Secret>,
    /// File holding the bearer token (re-read after each 401/403).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
}
