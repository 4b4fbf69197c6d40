//! The `http` sink: batches of events to any HTTP endpoint that takes them (ClickHouse's
//! `INSERT ... FORMAT JSONEachRow`, Loki's push API, Splunk HEC, a webhook), with the
//! `elasticsearch` sink's contract: a batch is acknowledged only once its events were accepted
//! (2xx) or dead-lettered, never dropped.
//!
//! Layout, in the order data flows:
//! - [`config`]: the TOML schema; [`settings`]: its checks and compiled form.
//! - [`encoder`]: events into bodies (NDJSON, JSON array, text lines, Loki), one URI per body.
//! - [`sink`]: the run loop (batching, requests in flight, ordered confirmations).
//! - [`deliver`]: one body until it is settled: retries, `Retry-After`, dead letters.
//!
//! The TLS client, credentials, backoff, gzip, ledger and dead-letter file are the ones the
//! `elasticsearch` sink uses ([`crate::sinks::common`]).

pub mod config;
pub mod deliver;
pub mod encoder;
pub mod settings;
pub mod sink;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::{SinkConfig, SinkContext, SinkError, SinkFuture};
use crate::config::{parse_table, FieldError};
use crate::event::Batch;
use crate::sinks::common::auth::Credentials;
use crate::sinks::common::client;
use crate::sinks::common::dead_letter::DeadLetterFile;
use crate::sinks::common::problems::{Every, ProblemLog};
use crate::sinks::common::retry::Backoff;
pub use config::HttpConfig;
use config::{Encoding, Method};
use deliver::Shared;
use encoder::HttpEncoder;
use settings::Settings;
use sink::Limits;

/// How often a lasting problem is logged again.
const PROBLEM_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// A validated `http` sink config.
#[derive(Debug, Clone)]
pub struct HttpSinkConfig {
    /// The config as written.
    pub config: HttpConfig,
    /// What was compiled from it.
    pub settings: Settings,
}

impl HttpSinkConfig {
    /// Parses and checks a `[sinks.NAME]` table of type `http`.
    pub fn parse(table: toml::Table) -> Result<HttpSinkConfig, FieldError> {
        let config: HttpConfig = parse_table(table)?;
        let settings = settings::compile(&config)?;
        Ok(HttpSinkConfig { config, settings })
    }
}

impl SinkConfig for HttpSinkConfig {
    fn kind(&self) -> &'static str {
        "http"
    }

    fn build(
        &self,
        ctx: SinkContext,
        input: mpsc::Receiver<Batch>,
    ) -> Result<SinkFuture, SinkError> {
        let c = &self.config;
        let client = client::build(
            c.request_timeout.get(),
            self.settings.headers.clone(),
            &c.tls,
        )?;
        let credentials = Credentials::new(c.auth.as_ref().and_then(settings::scheme));
        if let Err(e) = credentials.reload() {
            tracing::error!(message = "Cannot read the HTTP sink's credentials; retrying before each request.", sink = %ctx.name, error = %e);
        }
        let content_type = (!self.settings.content_type_set).then_some(match c.encoding {
            Encoding::Ndjson => "application/x-ndjson",
            Encoding::JsonArray | Encoding::Loki => "application/json",
            Encoding::Text => "text/plain; charset=utf-8",
        });
        let dead_letters = c.dead_letter.enabled.then(|| {
            Arc::new(Mutex::new(DeadLetterFile::new(
                &ctx.data_dir,
                &ctx.name,
                c.dead_letter.max_bytes.0,
            )))
        });
        let shared = Arc::new(Shared {
            name: ctx.name.clone(),
            client,
            method: match c.method {
                Method::Post => reqwest::Method::POST,
                Method::Put => reqwest::Method::PUT,
            },
            content_type,
            credentials,
            compression: c.compression,
            backoff: Backoff::new(&c.retry),
            dead_letters,
            problems: ProblemLog::new(PROBLEM_LOG_INTERVAL),
            rejection_log: Every::new(PROBLEM_LOG_INTERVAL),
        });
        let limits = Limits {
            max_events: c.batch.max_events,
            max_bytes: c.batch.max_bytes.as_usize(),
            timeout: c.batch.timeout.get(),
            max_in_flight: c.max_in_flight,
        };
        let line = c.loki.as_ref().map(|l| l.line).unwrap_or_default();
        let encoder = HttpEncoder::new(&self.settings, c.encoding, line, &c.timestamp_key);
        Ok(Box::pin(sink::run(shared, encoder, limits, ctx, input)))
    }
}
