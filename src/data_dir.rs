//! The data directory (`data_dir`): checked before anything reads a line.
//!
//! skiff keeps its checkpoints (and dead letters) there. If it cannot write them, every line is
//! still shipped, but a restart reads everything again: a failure that shows only later, as
//! duplicates. So a topology does not start until the directory exists (it is created if
//! missing) and a probe file could be written in it and removed; `skiff validate` makes the same
//! checks without leaving anything behind.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A data directory skiff cannot use.
#[derive(Debug, Error)]
#[error("data_dir {}: {problem}: skiff keeps its checkpoints there; set data_dir to a writable directory (in a pod, mount a volume there)", dir.display())]
pub struct DataDirError {
    pub dir: PathBuf,
    /// What is wrong, with the system's reason.
    pub problem: String,
}

/// What `skiff validate` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    Usable,
    /// It does not exist and this user may not create it: fine if a volume or another user
    /// provides it where skiff runs, as in a pod.
    NotCreatableHere(String),
}

/// At start: creates `dir` if missing, then writes and removes a probe file in it.
pub fn prepare(dir: &Path) -> Result<(), DataDirError> {
    let fail = |problem: String| DataDirError {
        dir: dir.to_owned(),
        problem,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(fail("it exists and is not a directory".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot be created: {e}")))?;
    probe(dir).map_err(|e| fail(format!("is not writable: {e}")))
}

/// For `skiff validate`: the same checks, leaving nothing behind (what had to be created for
/// the check is removed).
pub fn check(dir: &Path) -> Result<Checked, DataDirError> {
    let fail = |problem: String| DataDirError {
        dir: dir.to_owned(),
        problem,
    };
    if dir.is_dir() {
        return probe(dir)
            .map(|()| Checked::Usable)
            .map_err(|e| fail(format!("is not writable: {e}")));
    }
    if dir.exists() {
        return Err(fail("it exists and is not a directory".into()));
    }
    let existing = dir.ancestors().find(|a| a.exists()).map(Path::to_owned);
    match std::fs::create_dir_all(dir) {
        Ok(()) => {
            let result = probe(dir);
            remove_created(dir, existing.as_deref());
            result
                .map(|()| Checked::Usable)
                .map_err(|e| fail(format!("is not writable: {e}")))
        }
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            Ok(Checked::NotCreatableHere(format!(
                "data_dir {} does not exist and this user cannot create it ({e}): `skiff run` \
                 refuses to start unless it exists and is writable where skiff runs",
                dir.display()
            )))
        }
        Err(e) => Err(fail(format!("cannot be created: {e}"))),
    }
}

/// Writes and removes a file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(format!(".skiff-probe-{}", std::process::id()));
    std::fs::write(&path, b"probe")?;
    std::fs::remove_file(&path)
}

/// Removes the directories from `dir` up to, not including, `existing` (empty ones only).
fn remove_created(dir: &Path, existing: Option<&Path>) {
    for d in dir.ancestors() {
        if Some(d) == existing || std::fs::remove_dir(d).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_creates_and_check_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/data");
        assert_eq!(check(&dir).unwrap(), Checked::Usable);
        assert!(!root.path().join("a").exists());
        prepare(&dir).unwrap();
        assert!(dir.is_dir());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        assert_eq!(check(&dir).unwrap(), Checked::Usable);
    }

    #[test]
    fn a_file_or_an_impossible_place_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("f");
        std::fs::write(&file, b"").unwrap();
        for e in [check(&file).unwrap_err(), prepare(&file).unwrap_err()] {
            assert_eq!(e.problem, "it exists and is not a directory");
        }
        let under_file = file.join("data");
        assert!(check(&under_file)
            .unwrap_err()
            .problem
            .starts_with("cannot be created: "));
    }
}
