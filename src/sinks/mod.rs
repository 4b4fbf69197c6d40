//! Sinks: where events leave skiff. A sink confirms a batch's acknowledgement handles only once
//! the batch is delivered (written and flushed, or accepted by the server).

pub mod blackhole;
pub mod common;
pub mod console;
pub mod elasticsearch;
pub mod file;
pub mod http;

use std::fmt::Debug;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use thiserror::Error;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::{parse_kind, FieldError};
use crate::config::{parse_table, Kind};
use crate::event::Batch;

/// A sink failure that stops skiff.
#[derive(Debug, Error)]
pub enum SinkError {
    #[error("stdout was closed by the reader; stopping")]
    BrokenPipe,
    #[error("write failed: {0}")]
    Io(std::io::Error),
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

    /// An encoder the topology may run ahead of the sink, on the workers of the parallel stage
    /// that feeds it, so that the sink receives [`Payload::Encoded`](crate::event::Payload)
    /// batches and only writes them. `None` (the default): the sink encodes what it receives.
    /// A sink that returns one must accept both encoded batches and every other payload.
    fn encoder(&self) -> Option<Box<dyn BatchEncoder>> {
        None
    }
}

/// Turns a batch of lines or events into the bytes a sink writes.
///
/// Why ahead of the sink: encoding is a large share of the work of a parsing pipeline, and a
/// sink is one task. Run by the parallel workers right after the transforms, it spreads over the
/// cores, and each event is built, encoded and freed by the same thread while it is hot in the
/// cache (freeing on another thread costs allocator locks). Each worker gets its own encoder.
pub trait BatchEncoder: Send {
    /// Appends the encoding of `batch` (never [`Payload::Encoded`](crate::event::Payload)) to
    /// `out`.
    fn encode(&mut self, batch: &Batch, out: &mut Vec<u8>);
}

/// Every sink type: its `type` name and the parser of its table.
pub const KINDS: &[Kind<dyn SinkConfig>] = &[
    Kind {
        name: "blackhole",
        parse: |t| Ok(Box::new(parse_table::<blackhole::BlackholeConfig>(t)?)),
        paths: &[],
    },
    Kind {
        name: "console",
        parse: |t| Ok(Box::new(parse_table::<console::ConsoleConfig>(t)?)),
        paths: &[],
    },
    Kind {
        name: "elasticsearch",
        parse: |t| Ok(Box::new(elasticsearch::ElasticsearchSinkConfig::parse(t)?)),
        paths: &[
            "auth.password_file",
            "auth.api_key_file",
            "tls.ca_file",
            "tls.crt_file",
            "tls.key_file",
        ],
    },
    Kind {
        name: "file",
        parse: |t| Ok(Box::new(file::FileSinkConfig::parse(t)?)),
        paths: &["path"],
    },
    Kind {
        name: "http",
        parse: |t| Ok(Box::new(http::HttpSinkConfig::parse(t)?)),
        paths: &[
            "auth.password_file",
            "auth.token_file",
            "tls.ca_file",
            "tls.crt_file",
            "tls.key_file",
        ],
    },
];

/// Parses the table of a component of type `kind` (tests and benches build components this
/// way; a config goes through [`crate::components::REGISTRY`]).
pub fn parse(kind: &str, table: toml::Table) -> Result<Box<dyn SinkConfig>, FieldError> {
    parse_kind(KINDS, kind, table).map(|(_, config)| config)
}
