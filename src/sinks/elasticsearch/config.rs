//! The `elasticsearch` sink's configuration: the TOML schema as users write it, and its checks.
//!
//! Everything that can be checked without touching the network or the filesystem is checked here,
//! at config load, with the TOML path of the culprit: endpoints, index templates, header names,
//! option combinations (data streams need `create` and `@timestamp`). Files (TLS, credentials)
//! are read when the sink starts ([`super::service`], [`crate::sinks::common::auth`]).
//!
//! Secrets (passwords, API keys) are held in [`Secret`], whose `Debug` prints a placeholder, so a
//! config dump in a log never shows them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigDuration;
use crate::sinks::common::auth::{Scheme, SecretSource};
pub use crate::sinks::common::config::{
    BatchConfig, Compression, DeadLetterConfig, RetryConfig, Secret, TlsConfig,
};

/// `[sinks.NAME] type = "elasticsearch"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchConfig {
    /// Base URLs of the cluster's HTTP endpoints (`http://es-0:9200`), used round-robin; a failing
    /// endpoint is skipped until it recovers.
    pub endpoints: Vec<String>,
    /// Index name template (bulk mode): strftime specifiers on the event time in UTC and
    /// `{{ field.path }}` references. Default `skiff-%Y.%m.%d`.
    #[serde(default)]
    pub index: Option<String>,
    /// `bulk` (default) or `data_stream`.
    #[serde(default)]
    pub mode: Mode,
    /// Data stream name parts (data stream mode): `type-dataset-namespace`.
    #[serde(default)]
    pub data_stream: Option<DataStreamConfig>,
    /// Bulk action: `create` (default) or `index`. Data streams only accept `create`.
    #[serde(default)]
    pub action: Option<Action>,
    /// Ingest pipeline applied to every document; empty for none.
    #[serde(default)]
    pub pipeline: String,
    /// Document ids: `deterministic` (default; from the file identity and the line offset) or
    /// `none` (Elasticsearch generates them).
    #[serde(default)]
    pub id: IdMode,
    /// Take the document id from this field when the event has it (else `id` applies).
    #[serde(default)]
    pub id_field: Option<String>,
    /// Key of the event timestamp in documents (default `@timestamp`).
    #[serde(default = "default_timestamp_key")]
    pub timestamp_key: String,
    /// Request body compression: `gzip` (default) or `none`.
    #[serde(default)]
    pub compression: Compression,
    /// Time allowed for one HTTP request, response included (default `30s`).
    #[serde(default = "default_request_timeout")]
    pub request_timeout: ConfigDuration,
    /// Bulk requests in flight at once (default 2). Acknowledgements are still confirmed in
    /// order.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// `GET /` at start to log the cluster's version (default true). Never blocks startup.
    #[serde(default = "default_true")]
    pub healthcheck: bool,
    /// Extra HTTP headers sent with every request (values are redacted in logs: they may carry
    /// tokens).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// When a bulk request is sent.
    #[serde(default)]
    pub batch: BatchConfig,
    /// Credentials: basic (`user` + `password` or `password_file`) or an API key (`api_key` or
    /// `api_key_file`).
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// TLS settings for `https` endpoints.
    #[serde(default)]
    pub tls: TlsConfig,
    /// Backoff between attempts; attempts never stop (the file is the buffer).
    #[serde(default)]
    pub retry: RetryConfig,
    /// Where documents rejected for good go.
    #[serde(default)]
    pub dead_letter: DeadLetterConfig,
}

fn default_timestamp_key() -> String {
    "@timestamp".into()
}
fn default_request_timeout() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(30))
}
fn default_max_in_flight() -> usize {
    2
}
fn default_true() -> bool {
    true
}

/// How documents are written.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Regular indices named by `index`.
    #[default]
    Bulk,
    /// A data stream named by `data_stream`; `create` actions, `@timestamp` required.
    DataStream,
}

/// The bulk action of each document.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Fails with 409 when the id exists: with deterministic ids, a resent document is indexed
    /// once.
    #[default]
    Create,
    /// Replaces a document with the same id.
    Index,
}

impl Action {
    /// The action's name in the bulk body.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Index => "index",
        }
    }
}

/// How document ids are chosen when `id_field` gives none.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum IdMode {
    /// Derived from the file's identity and the line's offset: stable across retries and restarts.
    #[default]
    Deterministic,
    /// No `_id`: Elasticsearch generates one (faster indexing, duplicates possible on resend).
    None,
}

