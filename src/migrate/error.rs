//! Why a config cannot be converted at all. Everything short of this is a [`super::Note`] in
//! the output; these errors stop the conversion (exit status 1).
//!
//! A leaf module: both wings return it, and the API in `mod.rs` passes it on.

use std::path::PathBuf;

use thiserror::Error;

use super::ir::Note;

/// A config that cannot be converted.
#[derive(Debug, Error)]
pub enum MigrateError {
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}:{line}: {message}", file.display())]
    Malformed {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: cannot tell whether this is a Fluent Bit or a Vector config: pass --from fluent-bit or --from vector", .0.display())]
    UnknownFormat(PathBuf),
    #[error("{}: nothing to run: no input could be converted to a skiff file source", file.display())]
    NoSource {
        file: PathBuf,
        /// What was found on the way, for stderr.
        notes: Vec<Note>,
    },
}
