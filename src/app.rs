//! What the binary does, kept out of `main.rs` so it can be tested: logging setup, and `run`:
//! the API listener, signal handling, and the reloading supervisor.

use std::path::Path;
use std::sync::Arc;

use thiserror::Error;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::api::{Api, ApiError};
use crate::components::{self, Config};
use crate::config::{ConfigError, LogFormat};
use crate::reload::{self, LoadedConfig};
use crate::topology::{Status, TopologyError};

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
    let config = components::load(path)?;
    for w in &config.warnings {
        tracing::warn!(message = "Config warning.", warning = %w);
    }
    Ok(config)
}

/// Why `run` failed.
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Topology(#[from] TopologyError),
}

impl RunError {
    /// The process exit code: 2 when the drain timed out (the data that was not delivered is
    /// read again at the next start), 1 for any other failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Topology(TopologyError::DrainTimeout(_)) => 2,
            _ => 1,
        }
    }
}

/// Runs the pipeline until SIGTERM / SIGINT (or, with `once`, until every file was read, or
/// until the sentinel file appears), reloading it when the config file changes. The API listener
/// is bound first: a bind failure is an error before anything starts. A second signal exits at
/// once.
pub async fn run(loaded: LoadedConfig, once: bool) -> Result<(), RunError> {
    let status = Arc::new(Status::default());
    let api_stop = CancellationToken::new();
    let _stop_api = api_stop.clone().drop_guard();
    if loaded.config.api.enabled {
        let api = Api::bind(&loaded.config.api, Arc::clone(&status)).await?;
        tokio::spawn(api.serve(api_stop));
    } else {
        tracing::info!(message = "API disabled ([api] enabled = false).");
    }
    let shutdown = async {
        wait_for_signal().await;
        tokio::spawn(async {
            wait_for_signal().await;
            tracing::warn!(message = "Second signal: exiting now without draining.");
            std::process::exit(130);
        });
    };
    reload::supervise(loaded, status, once, shutdown).await?;
    Ok(())
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
