//! Sources: where events enter skiff. Today one kind, `file`.
//!
//! A source runs on its own thread (file reads are blocking system calls) and talks to the
//! topology through a [`Signal`] channel: wake-ups, acknowledgements, and the orders to drain or
//! to stop.

pub mod file;

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use thiserror::Error;

use crate::acks::AckResult;
use crate::config::Kind;
use crate::config::{parse_kind, FieldError};
use crate::fanout::Fanout;

/// Messages to a running source.
#[derive(Debug)]
pub enum Signal {
    /// Something may have changed on disk.
    Wake,
    /// A batch was delivered (or not).
    Ack(AckResult),
    /// Stop discovering, read what is written to the end, deliver it, then stop.
    Drain,
    /// Like `Drain`, for a config reload: a line not yet ended stays in its file (and out of the
    /// checkpoint) for the next topology to read whole.
    DrainForReload,
    /// Stop now: persist what was acknowledged and return.
    Stop,
}

/// A source could not start.
#[derive(Debug, Error)]
#[error("source `{name}` cannot start: {reason}")]
pub struct SourceError {
    pub name: String,
    pub reason: String,
}

/// What a running source gets from the topology.
pub struct SourceContext {
    pub name: String,
    pub data_dir: PathBuf,
    /// Where batches go.
    pub out: Fanout,
    /// Read every file to its end, deliver, then stop (`skiff run --once`).
    pub once: bool,
    /// Started by a config reload: resume every file from its checkpoint; `read_from = "end"`
    /// does not apply (files unknown now appeared during the reload).
    pub resumed: bool,
    /// The sending side of the source's own signal channel (for wake-ups and acknowledgements).
    pub signal_tx: mpsc::Sender<Signal>,
    /// The receiving side.
    pub signals: mpsc::Receiver<Signal>,
}

/// The validated config of one source.
pub trait SourceConfig: Debug + Send + Sync {
    /// The `type` name.
    fn kind(&self) -> &'static str;
    /// Starts the source on its own thread.
    fn start(&self, ctx: SourceContext) -> Result<JoinHandle<()>, SourceError>;

    /// What `skiff validate` says about the machine it runs on, each at its key: paths that do
    /// not exist (yet). Warnings only: a pod's paths exist in the pod, not where CI validates.
    fn check_environment(&self) -> Vec<FieldError> {
        Vec::new()
    }

    /// The config of a `file` source (offsets imported at cut-over go to file sources only).
    fn as_file(&self) -> Option<&file::FileSourceConfig> {
        None
    }
}

/// Every source type: its `type` name and the parser of its table.
pub const KINDS: &[Kind<dyn SourceConfig>] = &[Kind {
    name: "file",
    parse: |t| Ok(Box::new(file::FileSourceConfig::parse(t)?)),
    // `exclude` is matched against the paths found, as written: `*.gz` matches anywhere.
    paths: &["include"],
}];

/// Parses the table of a component of type `kind` (tests and benches build components this
/// way; a config goes through [`crate::components::REGISTRY`]).
pub fn parse(kind: &str, table: toml::Table) -> Result<Box<dyn SourceConfig>, FieldError> {
    parse_kind(KINDS, kind, table).map(|(_, config)| config)
}
