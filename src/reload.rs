//! Hot reload: runs topology after topology as the config file changes, without losing or
//! repeating a line.
//!
//! The config file's directory is watched (`notify`), which sees both an edited file and a
//! Kubernetes ConfigMap update: there `skiff.toml` is a symlink to `..data/skiff.toml`, and the
//! kubelet swaps `..data` (a symlink to a timestamped directory) by renaming a new symlink over
//! it. `SIGHUP` asks for a reload too. Either way the file is read and interpolated again:
//!
//! - text unchanged (after interpolation): nothing to do, except on `SIGHUP`, which reloads
//!   anyway (so credentials read from files, e.g. `password_file`, are read again);
//! - invalid: refused. The error is logged, `skiff_config_reload_failures_total` counted, and the
//!   running topology carries on untouched (`/ready` stays 200). The same refused text is not
//!   reported again on every event;
//! - valid: the running topology drains as for a reload ([`StopKind::Reload`]: sources read their
//!   files to the end, everything is delivered and acknowledged, checkpoints written, lines not
//!   yet ended stay in the files), bounded by `shutdown_timeout`; then the new topology starts
//!   and its sources resume from those checkpoints. During the swap the data waits in the files.
//!   If the new topology cannot start, the previous config is started again and the reload
//!   counts as failed.
//!
//! The API listener, the metrics registry and the store of log-derived metrics
//! ([`crate::log_metrics`]) are not part of a topology: they live across reloads. A
//! `log_to_metric` metric whose definition did not change keeps its series; a changed one starts
//! again from zero. `[api]` and `[log]` changes need a restart (a warning says so).

use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::components::{self, Config};
use crate::config::{interpolate, ApiConfig, ConfigError, LogConfig};
use crate::metrics::metrics;
use crate::topology::{self, RunOptions, Status, StopKind, TopologyError};

/// How long file events must settle before the config is read (a ConfigMap swap is several
/// operations).
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// A validated config with what reloads compare it by.
pub struct LoadedConfig {
    /// The validated config.
    pub config: Config,
    /// The file's text before interpolation (to start this config again if a reload fails).
    raw: String,
    /// Digest of the text after interpolation.
    digest: u64,
}

