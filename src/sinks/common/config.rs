//! Configuration shared by the sinks that deliver over HTTP (`elasticsearch`, `http`): secrets,
//! body compression, batching, TLS, retries and dead letters. Each sink's own schema embeds these
//! tables, so the same keys mean the same thing in every sink.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{ByteSize, ConfigDuration};

fn default_true() -> bool {
    true
}

/// A string that must never be logged: `Debug` prints `"<redacted>"`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for building a header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_owned())
    }
}

/// Body compression.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `Content-Encoding: gzip`, fastest level.
    #[default]
    Gzip,
    /// Plain NDJSON.
    None,
}

/// `batch = { max_events, max_bytes, timeout }`: a bulk request is sent when one limit is reached.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// Documents per request (default 5000).
    #[serde(default = "default_max_events")]
    pub max_events: usize,
    /// Uncompressed body size per request (default `10MiB`); a single larger document is sent
    /// alone.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: ByteSize,
    /// Longest wait between a document's arrival and its request (default `1s`).
    #[serde(default = "default_batch_timeout")]
    pub timeout: ConfigDuration,
}

fn default_max_events() -> usize {
    5000
}
fn default_max_bytes() -> ByteSize {
    ByteSize(10 << 20)
}
fn default_batch_timeout() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(1))
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_events: default_max_events(),
            max_bytes: default_max_bytes(),
            timeout: default_batch_timeout(),
        }
    }
}

/// `tls = { ... }`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of CA certificates trusted besides the built-in roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Verify the server's certificate and name (default true). Turning it off is insecure.
    #[serde(default = "default_true")]
    pub verify: bool,
    /// PEM client certificate (mutual TLS), with `key_file`.
    #[serde(default)]
    pub crt_file: Option<PathBuf>,
    /// PEM private key of the client certificate.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            ca_file: None,
            verify: true,
            crt_file: None,
            key_file: None,
        }
    }
}

/// `retry = { initial_backoff, max_backoff }`: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Upper bound of the first wait (default `100ms`); doubles on each attempt.
    #[serde(default = "default_initial_backoff")]
    pub initial_backoff: ConfigDuration,
    /// Largest upper bound of a wait (default `30s`).
    #[serde(default = "default_max_backoff")]
    pub max_backoff: ConfigDuration,
}

fn default_initial_backoff() -> ConfigDuration {
    ConfigDuration(Duration::from_millis(100))
}
fn default_max_backoff() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(30))
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            initial_backoff: default_initial_backoff(),
            max_backoff: default_max_backoff(),
        }
    }
}

/// `dead_letter = { enabled, max_bytes }`: the file `DATA_DIR/dead-letter/SINKNAME.ndjson`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterConfig {
    /// Write rejected documents to the file (default true); when false they are counted, logged
    /// and dropped.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Size at which the file is rotated to `.1` (default `100MiB`); the previous `.1` is removed.
    #[serde(default = "default_dead_letter_bytes")]
    pub max_bytes: ByteSize,
}

fn default_dead_letter_bytes() -> ByteSize {
    ByteSize(100 << 20)
}

impl Default for DeadLetterConfig {
    fn default() -> Self {
        DeadLetterConfig {
            enabled: true,
            max_bytes: default_dead_letter_bytes(),
        }
    }
}
