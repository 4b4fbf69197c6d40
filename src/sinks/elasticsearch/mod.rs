//! The `elasticsearch` sink: documents to Elasticsearch (or OpenSearch) through the bulk API.
//!
//! Layout, in the order data flows:
//! - [`config`]: the TOML schema; [`settings`]: its checks and compiled form.
//! - [`template`]: index names (`app-logs-%Y.%m.%d`, `{{ field }}`); [`id`]: document ids.
//! - [`encoder`]: documents as NDJSON into [`request`] bodies.
//! - [`sink`]: the run loop (batching, deliveries in flight, ordered confirmations through the
//!   shared [`ledger`](crate::sinks::common::ledger)).
//! - [`deliver`]: one request until every document is settled, with
//!   [`retry`](crate::sinks::common::retry) backoff.
//! - [`service`]: HTTP (the shared [`client`](crate::sinks::common::client) and
//!   [`auth`](crate::sinks::common::auth), [`endpoints`] rotation); [`response`]: what an answer
//!   means.
//! - [`dead_letter`]: documents refused for good, in the shared dead-letter file.
//!
//! Guarantees: at least once, and exactly once in the index with deterministic ids and `create`
//! actions (a resent document gets a 409, counted as delivered). A batch is confirmed to its
//! source only once each of its documents is indexed or dead-lettered.

pub mod config;
pub mod dead_letter;
pub mod deliver;
pub mod encoder;
pub mod endpoints;
pub mod id;
pub mod request;
pub mod response;
pub mod service;
pub mod settings;
pub mod sink;
pub mod template;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::{SinkConfig, SinkContext, SinkError, SinkFuture};
use crate::config::{parse_table, FieldError};
use crate::event::Batch;
use crate::sinks::common::problems::{Every, ProblemLog};
use crate::sinks::common::retry::Backoff;
pub use config::ElasticsearchConfig;
use dead_letter::DeadLetterFile;
use deliver::Shared;
pub use encoder::{BulkEncoder, EncodeSettings};
pub use request::{Bulk, BulkBuilder};
use service::Service;
use settings::Settings;
use sink::Limits;

/// How often a lasting problem is logged again.
const PROBLEM_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// A validated `elasticsearch` sink config.
#[derive(Debug, Clone)]
pub struct ElasticsearchSinkConfig {
    /// The config as written.
    pub config: ElasticsearchConfig,
    /// What was compiled from it.
    pub settings: Settings,
}

impl ElasticsearchSinkConfig {
    /// Parses and checks a `[sinks.NAME]` table of type `elasticsearch`.
    pub fn parse(table: toml::Table) -> Result<ElasticsearchSinkConfig, FieldError> {
        let config: ElasticsearchConfig = parse_table(table)?;
        let settings = settings::compile(&config)?;
        Ok(ElasticsearchSinkConfig { config, settings })
    }
}

impl SinkConfig for ElasticsearchSinkConfig {
    fn kind(&self) -> &'static str {
        "elasticsearch"
    }

    fn build(
        &self,
        ctx: SinkContext,
        input: mpsc::Receiver<Batch>,
    ) -> Result<SinkFuture, SinkError> {
        let c = &self.config;
        let service = Service::new(
            &ctx.name,
            c,
            self.settings.endpoints.clone(),
            self.settings.headers.clone(),
        )?;
        if let Err(e) = service.credentials.reload() {
            tracing::error!(message = "Cannot read the Elasticsearch credentials; retrying before each request.", sink = %ctx.name, error = %e);
        }
        let dead_letters = c.dead_letter.enabled.then(|| {
            Arc::new(Mutex::new(DeadLetterFile::new(
                &ctx.data_dir,
                &ctx.name,
                c.dead_letter.max_bytes.0,
            )))
        });
        let shared = Arc::new(Shared {
            name: ctx.name.clone(),
            service,
            backoff: Backoff::new(&c.retry),
            compression: c.compression,
            dead_letters,
            problems: ProblemLog::new(PROBLEM_LOG_INTERVAL),
            rejection_log: Every::new(PROBLEM_LOG_INTERVAL),
            split_log: Every::new(PROBLEM_LOG_INTERVAL),
        });
        let limits = Limits {
            max_events: c.batch.max_events,
            max_bytes: c.batch.max_bytes.as_usize(),
            timeout: c.batch.timeout.get(),
            max_in_flight: c.max_in_flight,
        };
        let encoder = BulkEncoder::new(&self.settings.encode);
        Ok(Box::pin(sink::run(
            shared,
            encoder,
            limits,
            c.healthcheck,
            ctx,
            input,
        )))
    }
}
