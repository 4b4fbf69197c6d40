//! Files a config names besides itself (Fluent Bit's includes and parsers files, a Vector
//! remap's program `file`), found relative to the config's directory. `${VAR}` in such a name
//! is read from the environment `skiff migrate` runs in, as the old agent read it from its own.

use std::path::{Path, PathBuf};

use super::error::MigrateError;
use super::ir::Place;

/// The file a config names: `name` relative to `base_dir`, or, when that does not exist, the
/// file of the same name in `base_dir` (a path inside the container, such as
/// `/fluent-bit/etc/parsers.conf`, for a config copied out of its ConfigMap).
/// A `${VAR}` the environment does not set stays as written; the fallback on the file name
/// then still finds `${FLUENT_BIT_ETC}/parsers.conf` beside the config.
pub fn resolve(base_dir: &Path, name: &str) -> PathBuf {
    let name = &expand_env(name);
    let direct = base_dir.join(name);
    if direct.exists() {
        return direct;
    }
    match Path::new(name).file_name() {
        Some(f) if base_dir.join(f).exists() => base_dir.join(f),
        _ => direct,
    }
}

/// `name` with each `${VAR}` that the environment sets replaced by its value.
fn expand_env(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let body = &rest[start + 2..];
        let Some(end) = body.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        match std::env::var(&body[..end]) {
            Ok(v) => out.push_str(&v),
            Err(_) => out.push_str(&rest[start..start + 3 + end]),
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Reads a file named by the config, as an error at `place` when it cannot be read.
pub fn read_included(file: &Path, place: &Place) -> Result<String, MigrateError> {
    std::fs::read_to_string(file).map_err(|e| MigrateError::Malformed {
        file: (*place.file).clone(),
        line: place.line,
        message: format!("cannot read {}: {e}", file.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_in_file_names_come_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/parsers.conf"), "").unwrap();
        std::fs::write(dir.path().join("beside.conf"), "").unwrap();
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(expand_env("${HOME}/x"), format!("{home}/x"));
        assert_eq!(
            expand_env("${SKIFF_UNSET_VAR_X}/p.conf"),
            "${SKIFF_UNSET_VAR_X}/p.conf"
        );
        assert_eq!(expand_env("a${"), "a${");
        assert_eq!(
            resolve(dir.path(), "${SKIFF_UNSET_VAR_X}/beside.conf"),
            dir.path().join("beside.conf")
        );
    }
}
