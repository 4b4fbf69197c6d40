//! Cut-over from Fluent Bit or Vector: their read offsets become skiff's checkpoints.
//!
//! Switching agents must neither ship again what the old agent shipped (duplicates in the index)
//! nor skip what it had not read yet. `skiff import-offsets` reads the old agent's offsets
//! ([`fluentbit`]: the tail input's SQLite `DB`, through [`sqlite`]; [`vector`]: the file
//! source's `checkpoints.json`), finds each file among those the skiff source follows, and
//! writes a checkpoint entry per file (fingerprint of its first bytes, device, inode, offset) in
//! `DATA_DIR/checkpoints/SOURCE.json`, exactly what skiff would have written had it read the
//! file up to there. skiff then starts every known file where the old agent stopped, and every
//! other file from its first byte, as it always does.
//!
//! It is a one-shot command, run while neither agent writes (between stopping the old agent and
//! starting skiff, e.g. as an init container), not a source setting: an import that ran at every
//! start would fight skiff's own newer checkpoints.

pub mod fluentbit;
pub mod sqlite;
pub mod vector;

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::sources::file::checkpoint::{hash_bytes, Checkpoints, Entry};
use crate::sources::file::walk::GlobWalk;
use crate::sources::file::FileSourceConfig;

/// Why an import could not be done at all.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("the config has no source named `{0}`")]
    NoSource(String),
    #[error("source `{0}` is not of type `file`: only files have offsets to import")]
    NotFile(String),
    #[error("the config has {0} file sources: name the one to import into with --source")]
    WhichSource(usize),
    #[error("{path}: {message}")]
    Old { path: PathBuf, message: String },
    #[error(
        "source `{name}` already has checkpoints ({path}): skiff has run already and its own \
         offsets are newer than the old agent's; pass --force to replace them, or --keep-existing \
         to leave them"
    )]
    HasCheckpoints { name: String, path: PathBuf },
    #[error(transparent)]
    Write(#[from] crate::sources::file::checkpoint::CheckpointError),
}

/// How the old agent recognised a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Fluent Bit: the inode, and the name it last had.
    Inode { ino: u64, name: PathBuf },
    /// Vector's `dev_inode` fingerprint.
    DevInode { dev: u64, ino: u64 },
    /// Vector's `checksum` fingerprint: CRC-64 of the first `lines` lines after
    /// `ignored_header_bytes`.
    FirstLines {
        crc: u64,
        lines: usize,
        ignored_header_bytes: u64,
    },
}

/// One offset the old agent kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldOffset {
    pub identity: Identity,
    /// Everything before this byte was read (and, as far as the old agent knows, shipped).
    pub offset: u64,
    /// What to call it in the report.
    pub label: String,
}

/// What to do when the source already has checkpoints (skiff ran already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Stop with an error: nothing is written.
    Refuse,
    /// Keep them and import nothing (an init container that runs at every pod start).
    Keep,
    /// Replace them with the imported offsets.
    Replace,
}

/// What happened to one old offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written as a checkpoint: skiff starts this file at `offset`.
    Imported { path: PathBuf, offset: u64 },
    /// Not imported, and that loses nothing (the file is gone, or was read to its end and is
    /// no longer followed).
    Dropped { reason: String },
    /// Not imported, and skiff will read this file differently from where the old agent
    /// stopped (from its start, or not at all).
    Differs { reason: String },
}

/// The report of an import.
#[derive(Debug, Default)]
pub struct Report {
    pub checkpoint_file: PathBuf,
    /// The source had checkpoints and they were kept: nothing was imported.
    pub kept_existing: bool,
    pub outcomes: Vec<(String, Outcome)>,
}

impl Report {
    /// True when every offset was imported or safely dropped.
    pub fn faithful(&self) -> bool {
        !self
            .outcomes
            .iter()
            .any(|(_, o)| matches!(o, Outcome::Differs { .. }))
    }
}

