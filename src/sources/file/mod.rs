//! The `file` source: follows log files matched by globs, through rotation and restarts.
//!
//! Layout: [`reader`] splits bytes into lines; [`checkpoint`] stores delivered offsets;
//! [`discovery`] finds files (glob scans through [`walk`], woken by inotify); [`tailer`] is the loop that ties
//! them together on the source's thread.

pub mod checkpoint;
pub mod discovery;
pub mod reader;
pub mod tailer;
pub mod unmatched;
pub mod walk;

use std::thread::JoinHandle;
use std::time::Duration;

use serde::Deserialize;

use super::{SourceConfig, SourceContext, SourceError};
use crate::config::{parse_table, ByteSize, ConfigDuration, FieldError};

/// Where to start in a file seen for the first time.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ReadFrom {
    /// From its first byte (default: a sidecar starts with its app).
    #[default]
    Beginning,
    /// From its current end; applies only to files present when skiff starts and never seen
    /// before. Files created later are always read from their first byte.
    End,
}

/// `[sources.NAME] type = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// Glob patterns of the files to follow (`/var/log/app/*.log`).
    pub include: Vec<String>,
    /// Glob patterns of files to leave alone, matched against the same paths.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Where to start in files never seen before.
    #[serde(default)]
    pub read_from: ReadFrom,
    /// How often the globs are scanned again (inotify wakes skiff sooner).
    #[serde(default = "default_glob_interval")]
    pub glob_interval: ConfigDuration,
    /// How long a file that no longer matches (rotated away) is still read after its last write.
    #[serde(default = "default_rotate_wait")]
    pub rotate_wait: ConfigDuration,
    /// A file with no new data for this long has its handle closed; reopened when it changes.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: ConfigDuration,
    /// Lines longer than this are cut, marked with `_skiff_truncated`, and counted.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: ByteSize,
    /// Bytes read from a file at once (one batch).
    #[serde(default = "default_read_buffer")]
    pub read_buffer: ByteSize,
    /// How many leading bytes identify a file (matching copies and renamed files).
    #[serde(default = "default_fingerprint_bytes")]
    pub fingerprint_bytes: ByteSize,
    /// Field holding the file's path; `""` for none.
    #[serde(default = "default_file_key")]
    pub file_key: String,
    /// How often acknowledged offsets are written to disk.
    #[serde(default = "default_checkpoint_interval")]
    pub checkpoint_interval: ConfigDuration,
}

fn default_glob_interval() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(1))
}
fn default_rotate_wait() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(5))
}
fn default_idle_timeout() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(300))
}
fn default_max_line_bytes() -> ByteSize {
    ByteSize(256 * 1024)
}
fn default_read_buffer() -> ByteSize {
    ByteSize(256 * 1024)
}
fn default_fingerprint_bytes() -> ByteSize {
    ByteSize(256)
}
fn default_file_key() -> String {
    "file".into()
}
fn default_checkpoint_interval() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(1))
}

impl FileSourceConfig {
    /// Parses and checks a `[sources.NAME]` table of type `file`.
    pub fn parse(table: toml::Table) -> Result<FileSourceConfig, FieldError> {
        let c: FileSourceConfig = parse_table(table)?;
        if c.include.is_empty() {
            return Err(FieldError::new(
                &["include"],
                "`include` needs at least one glob pattern",
            ));
        }
        for (key, list) in [("include", &c.include), ("exclude", &c.exclude)] {
            for (i, p) in list.iter().enumerate() {
                if let Err(e) = glob::Pattern::new(p) {
                    return Err(FieldError::new(
                        &[key, &i.to_string()],
                        format!("invalid glob `{p}`: {e}"),
                    ));
                }
            }
        }
        if c.max_line_bytes.0 == 0 || c.max_line_bytes.0 > u32::MAX as u64 / 2 {
            return Err(FieldError::new(
                &["max_line_bytes"],
                "must be between 1 byte and 2GiB",
            ));
        }
        if c.read_buffer.0 < 4096 || c.read_buffer.0 > 64 << 20 {
            return Err(FieldError::new(
                &["read_buffer"],
                "must be between 4KiB and 64MiB",
            ));
        }
        if c.fingerprint_bytes.0 == 0 || c.fingerprint_bytes.0 > 1 << 20 {
            return Err(FieldError::new(
                &["fingerprint_bytes"],
                "must be between 1 byte and 1MiB",
            ));
        }
        Ok(c)
    }
}

impl SourceConfig for FileSourceConfig {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn check_environment(&self) -> Vec<FieldError> {
        self.include
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                unmatched::check(p).map(|m| FieldError::new(&["include", &i.to_string()], m))
            })
            .collect()
    }

    fn as_file(&self) -> Option<&FileSourceConfig> {
        Some(self)
    }

    fn start(&self, ctx: SourceContext) -> Result<JoinHandle<()>, SourceError> {
        let name = ctx.name.clone();
        let tailer = tailer::Tailer::new(self.clone(), ctx).map_err(|reason| SourceError {
            name: name.clone(),
            reason,
        })?;
        std::thread::Builder::new()
            .name(format!("source-{name}"))
            .spawn(move || tailer.run())
            .map_err(|e| SourceError {
                name,
                reason: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<FileSourceConfig, FieldError> {
        FileSourceConfig::parse(toml::from_str(s).unwrap())
    }

    #[test]
    fn defaults() {
        let c = parse("include = ['/var/log/app/*.log']").unwrap();
        assert_eq!(c.read_from, ReadFrom::Beginning);
        assert_eq!(c.max_line_bytes.0, 256 * 1024);
        assert_eq!(c.file_key, "file");
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(parse("include = []").unwrap_err().path, vec!["include"]);
        assert_eq!(
            parse("include = ['[']").unwrap_err().path,
            vec!["include", "0"]
        );
        let e = parse("include = ['a']\nglob_intervall = '1s'").unwrap_err();
        assert_eq!(e.path, vec!["glob_intervall"]);
        assert!(e.message.contains("expected one of"), "{}", e.message);
        let e = parse("include = ['a']\nmax_line_bytes = '1 parsec'").unwrap_err();
        assert_eq!(e.path, vec!["max_line_bytes"]);
    }
}
