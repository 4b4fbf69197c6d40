//! Finds the files to follow: glob scans are the truth, inotify is the wake-up call.
//!
//! One inotify watch per directory that an include pattern starts from (not one per file, so
//! inotify's per-user limits are not hit with many files). Events only wake the tailer and say
//! whether a rescan is due (a file appeared, moved or vanished); what is there is always decided
//! by scanning, so a missed event costs latency, never data.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use notify::{EventKind, RecursiveMode, Watcher};

use super::unmatched::Unmatched;
use super::walk::GlobWalk;
use crate::metrics::{component_with, metrics};
use crate::sources::Signal;

/// A file found by a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
}

/// Glob patterns and the watcher that wakes the tailer.
pub struct Discovery {
    include: Vec<String>,
    /// Each include pattern and its walk.
    walks: Vec<(String, GlobWalk)>,
    /// Patterns that match nothing, warned about once.
    unmatched: Unmatched,
    exclude: Vec<glob::Pattern>,
    watcher: Option<notify::RecommendedWatcher>,
    watched: HashSet<PathBuf>,
    /// Set by the watcher when a file appeared, moved or vanished.
    rescan: Arc<AtomicBool>,
    /// Set while a wake-up is queued, so a burst of events queues one.
    wake_queued: Arc<AtomicBool>,
    /// Paths already warned about, so a problem is logged once, not on every scan.
    warned: HashSet<PathBuf>,
    /// Directories that could not be watched (warned about once).
    watch_warned: HashSet<PathBuf>,
    /// The source's name, for metrics.
    source: String,
}

/// The directory a pattern starts from: its longest prefix without glob characters.
pub fn base_dir(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    for comp in Path::new(pattern).components() {
        let s = comp.as_os_str().to_string_lossy();
        if s.contains(['*', '?', '[', '{']) {
            break;
        }
        base.push(comp);
    }
    if base.as_os_str().is_empty() || base == Path::new(pattern) {
        base.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    } else {
        base
    }
}

