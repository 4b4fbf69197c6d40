//! Files a config names besides itself (Fluent Bit's includes and parsers files, a Vector
//! remap's program `file`), found relative to the config's directory.

use std::path::{Path, PathBuf};

use super::error::MigrateError;
use super::ir::Place;

/// The file a config names: `name` relative to `base_dir`, or, when that does not exist, the
/// file of the same name in `base_dir` (a path inside the container, such as
/// `/fluent-bit/etc/parsers.conf`, for a config copied out of its ConfigMap).
pub fn resolve(base_dir: &Path, name: &str) -> PathBuf {
    let direct = base_dir.join(name);
    if direct.exists() {
        return direct;
    }
    match Path::new(name).file_name() {
        Some(f) if base_dir.join(f).exists() => base_dir.join(f),
        _ => direct,
    }
}

/// Reads a file named by the config, as an error at `place` when it cannot be read.
pub fn read_included(file: &Path, place: &Place) -> Result<String, MigrateError> {
    std::fs::read_to_string(file).map_err(|e| MigrateError::Malformed {
        file: (*place.file).clone(),
        line: place.line,
        message: format!("cannot read {}: {e}", file.display()),
    })
}