/// `data_stream = { type, dataset, namespace }`: the stream is `type-dataset-namespace`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DataStreamConfig {
    /// Generic type of the data (default `logs`).
    #[serde(default = "default_ds_type", rename = "type")]
    pub kind: String,
    /// What the data is (default `generic`); templates allowed.
    #[serde(default = "default_ds_dataset")]
    pub dataset: String,
    /// A user-defined grouping (default `default`); templates allowed.
    #[serde(default = "default_ds_namespace")]
    pub namespace: String,
}

fn default_ds_type() -> String {
    "logs".into()
}
fn default_ds_dataset() -> String {
    "generic".into()
}
fn default_ds_namespace() -> String {
    "default".into()
}

impl Default for DataStreamConfig {
    fn default() -> Self {
        DataStreamConfig {
            kind: default_ds_type(),
            dataset: default_ds_dataset(),
            namespace: default_ds_namespace(),
        }
    }
}

/// `auth = { ... }`: one of basic credentials or an API key.
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
    /// API key as Elasticsearch returns it (`encoded`: base64 of `id:key`); `id:key` is accepted
    /// too.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// File holding the API key (re-read after each 401/403).
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
}

impl AuthConfig {
    /// The scheme of a validated config: basic when `user` is set, else the API key.
    pub fn scheme(&self) -> Option<Scheme> {
        match &self.user {
            Some(user) => Some(Scheme::Basic {
                user: user.clone(),
                password: SecretSource::of(&self.password, &self.password_file)?,
            }),
            None => SecretSource::of(&self.api_key, &self.api_key_file).map(Scheme::ApiKey),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_example_parses() {
        let c: ElasticsearchConfig = toml::from_str(
            r#"
            endpoints = ["http://es-0:9200", "http://es-1:9200"]
            index = "app-logs-%Y.%m.%d"
            action = "index"
            pipeline = "p"
            id = "none"
            id_field = "request_id"
            compression = "none"
            request_timeout = "5s"
            max_in_flight = 4
            healthcheck = false
            headers = { "X-Tenant" = "a" }
            batch = { max_events = 10, max_bytes = "1MiB", timeout = "200ms" }
            auth = { user = "elastic", password = "hunter2" }
            tls = { ca_file = "/ca.pem", verify = false }
            retry = { initial_backoff = "10ms", max_backoff = "1s" }
            dead_letter = { enabled = false, max_bytes = "1MiB" }
            "#,
        )
        .unwrap();
        assert_eq!(c.action, Some(Action::Index));
        assert_eq!(c.id, IdMode::None);
        assert_eq!(c.batch.max_bytes.0, 1 << 20);
        assert_eq!(c.max_in_flight, 4);
        assert!(!c.tls.verify);
        assert!(!c.dead_letter.enabled);
        assert_eq!(c.headers.get("X-Tenant").map(Secret::expose), Some("a"));
    }

    #[test]
    fn defaults() {
        let c: ElasticsearchConfig = toml::from_str(r#"endpoints = ["http://es:9200"]"#).unwrap();
        assert_eq!(c.mode, Mode::Bulk);
        assert_eq!(c.timestamp_key, "@timestamp");
        assert_eq!(c.compression, Compression::Gzip);
        assert_eq!(c.batch, BatchConfig::default());
        assert_eq!(c.max_in_flight, 2);
        assert!(c.healthcheck && c.tls.verify && c.dead_letter.enabled);
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c: ElasticsearchConfig = toml::from_str(
            r#"
            endpoints = ["http://es:9200"]
            auth = { user = "elastic", password = "hunter2", api_key = "c2VjcmV0" }
            "#,
        )
        .unwrap();
        let dump = format!("{c:?}");
        assert!(!dump.contains("hunter2"), "{dump}");
        assert!(!dump.contains("c2VjcmV0"), "{dump}");
        assert!(dump.contains("elastic"), "{dump}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        for bad in [
            "endpoints = [\"http://es:9200\"]\nendpoint = \"x\"",
            "endpoints = [\"http://es:9200\"]\nbatch = { max_event = 1 }",
            "endpoints = [\"http://es:9200\"]\nmode = \"stream\"",
        ] {
            assert!(toml::from_str::<ElasticsearchConfig>(bad).is_err(), "{bad}");
        }
    }
}