/// A file the skiff source would follow.
#[derive(Debug, Clone)]
struct Candidate {
    path: PathBuf,
    dev: u64,
    ino: u64,
    size: u64,
}

/// Imports `old` offsets into the checkpoints of file source `source` (the only file source when
/// `None`) of the config at `config_path`.
pub fn import(
    config_path: &Path,
    source: Option<&str>,
    old: &[OldOffset],
    existing: Existing,
) -> Result<Report, ImportError> {
    let config = crate::components::load(config_path)?;
    let files: Vec<(&str, &FileSourceConfig)> = config
        .sources
        .iter()
        .filter_map(|s| s.config.as_file().map(|f| (s.name.as_str(), f)))
        .collect();
    let (name, file_config) = match source {
        Some(want) => {
            if !config.sources.iter().any(|s| s.name == want) {
                return Err(ImportError::NoSource(want.to_owned()));
            }
            *files
                .iter()
                .find(|(n, _)| *n == want)
                .ok_or_else(|| ImportError::NotFile(want.to_owned()))?
        }
        None if files.len() == 1 => files[0],
        None => return Err(ImportError::WhichSource(files.len())),
    };
    let mut checkpoints = Checkpoints::load(&config.data_dir, name);
    if !checkpoints.entries().is_empty() {
        match existing {
            Existing::Refuse => {
                return Err(ImportError::HasCheckpoints {
                    name: name.to_owned(),
                    path: checkpoints.path().to_path_buf(),
                })
            }
            Existing::Keep => {
                return Ok(Report {
                    checkpoint_file: checkpoints.path().to_path_buf(),
                    kept_existing: true,
                    outcomes: Vec::new(),
                })
            }
            Existing::Replace => checkpoints = Checkpoints::empty_at(checkpoints.path()),
        }
    }
    let candidates = candidates(file_config);
    let fp = file_config.fingerprint_bytes.as_usize();
    let mut report = Report {
        checkpoint_file: checkpoints.path().to_path_buf(),
        kept_existing: false,
        outcomes: Vec::new(),
    };
    let now = chrono::Utc::now().timestamp();
    for o in old {
        let outcome = match find(&candidates, o) {
            Err(reason) => reason,
            Ok(c) => match entry_for(c, o.offset, fp, now) {
                Ok(entry) => {
                    let outcome = Outcome::Imported {
                        path: c.path.clone(),
                        offset: entry.offset,
                    };
                    checkpoints.upsert(entry);
                    outcome
                }
                Err(reason) => reason,
            },
        };
        report.outcomes.push((o.label.clone(), outcome));
    }
    checkpoints.save()?;
    Ok(report)
}

/// The files the source follows now: its include patterns walked as discovery walks them,
/// minus its excludes.
fn candidates(config: &FileSourceConfig) -> Vec<Candidate> {
    let exclude: Vec<glob::Pattern> = config
        .exclude
        .iter()
        .filter_map(|p| glob::Pattern::new(p).ok())
        .collect();
    let mut paths = Vec::new();
    for p in &config.include {
        if let Ok(walk) = GlobWalk::new(p) {
            walk.walk(&mut |path| paths.push(path), &mut |_, _| {});
        }
    }
    let mut out: Vec<Candidate> = Vec::new();
    for path in paths {
        if exclude.iter().any(|x| x.matches_path(&path)) {
            continue;
        }
        if let Ok(m) = std::fs::metadata(&path) {
            if m.is_file() && !out.iter().any(|c| (c.dev, c.ino) == (m.dev(), m.ino())) {
                out.push(Candidate {
                    path,
                    dev: m.dev(),
                    ino: m.ino(),
                    size: m.len(),
                });
            }
        }
    }
    out
}

