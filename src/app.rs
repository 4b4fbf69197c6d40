//! What the binary does, kept out of `main.rs` so it can be tested: logging setup, and `run`:
//! the API listener, signal handling, and the reloading supervisor.

use std::path::Path;
use std::sync::Arc;

use thiserror::Error;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::api::{Api, ApiError};
use crate::components;
use crate::config::{log_level, ConfigError, LogFormat};
use crate::data_dir;
use crate::reload::{self, LoadedConfig};
use crate::topology::{Status, TopologyError};

/// The environment variable that overrides `[log] level`.
pub const LOG_ENV: &str = "SKIFF_LOG";

/// A log level that cannot be used, and where it was set.
#[derive(Debug, Error)]
#[error("{origin}: {message}")]
pub struct LogLevelError {
    /// `SKIFF_LOG` or `[log] level`.
    pub origin: &'static str,
    pub message: String,
}

/// The filter of skiff's own logs: `SKIFF_LOG` when set, else `[log] level`, else `info`, each
/// checked ([`crate::config::log_level`]): a level that is not one is an error, never a filter
/// that silently hides every log.
pub fn log_filter(config_level: Option<&str>) -> Result<String, LogLevelError> {
    let check = |origin, level: &str| {
        log_level::normalize(level).map_err(|message| LogLevelError { origin, message })
    };
    match std::env::var(LOG_ENV) {
        Ok(level) => check(LOG_ENV, &level),
        Err(std::env::VarError::NotUnicode(_)) => Err(LogLevelError {
            origin: LOG_ENV,
            message: "not valid UTF-8".into(),
        }),
        Err(std::env::VarError::NotPresent) => match config_level {
            Some(level) => check("[log] level", level),
            None => Ok("info".into()),
        },
    }
}

/// Sets up skiff's own logs on stderr with a filter from [`log_filter`].
pub fn init_logging(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless: the first one stays.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}

/// What `skiff validate` found in a config that can be used.
#[derive(Debug)]
pub struct Validation {
    /// The one-line summary of the topology.
    pub summary: String,
    /// Problems that do not stop skiff.
    pub warnings: Vec<String>,
}

/// `skiff validate`: the config file, `SKIFF_LOG`, and what the config names on this machine
/// (`data_dir`, the include patterns' directories), every error found in one go.
pub fn validate(path: &Path) -> Result<Validation, ConfigError> {
    let log_error = log_filter(None).err().map(|e| e.to_string());
    match components::load(path) {
        Ok(config) => {
            let mut errors: Vec<String> = log_error.into_iter().collect();
            let mut warnings = config.warnings.clone();
            match data_dir::check(&config.data_dir) {
                Ok(data_dir::Checked::Usable) => {}
                Ok(data_dir::Checked::NotCreatableHere(w)) => warnings.push(w),
                Err(e) => errors.push(e.to_string()),
            }
            for s in &config.sources {
                for w in s.config.check_environment() {
                    let w = w.within(&["sources", &s.name]);
                    warnings.push(format!("{}: {}", w.path.join("."), w.message));
                }
            }
            if errors.is_empty() {
                Ok(Validation {
                    summary: config.summary(),
                    warnings,
                })
            } else {
                Err(ConfigError::Invalid(errors))
            }
        }
        Err(ConfigError::Invalid(mut errors)) => {
            errors.extend(log_error);
            Err(ConfigError::Invalid(errors))
        }
        Err(e) => Err(e),
    }
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
        if let Some(own) = Api::bind_log_metrics(&loaded.config.api, Arc::clone(&status)).await? {
            tokio::spawn(own.serve(api_stop.clone()));
        }
        tokio::spawn(api.serve(api_stop));
    } else {
        tracing::info!(message = "API disabled ([api] enabled = false).");
    }
    let shutdown = async {
        let signal = wait_for_signal().await;
        tracing::info!(message = "Signal received: draining, then exiting.", signal);
        tokio::spawn(async {
            let signal = wait_for_signal().await;
            tracing::warn!(
                message = "Second signal: exiting now without draining.",
                signal,
                exit_code = SECOND_SIGNAL_EXIT
            );
            std::process::exit(SECOND_SIGNAL_EXIT.into());
        });
    };
    reload::supervise(loaded, status, once, shutdown).await?;
    Ok(())
}

/// The exit code when a second signal cuts the drain short.
pub const SECOND_SIGNAL_EXIT: u8 = 130;

/// Waits for SIGTERM or SIGINT and returns its name.
#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!(message = "Cannot install signal handlers; SIGTERM will not drain.");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::SinkError;

    /// Each error prints its cause in its own message and does not also return it as its
    /// `source()`: printed as a chain (`{:#}`), the cause appears once.
    #[test]
    fn errors_print_their_cause_once() {
        let io = || std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let errors: Vec<anyhow::Error> = vec![
            ConfigError::Read {
                path: "/x.toml".into(),
                error: io(),
            }
            .into(),
            RunError::from(ApiError::Bind {
                address: "127.0.0.1:1".parse().unwrap(),
                error: io(),
            })
            .into(),
            RunError::from(TopologyError::Sink {
                name: "out".into(),
                error: SinkError::BrokenPipe,
            })
            .into(),
            RunError::from(TopologyError::Sink {
                name: "out".into(),
                error: SinkError::Io(io()),
            })
            .into(),
            crate::sources::file::checkpoint::CheckpointError {
                path: "/c.json".into(),
                error: io(),
            }
            .into(),
        ];
        for e in errors {
            let chain = format!("{e:#}");
            assert_eq!(chain, e.to_string());
            let cause = e
                .to_string()
                .rsplit(": ")
                .next()
                .unwrap_or_default()
                .to_owned();
            assert_eq!(chain.matches(&cause).count(), 1, "{chain}");
        }
    }
}
