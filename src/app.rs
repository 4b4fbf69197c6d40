//! What the binary does, kept out of `main.rs` so it can be tested: logging setup, `run` with
//! signal handling, and `validate`.

use std::path::Path;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;

use crate::config::{self, Config, ConfigError, LogFormat};
use crate::topology::{self, RunOptions, Status, TopologyError};

/// Sets up skiff's own logs on stderr. `SKIFF_LOG` wins over the config's level.
pub fn init_logging(level: Option<&str>, format: LogFormat) {
    let filter = std::env::var("SKIFF_LOG")
        .ok()
        .and_then(|s| EnvFilter::try_new(s).ok())
        .or_else(|| level.and_then(|l| EnvFilter::try_new(l).ok()))
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless: the first one stays.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}

/// Loads and validates the config, printing its warnings.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let config = config::load(path)?;
    for w in &config.warnings {
        tracing::warn!(message = "Config warning.", warning = %w);
    }
    Ok(config)
}

/// Runs the pipeline until SIGTERM / SIGINT (or, with `once`, until every file was read).
/// A second signal exits at once.
pub async fn run(config: Config, once: bool) -> Result<(), TopologyError> {
    let status = Arc::new(Status::default());
    let shutdown = async {
        wait_for_signal().await;
        tokio::spawn(async {
            wait_for_signal().await;
            tracing::warn!(message = "Second signal: exiting now without draining.");
            std::process::exit(130);
        });
    };
    topology::run(config, RunOptions { once, status }, shutdown).await
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!(message = "Cannot install signal handlers; SIGTERM will not drain.");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