/// The followed file an old offset belongs to.
fn find<'a>(candidates: &'a [Candidate], o: &OldOffset) -> Result<&'a Candidate, Outcome> {
    match &o.identity {
        Identity::Inode { ino, name } => {
            let same: Vec<&Candidate> = candidates.iter().filter(|c| c.ino == *ino).collect();
            match same.as_slice() {
                [one] => Ok(one),
                [] => Err(gone_or_unfollowed(name, *ino, o.offset)),
                several => several
                    .iter()
                    .find(|c| c.path == *name)
                    .or_else(|| {
                        several
                            .iter()
                            .find(|c| c.path.file_name() == name.file_name())
                    })
                    .copied()
                    .ok_or_else(|| Outcome::Differs {
                        reason: format!(
                            "inode {ino} belongs to {} followed files on different devices and \
                             none is named {}; which one Fluent Bit read is unknown",
                            several.len(),
                            name.display()
                        ),
                    }),
            }
        }
        Identity::DevInode { dev, ino } => candidates
            .iter()
            .find(|c| (c.dev, c.ino) == (*dev, *ino))
            .ok_or_else(|| Outcome::Dropped {
                reason: format!(
                    "no followed file has device {dev} and inode {ino} (gone, or not matched by \
                     the source's include)"
                ),
            }),
        Identity::FirstLines {
            crc,
            lines,
            ignored_header_bytes,
        } => candidates
            .iter()
            .find(|c| {
                vector::first_lines_checksum(&c.path, *lines, *ignored_header_bytes) == Some(*crc)
            })
            .ok_or_else(|| Outcome::Dropped {
                reason: "no followed file starts with the lines this checksum covers (gone, or \
                         not matched by the source's include)"
                    .into(),
            }),
    }
}

/// Why a Fluent Bit row has no followed file: gone (nothing lost), or there but not followed by
/// the skiff source (what was left unread is not read).
fn gone_or_unfollowed(name: &Path, ino: u64, offset: u64) -> Outcome {
    match std::fs::metadata(name) {
        Ok(m) if m.ino() == ino && m.len() > offset => Outcome::Differs {
            reason: format!(
                "{} is there with {} bytes Fluent Bit had not read, but the source's include \
                 does not match it: skiff will not read them (add a pattern that matches it)",
                name.display(),
                m.len() - offset
            ),
        },
        Ok(m) if m.ino() == ino => Outcome::Dropped {
            reason: format!(
                "{} was read to its end and the source's include does not match it",
                name.display()
            ),
        },
        _ => Outcome::Dropped {
            reason: format!("the file (inode {ino}) is gone"),
        },
    }
}

/// The checkpoint entry skiff would have written for `c` read up to `offset`.
fn entry_for(c: &Candidate, offset: u64, fp: usize, now: i64) -> Result<Entry, Outcome> {
    if offset > c.size {
        return Err(Outcome::Differs {
            reason: format!(
                "{} has {} bytes, fewer than the offset {offset}: it was truncated since; skiff \
                 reads it from its start",
                c.path.display(),
                c.size
            ),
        });
    }
    let head = read_head(&c.path, fp).map_err(|e| Outcome::Differs {
        reason: format!("cannot read {}: {e}", c.path.display()),
    })?;
    Ok(Entry {
        // The id skiff gives a file it starts in the middle of (see the tailer's
        // `set_start_id`): device, inode and first bytes.
        id: hash_bytes(format!("{}:{}:{}", c.dev, c.ino, hash_bytes(&head)).as_bytes()),
        dev: c.dev,
        ino: c.ino,
        prefix_len: head.len() as u64,
        prefix_hash: hash_bytes(&head),
        offset,
        path: c.path.to_string_lossy().into_owned(),
        updated: now,
    })
}

fn read_head(path: &Path, n: usize) -> std::io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let mut head = vec![0; n];
    let mut got = 0;
    while got < n {
        match file.read_at(&mut head[got..], got as u64)? {
            0 => break,
            k => got += k,
        }
    }
    head.truncate(got);
    Ok(head)
}
