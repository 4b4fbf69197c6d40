//! Sinks: where events leave skiff. A sink confirms a batch's acknowledgement handles only once
//! the batch is delivered (written and flushed, or accepted by the server).

pub mod blackhole;
pub mod console;
pub mod elasticsearch;

use std::fmt::Debug;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use thiserror::Error;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::{unknown_kind, FieldError};
use crate::event::Batch;

/// A sink failure that stops skiff.
#[derive(Debug, Error)]
pub enum SinkError {
    #[error("stdout was closed by the reader; stopping")]
    BrokenPipe,
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// What a running sink gets from the topology.
#[derive(Debug, Clone)]
pub struct SinkContext {
    /// The component's name.
    pub name: String,
    /// skiff's data directory (dead letters).
    pub data_dir: PathBuf,
    /// Cancelled when the drain deadline passed: stop retrying and return.
    pub abort: CancellationToken,
}

/// A sink's run loop.
pub type SinkFuture = Pin<Box<dyn Future<Output = Result<(), SinkError>> + Send>>;

/// The validated config of one sink.
pub trait SinkConfig: Debug + Send + Sync {
    /// The `type` name.
    fn kind(&self) -> &'static str;
    /// Builds the sink's run loop, which reads `input` until it closes, then flushes and returns.
    fn build(
        &self,
        ctx: SinkContext,
        input: mpsc::Receiver<Batch>,
    ) -> Result<SinkFuture, SinkError>;
}

/// Every sink type, for messages.
pub const KINDS: &[&str] = &["blackhole", "console", "elasticsearch"];

/// Parses the table of a sink of type `kind`.
pub fn parse(kind: &str, table: toml::Table) -> Result<Box<dyn SinkConfig>, FieldError> {
    match kind {
        "blackhole" => Ok(Box::new(crate::config::parse_table::<
            blackhole::BlackholeConfig,
        >(table)?)),
        "console" => Ok(Box::new(crate::config::parse_table::<
            console::ConsoleConfig,
        >(table)?)),
        "elasticsearch" => Ok(Box::new(elasticsearch::ElasticsearchSinkConfig::parse(
            table,
        )?)),
        _ => Err(unknown_kind(kind, KINDS)),
    }
}
