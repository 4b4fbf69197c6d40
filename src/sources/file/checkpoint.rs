//! Checkpoints: for each file a source knows, the offset below which every line was delivered.
//!
//! Stored as versioned JSON in `DATA_DIR/checkpoints/SOURCE.json`, written atomically: a temp
//! file in the same directory, `fsync`, `rename` over the old file, `fsync` of the directory. A
//! crash at any moment leaves either the old or the new file, never a torn one. A file that cannot
//! be read or parsed is renamed aside (`.corrupt-<unix time>`) and logged; the source then starts
//! as if it had never run, which re-reads rather than loses.
//!
//! A file is recognised by its first bytes, not its path: an entry keeps the length and a hash of
//! the file's first bytes (up to `fingerprint_bytes`) and its device and inode. See
//! [`Checkpoints::find`] for the matching rules.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Format version written in the file.
pub const VERSION: u32 = 1;

/// How many entries of files no longer open are kept (the newest ones).
const MAX_DETACHED: usize = 1000;

/// A checkpoint file could not be written.
#[derive(Debug, Error)]
#[error("cannot write checkpoint file {path}: {error}")]
pub struct CheckpointError {
    pub path: PathBuf,
    pub error: std::io::Error,
}

/// One file's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The file's identity (also used in deterministic document ids).
    pub id: u64,
    /// Device and inode when last seen.
    pub dev: u64,
    pub ino: u64,
    /// How many leading bytes `prefix_hash` covers.
    pub prefix_len: u64,
    /// Hash of the file's first `prefix_len` bytes.
    pub prefix_hash: u64,
    /// Everything before this offset was delivered.
    pub offset: u64,
    /// Last path seen (informational).
    pub path: String,
    /// Unix seconds of the last update.
    pub updated: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileFormat {
    version: u32,
    files: Vec<Entry>,
}

/// The checkpoints of one source.
#[derive(Debug)]
pub struct Checkpoints {
    path: PathBuf,
    entries: Vec<Entry>,
}

/// FNV-1a, 64 bits: stable across builds and platforms, unlike std's hasher.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Checkpoints {
    /// Loads the checkpoints of `source` from `data_dir`. Never fails: a missing file means no
    /// checkpoint, a corrupt one is set aside.
    pub fn load(data_dir: &Path, source: &str) -> Checkpoints {
        let path = data_dir.join("checkpoints").join(format!("{source}.json"));
        let entries = match fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<FileFormat>(&bytes) {
                Ok(f) if f.version == VERSION => f.files,
                Ok(f) => {
                    set_aside(&path, &format!("unsupported version {}", f.version));
                    Vec::new()
                }
                Err(e) => {
                    set_aside(&path, &e.to_string());
                    Vec::new()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                set_aside(&path, &e.to_string());
                Vec::new()
            }
        };
        Checkpoints { path, entries }
    }

    /// No entries, to be saved at `path` (replacing what is there).
    pub fn empty_at(path: &Path) -> Checkpoints {
        Checkpoints {
            path: path.to_path_buf(),
            entries: Vec::new(),
        }
    }

    /// The file checkpoints are written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Finds the entry for a file whose first bytes are `head` (as many as are available, up to
    /// the fingerprint size `fp_bytes`) and whose device and inode are `dev`/`ino`.
    ///
    /// An entry matches only if the file still starts with the bytes the entry hashed (so a
    /// truncated-and-rewritten file or a reused inode is not mistaken for the old file). Among
    /// those, an entry with the same device and inode wins; otherwise an entry with a full
    /// fingerprint matches a file with another inode: a copy (copytruncate) or a file moved
    /// across filesystems.
    pub fn find(&self, dev: u64, ino: u64, head: &[u8], fp_bytes: usize) -> Option<&Entry> {
        let verified = |e: &&Entry| {
            let len = e.prefix_len as usize;
            len <= head.len() && hash_bytes(&head[..len]) == e.prefix_hash
        };
        let same_inode = self
            .entries
            .iter()
            .filter(verified)
            .filter(|e| e.dev == dev && e.ino == ino)
            .max_by_key(|e| e.updated);
        same_inode.or_else(|| {
            self.entries
                .iter()
                .filter(verified)
                .filter(|e| e.prefix_len as usize >= fp_bytes)
                .max_by_key(|e| e.offset)
        })
    }

    /// Sets (adds or replaces, by id) an entry.
    pub fn upsert(&mut self, entry: Entry) {
        match self.entries.iter_mut().find(|e| e.id == entry.id) {
            Some(e) => *e = entry,
            None => self.entries.push(entry),
        }
    }

    /// Drops the oldest entries of files not in `live` beyond the retention limit.
    pub fn prune(&mut self, live: &[u64]) {
        let detached = self
            .entries
            .iter()
            .filter(|e| !live.contains(&e.id))
            .count();
        if detached <= MAX_DETACHED {
            return;
        }
        let mut old: Vec<(i64, u64)> = self
            .entries
            .iter()
            .filter(|e| !live.contains(&e.id))
            .map(|e| (e.updated, e.id))
            .collect();
        old.sort_unstable();
        let drop: Vec<u64> = old
            .iter()
            .take(detached - MAX_DETACHED)
            .map(|(_, id)| *id)
            .collect();
        self.entries.retain(|e| !drop.contains(&e.id));
    }

    /// Writes the checkpoint file atomically.
    pub fn save(&self) -> Result<(), CheckpointError> {
        let err = |error| CheckpointError {
            path: self.path.clone(),
            error,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(err)?;
        let body = serde_json::to_vec_pretty(&FileFormat {
            version: VERSION,
            files: self.entries.clone(),
        })
        .map_err(|e| err(std::io::Error::other(e)))?;
        let tmp = self.path.with_extension("json.tmp");
        let mut f = fs::File::create(&tmp).map_err(err)?;
        let written = f.write_all(&body).and_then(|()| f.sync_all());
        drop(f);
        if let Err(e) = written {
            // A full disk: the half-written temp file would hold on to space the next attempt
            // needs. The checkpoint file itself is untouched (it is only ever replaced whole).
            let _ = fs::remove_file(&tmp);
            return Err(err(e));
        }
        fs::rename(&tmp, &self.path).map_err(err)?;
        // Make the rename itself durable.
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(err)?;
        Ok(())
    }
}