impl std::fmt::Debug for LoadedConfig {
    // The text may hold credentials: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedConfig")
            .field("path", &self.config.path)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl LoadedConfig {
    /// Reads, interpolates and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
        let raw = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_owned(),
            error,
        })?;
        LoadedConfig::from_text(path, raw)
    }

    fn from_text(path: &Path, raw: String) -> Result<LoadedConfig, ConfigError> {
        let config = components::load_str(path, &raw, env)?;
        let digest = digest_of(&raw);
        Ok(LoadedConfig {
            config,
            raw,
            digest,
        })
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Digest of the text after interpolation (of the raw text if it does not interpolate).
fn digest_of(raw: &str) -> u64 {
    let text = interpolate::interpolate(raw, env);
    let mut h = DefaultHasher::new();
    match &text {
        Ok(t) => t.hash(&mut h),
        Err(_) => raw.hash(&mut h),
    }
    h.finish()
}

/// What is kept of the running config to judge the next one.
struct Current {
    path: PathBuf,
    raw: String,
    digest: u64,
    api: ApiConfig,
    log: LogConfig,
    data_dir: PathBuf,
    sources: Vec<String>,
}

impl Current {
    fn of(loaded: &LoadedConfig) -> Current {
        let c = &loaded.config;
        Current {
            path: c.path.clone(),
            raw: loaded.raw.clone(),
            digest: loaded.digest,
            api: c.api.clone(),
            log: c.log.clone(),
            data_dir: c.data_dir.clone(),
            sources: c.sources.iter().map(|s| s.name.clone()).collect(),
        }
    }
}

/// Runs `first`, then each new valid config, until `shutdown` resolves (or the topology ends by
/// itself: sentinel file, `once`, a failure). Reloads are off with `once`.
pub async fn supervise(
    first: LoadedConfig,
    status: Arc<Status>,
    once: bool,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TopologyError> {
    let mut triggers = if once {
        Triggers::disabled()
    } else {
        Triggers::watch(&first.config.path)
    };
    let opts = |resumed| RunOptions {
        once,
        status: Arc::clone(&status),
        resumed,
    };
    let mut current = Current::of(&first);
    let mut running = topology::start(first.config, opts(false)).await?;
    let mut refused = None;
    let mut shutting_down = false;
    tokio::pin!(shutdown);
    loop {
        let (stop_tx, stop_rx) = oneshot::channel();
        let mut stop_tx = Some(stop_tx);
        let topo = running.wait(async move { stop_rx.await.unwrap_or(StopKind::Shutdown) });
        tokio::pin!(topo);
        let mut next = None;
        let result = loop {
            tokio::select! {
                r = &mut topo => break r,
                () = &mut shutdown, if !shutting_down => {
                    shutting_down = true;
                    // During a reload's drain: let it finish, start nothing new, and let the
                    // probes see a shutdown.
                    status.reloading.store(false, Ordering::Release);
                    if let Some(tx) = stop_tx.take() {
                        let _ = tx.send(StopKind::Shutdown);
                    }
                }
                trigger = triggers.next(), if stop_tx.is_some() => {
                    if let Some(new) = check(&current, &mut refused, trigger) {
                        status.reloading.store(true, Ordering::Release);
                        next = Some(new);
                        if let Some(tx) = stop_tx.take() {
                            let _ = tx.send(StopKind::Reload);
                        }
                    }
                }
            }
        };
        let new = match next {
            Some(new) if !shutting_down => new,
            _ => {
                status.reloading.store(false, Ordering::Release);
                return result;
            }
        };
        match result {
            Ok(()) => {}
            Err(TopologyError::DrainTimeout(t)) => {
                tracing::warn!(message = "The previous config's pipeline did not drain in time; lines it did not deliver will be read again (possibly twice).", timeout = ?t);
            }
            Err(e) => {
                status.reloading.store(false, Ordering::Release);
                return Err(e);
            }
        }
        running = swap(&mut current, &mut refused, new, opts(true)).await?;
        status.reloading.store(false, Ordering::Release);
    }
}

/// Starts `new` once the old topology is gone; falls back to the current config if it fails.
async fn swap(
    current: &mut Current,
    refused: &mut Option<u64>,
    new: LoadedConfig,
    opts: RunOptions,
) -> Result<topology::Running, TopologyError> {
    restart_notes(current, &new.config);
    let next = Current::of(&new);
    let summary = new.config.summary();
    match topology::start(new.config, opts.clone()).await {
        Ok(running) => {
            *current = next;
            metrics().config_reloads.inc();
            tracing::info!(message = "Config reloaded.", path = %current.path.display(), topology = %summary);
            Ok(running)
        }
        Err(e) => {
            metrics().config_reload_failures.inc();
            *refused = Some(next.digest);
            tracing::error!(message = "The new config could not start; going back to the previous one.", error = %e);
            let Ok(old) = LoadedConfig::from_text(&current.path, current.raw.clone()) else {
                return Err(e);
            };
            topology::start(old.config, opts).await
        }
    }
}

/// Reads the config file again; returns it if it is new and valid.
fn check(current: &Current, refused: &mut Option<u64>, trigger: Trigger) -> Option<LoadedConfig> {
    let forced = trigger == Trigger::Hangup;
    let path = &current.path;
    let raw = match std::fs::read_to_string(path) {
        Ok(raw) => raw,
        Err(e) => {
            let digest = digest_of(&format!("unreadable: {:?}", e.kind()));
            if forced || *refused != Some(digest) {
                *refused = Some(digest);
                metrics().config_reload_failures.inc();
                tracing::error!(message = "Config reload refused: cannot read the config file; the current config keeps running.", path = %path.display(), error = %e);
            }
            return None;
        }
    };
    let digest = digest_of(&raw);
    if digest == current.digest && !forced {
        *refused = None;
        tracing::debug!(message = "Config file unchanged.", path = %path.display());
        return None;
    }
    if *refused == Some(digest) && !forced {
        return None;
    }
    match LoadedConfig::from_text(path, raw) {
        Ok(new) => {
            *refused = None;
            for w in &new.config.warnings {
                tracing::warn!(message = "Config warning.", warning = %w);
            }
            tracing::info!(message = "New config is valid; replacing the pipeline.", path = %path.display(), trigger = ?trigger);
            Some(new)
        }
        Err(e) => {
            *refused = Some(digest);
            metrics().config_reload_failures.inc();
            tracing::error!(message = "Config reload refused: the new config is invalid; the current config keeps running.", error = %e);
            None
        }
    }
}

/// Warns about changes a reload does not apply, or that have consequences worth knowing.
fn restart_notes(current: &Current, new: &Config) {
    if new.api != current.api {
        tracing::warn!(
            message = "[api] changed: the listener keeps its settings until skiff restarts."
        );
    }
    if new.log != current.log {
        tracing::warn!(
            message = "[log] changed: skiff's own log settings apply at the next restart."
        );
    }
    if new.data_dir != current.data_dir {
        tracing::warn!(message = "data_dir changed: sources resume from the checkpoints in the new directory (none there: files are read according to read_from).", from = %current.data_dir.display(), to = %new.data_dir.display());
    }
    for name in &current.sources {
        if !new.sources.iter().any(|s| &s.name == name) {
            tracing::warn!(message = "Source removed or renamed: its checkpoints stay in data_dir, unused; a source of that name would resume from them.", source = %name);
        }
    }
}

/// Why the config is looked at again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// Something changed in the config file's directory.
    FileChanged,
    /// `SIGHUP`.
    Hangup,
}

/// The watcher of the config file's directory and the `SIGHUP` handler.
struct Triggers {
    events: mpsc::Receiver<()>,
    _watcher: Option<notify::RecommendedWatcher>,
    hangup: Option<tokio::signal::unix::Signal>,
}

impl Triggers {
    fn disabled() -> Triggers {
        // SIGHUP would end the process by default; a handler, once installed, stays installed
        // (tokio never restores the default), so it is ignored from here on.
        drop(tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::hangup(),
        ));
        let (_, events) = mpsc::channel(1);
        Triggers {
            events,
            _watcher: None,
            hangup: None,
        }
    }

    /// Watches the directory of `path`, and listens for `SIGHUP`.
    fn watch(path: &Path) -> Triggers {
        use notify::Watcher;
        let (tx, events) = mpsc::channel(1);
        // A change made between the first load and now must not be missed: check once.
        let _ = tx.try_send(());
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().map(|n| n.to_os_string());
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            // Reading the file (our own checks included) makes access events: only changes
            // count, or each check would trigger the next.
            let relevant = match &res {
                Ok(ev) if matches!(ev.kind, notify::EventKind::Access(_)) => false,
                Ok(ev) => {
                    ev.paths.iter().any(|p| {
                        p.file_name().is_some_and(|n| {
                            Some(n) == name.as_deref() || n.as_encoded_bytes().starts_with(b"..")
                        })
                    }) || ev.paths.is_empty()
                }
                Err(_) => true,
            };
            if relevant {
                let _ = tx.try_send(());
            }
        })
        .and_then(|mut w| {
            w.watch(&dir, notify::RecursiveMode::NonRecursive)
                .map(|()| w)
        });
        let watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(message = "Cannot watch the config file's directory; reload with SIGHUP.", dir = %dir.display(), error = %e);
                None
            }
        };
        let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| tracing::warn!(message = "Cannot listen for SIGHUP.", error = %e))
            .ok();
        Triggers {
            events,
            _watcher: watcher,
            hangup,
        }
    }

    /// The next reason to look at the config.
    async fn next(&mut self) -> Trigger {
        let hangup = async {
            match self.hangup.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some(()) = self.events.recv() => {
                tokio::time::sleep(DEBOUNCE).await;
                while self.events.try_recv().is_ok() {}
                Trigger::FileChanged
            }
            Some(()) = hangup => Trigger::Hangup,
            else => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const BASE: &str = "data_dir = '/tmp/x'\n[sources.a]\ntype = 'file'\ninclude = ['/tmp/*.log']\n[sinks.out]\ntype = 'blackhole'\ninputs = ['a']\n";

    #[test]
    fn check_sorts_unchanged_invalid_and_new() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "skiff.toml", BASE);
        let loaded = LoadedConfig::load(&path).unwrap();
        let current = Current::of(&loaded);
        let mut refused = None;
        assert!(check(&current, &mut refused, Trigger::FileChanged).is_none());
        // SIGHUP reloads even an unchanged file.
        assert!(check(&current, &mut refused, Trigger::Hangup).is_some());

        let failures = metrics().config_reload_failures.get();
        write(dir.path(), "skiff.toml", "[sources.a]\ntype = 'nope'\n");
        assert!(check(&current, &mut refused, Trigger::FileChanged).is_none());
        assert!(refused.is_some());
        // The same refused text is reported once.
        assert!(check(&current, &mut refused, Trigger::FileChanged).is_none());
        assert!(metrics().config_reload_failures.get() > failures);

        write(dir.path(), "skiff.toml", &format!("{BASE}\n# changed\n"));
        let new = check(&current, &mut refused, Trigger::FileChanged).unwrap();
        assert_ne!(new.digest, current.digest);
        assert!(refused.is_none());
    }

    #[test]
    fn digest_compares_interpolated_text() {
        std::env::set_var("SKIFF_RELOAD_TEST_VAR", "one");
        let a = digest_of("x = '${SKIFF_RELOAD_TEST_VAR}'");
        assert_eq!(a, digest_of("x = 'one'"));
        assert_ne!(a, digest_of("x = 'two'"));
    }

    #[test]
    fn debug_hides_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "skiff.toml",
            &format!("{BASE}# password = hunter2\n"),
        );
        let loaded = LoadedConfig::load(&path).unwrap();
        assert!(!format!("{loaded:?}").contains("hunter2"));
    }
}