impl Discovery {
    /// Sets up discovery; `signal_tx` receives wake-ups.
    pub fn new(
        source: &str,
        include: &[String],
        exclude: &[String],
        signal_tx: mpsc::Sender<Signal>,
    ) -> Discovery {
        let rescan = Arc::new(AtomicBool::new(true));
        let wake_queued = Arc::new(AtomicBool::new(false));
        let watcher = {
            let rescan = Arc::clone(&rescan);
            let wake_queued = Arc::clone(&wake_queued);
            let tx = Mutex::new(signal_tx);
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                // Opening or reading a file (our own scans and reads too) brings no new data.
                if res
                    .as_ref()
                    .is_ok_and(|ev| matches!(ev.kind, EventKind::Access(_)))
                {
                    return;
                }
                let structural = match &res {
                    Ok(ev) => matches!(
                        ev.kind,
                        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Modify(notify::event::ModifyKind::Name(_)) | EventKind::Any | EventKind::Other
                    ),
                    Err(_) => true,
                };
                if structural {
                    rescan.store(true, Ordering::Release);
                }
                if !wake_queued.swap(true, Ordering::AcqRel) {
                    if let Ok(tx) = tx.lock() {
                        let _ = tx.send(Signal::Wake);
                    }
                }
            })
            .map_err(|e| tracing::warn!(message = "File watching is unavailable; relying on periodic scans.", error = %e))
            .ok()
        };
        let walks: Vec<(String, GlobWalk)> = include
            .iter()
            .filter_map(|p| GlobWalk::new(p).ok().map(|w| (p.clone(), w)))
            .collect();
        Discovery {
            include: include.to_vec(),
            unmatched: Unmatched::new(source, &walks),
            walks,
            exclude: exclude
                .iter()
                .filter_map(|p| glob::Pattern::new(p).ok())
                .collect(),
            watcher,
            watched: HashSet::new(),
            rescan,
            wake_queued,
            warned: HashSet::new(),
            watch_warned: HashSet::new(),
            source: source.to_owned(),
        }
    }

    /// Clears the queued-wake-up flag; call after receiving a [`Signal::Wake`].
    pub fn woke(&self) {
        self.wake_queued.store(false, Ordering::Release);
    }

    /// True (once) when the watcher saw files appear, move or vanish since the last call.
    pub fn rescan_due(&self) -> bool {
        self.rescan.swap(false, Ordering::AcqRel)
    }

    /// Stops watching (drain: no new files).
    pub fn stop_watching(&mut self) {
        self.watcher = None;
    }

    fn ensure_watches(&mut self) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        for pattern in &self.include {
            let dir = base_dir(pattern);
            if self.watched.contains(&dir) || !dir.is_dir() {
                continue;
            }
            let mode = if pattern.contains("**") {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            match watcher.watch(&dir, mode) {
                Ok(()) => {
                    self.watched.insert(dir);
                }
                Err(e) => {
                    if self.watch_warned.insert(dir.clone()) {
                        tracing::warn!(message = "Cannot watch directory; relying on periodic scans.", dir = %dir.display(), error = %e);
                    }
                }
            }
        }
    }

    /// Lists the regular files matching the patterns now (symlinks followed, each file once).
    pub fn scan(&mut self) -> Vec<Found> {
        self.ensure_watches();
        let mut paths = Vec::new();
        let mut unreadable = Vec::new();
        let now = std::time::Instant::now();
        for (i, (_, walk)) in self.walks.iter().enumerate() {
            let before = paths.len();
            walk.walk(&mut |p| paths.push(p), &mut |dir, e| {
                unreadable.push((dir.to_path_buf(), e));
            });
            self.unmatched.observe(i, paths.len() > before, now);
        }
        for (dir, e) in unreadable {
            if self.warn_once(&dir, "read_dir") {
                tracing::warn!(message = "Cannot read directory while scanning; files in it are not followed.", dir = %dir.display(), error = %e);
            }
        }
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        for path in paths {
            if self.exclude.iter().any(|x| x.matches_path(&path)) {
                continue;
            }
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => {
                    if seen.insert((m.dev(), m.ino())) {
                        found.push(Found {
                            path,
                            dev: m.dev(),
                            ino: m.ino(),
                            size: m.len(),
                        });
                    }
                }
                Ok(m) => {
                    if self.warn_once(&path, "not_a_file") {
                        let kind = if m.is_dir() {
                            "a directory"
                        } else {
                            "not a regular file"
                        };
                        tracing::warn!(message = "Matched path is not a regular file; ignoring it.", path = %path.display(), kind);
                    }
                }
                // Renamed or deleted between the listing and the look: a rotation, not a
                // problem; the next scan sees where it went.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    if self.warn_once(&path, "stat") {
                        tracing::warn!(message = "Cannot stat matched path; will retry.", path = %path.display(), error = %e);
                    }
                }
            }
        }
        found
    }

    /// Forgets that `path` was warned about (it works now), so a new problem is logged again.
    pub fn clear_warning(&mut self, path: &Path) {
        self.warned.remove(path);
    }

    /// Records a problem with `path`; true if it is new: then it is counted (by `reason`) and
    /// the caller logs it. A problem is counted and logged again only after
    /// [`clear_warning`](Self::clear_warning).
    pub fn warn_once(&mut self, path: &Path, reason: &'static str) -> bool {
        let new = self.warned.insert(path.to_path_buf());
        if new {
            metrics()
                .file_errors
                .get_or_create(&component_with(&self.source, "reason", reason))
                .inc();
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_dirs() {
        assert_eq!(
            base_dir("/var/log/app/*.log"),
            PathBuf::from("/var/log/app")
        );
        assert_eq!(base_dir("/var/log/**/x.log"), PathBuf::from("/var/log"));
        assert_eq!(base_dir("/var/log/app.log"), PathBuf::from("/var/log"));
        assert_eq!(base_dir("*.log"), PathBuf::from("."));
    }

    #[test]
    fn scan_matches_excludes_and_dedupes_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.log"), b"x").unwrap();
        std::fs::write(d.join("b.log"), b"y").unwrap();
        std::fs::write(d.join("c.txt"), b"z").unwrap();
        std::os::unix::fs::symlink(d.join("a.log"), d.join("link.log")).unwrap();
        std::fs::create_dir(d.join("dir.log")).unwrap();
        let (tx, _rx) = mpsc::channel();
        let mut disc = Discovery::new(
            "test",
            &[format!("{}/*.log", d.display())],
            &[format!("{}/b.log", d.display())],
            tx,
        );
        let found = disc.scan();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].path.ends_with("a.log") || found[0].path.ends_with("link.log"));
    }
}