fn set_aside(path: &Path, why: &str) {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let aside = path.with_extension(format!("json.corrupt-{stamp}"));
    match fs::rename(path, &aside) {
        Ok(()) => tracing::error!(
            message = "Checkpoint file is unreadable; set aside, files will be read as if new.",
            path = %path.display(), moved_to = %aside.display(), error = why
        ),
        Err(e) => tracing::error!(
            message = "Checkpoint file is unreadable and cannot be moved aside; ignoring it.",
            path = %path.display(), error = why, rename_error = %e
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, ino: u64, head: &[u8], offset: u64) -> Entry {
        Entry {
            id,
            dev: 1,
            ino,
            prefix_len: head.len() as u64,
            prefix_hash: hash_bytes(head),
            offset,
            path: "/x".into(),
            updated: 0,
        }
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Checkpoints::load(dir.path(), "src");
        c.upsert(entry(1, 10, b"hello", 5));
        c.save().unwrap();
        let c2 = Checkpoints::load(dir.path(), "src");
        assert_eq!(c2.entries(), c.entries());
    }

    #[test]
    fn corrupt_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("checkpoints")).unwrap();
        fs::write(dir.path().join("checkpoints/src.json"), b"{not json").unwrap();
        let c = Checkpoints::load(dir.path(), "src");
        assert!(c.entries().is_empty());
        let names: Vec<String> = fs::read_dir(dir.path().join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("src.json.corrupt-")),
            "{names:?}"
        );
    }

    #[test]
    fn matching_rules() {
        let mut c = Checkpoints::load(Path::new("/nonexistent"), "s");
        c.upsert(entry(1, 10, b"0123456789", 100));
        // Same inode, same first bytes: found.
        assert_eq!(c.find(1, 10, b"0123456789abc", 10).map(|e| e.id), Some(1));
        // Same inode, other first bytes (truncated and rewritten, or inode reused): not found.
        assert!(c.find(1, 10, b"xxxxxxxxxxabc", 10).is_none());
        // Other inode, full fingerprint: a copy of the file.
        assert_eq!(c.find(1, 99, b"0123456789", 10).map(|e| e.id), Some(1));
        // Other inode, fingerprint shorter than required: too weak to trust.
        assert!(c.find(1, 99, b"0123456789", 64).is_none());
    }

    #[test]
    fn prune_keeps_live_entries() {
        let mut c = Checkpoints::load(Path::new("/nonexistent"), "s");
        for i in 0..(MAX_DETACHED as u64 + 5) {
            c.upsert(entry(i, i, b"a", 0));
        }
        c.prune(&[0]);
        assert_eq!(c.entries().len(), MAX_DETACHED + 1);
        assert!(c.entries().iter().any(|e| e.id == 0));
    }
}
