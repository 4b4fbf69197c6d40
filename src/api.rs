//! The HTTP listener for probes and metrics: `GET /health`, `GET /ready`, `GET /metrics`.
//!
//! One small HTTP/1.1 server (hyper) on the async runtime. It is bound before the first topology
//! starts (a bind failure stops skiff at startup with a clear message) and lives until the
//! process ends, across config reloads: probes and scrapes never see the listener go away.
//!
//! What the endpoints answer is a pure function of the shared [`Status`] ([`respond`]):
//! - `/health` (liveness): 200 unless a component died;
//! - `/ready` (readiness): 200 once the topology runs, 503 while it drains for shutdown (a
//!   config reload, applied or refused, keeps it 200);
//! - `/metrics`: skiff's own metrics and those `log_to_metric` makes from events, in the
//!   Prometheus text format or OpenMetrics, chosen by the `Accept` header
//!   ([`crate::log_metrics::expose`]). With `[api] log_metrics_address` the log-derived ones are
//!   served by a second listener of their own (only `/metrics`), and not on the API's.
//!
//! The listener holds at most [`MAX_CONNECTIONS`] connections, and a client must send its request
//! headers within [`HEADER_TIMEOUT`], so a misbehaving client cannot grow skiff's memory.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::ApiConfig;
use crate::log_metrics::expose::{self, Format};
use crate::metrics::metrics;
use crate::topology::Status;

/// Content type of `/metrics` when the scraper asks for OpenMetrics (as Prometheus does).
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Which metrics a listener's `/metrics` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposes {
    /// skiff's own and the log-derived ones (the API without `log_metrics_address`).
    All,
    /// skiff's own only (the API when the log-derived ones have a listener of their own).
    Own,
    /// The log-derived ones only (the `log_metrics_address` listener).
    LogMetrics,
}

/// Connections served at once; more are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 32;

/// How long a client may take to send its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The listener could not start.
#[derive(Debug, Error)]
pub enum ApiError {
    #[error("invalid [api] address `{address}`: expected IP:PORT, such as 0.0.0.0:8081")]
    Address { address: String },
    #[error("cannot listen on {address} for the API ([api] address): {error}")]
    Bind {
        address: SocketAddr,
        error: std::io::Error,
    },
}

/// A bound listener, ready to [`serve`](Api::serve).
pub struct Api {
    listener: TcpListener,
    local: SocketAddr,
    status: Arc<Status>,
    exposes: Exposes,
}

impl Api {
    /// Binds the configured address (port 0 picks a free port; see [`Api::local_addr`]).
    pub async fn bind(config: &ApiConfig, status: Arc<Status>) -> Result<Api, ApiError> {
        let exposes = if config.log_metrics_address.is_some() {
            Exposes::Own
        } else {
            Exposes::All
        };
        Api::bind_address(&config.address, status, exposes).await
    }

    /// Binds the `log_metrics_address` listener, when one is configured.
    pub async fn bind_log_metrics(
        config: &ApiConfig,
        status: Arc<Status>,
    ) -> Result<Option<Api>, ApiError> {
        match &config.log_metrics_address {
            Some(address) => Ok(Some(
                Api::bind_address(address, status, Exposes::LogMetrics).await?,
            )),
            None => Ok(None),
        }
    }

    async fn bind_address(
        address: &str,
        status: Arc<Status>,
        exposes: Exposes,
    ) -> Result<Api, ApiError> {
        let address: SocketAddr = address.parse().map_err(|_| ApiError::Address {
            address: address.to_owned(),
        })?;
        let bind_err = |error| ApiError::Bind { address, error };
        let listener = TcpListener::bind(address).await.map_err(bind_err)?;
        let local = listener.local_addr().map_err(bind_err)?;
        Ok(Api {
            listener,
            local,
            status,
            exposes,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Accepts connections until `shutdown` is cancelled.
    pub async fn serve(self, shutdown: CancellationToken) {
        if self.exposes == Exposes::LogMetrics {
            tracing::info!(message = "Log metrics listening.", address = %self.local);
        } else {
            tracing::info!(message = "API listening.", address = %self.local);
        }
        let exposes = self.exposes;
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                a = self.listener.accept() => a,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(message = "API cannot accept a connection.", error = %e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                tracing::debug!(message = "API connection limit reached; closing a connection.");
                continue;
            };
            let status = Arc::clone(&self.status);
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let accept = req
                        .headers()
                        .get(hyper::header::ACCEPT)
                        .and_then(|v| v.to_str().ok());
                    let res = respond_to(req.method(), req.uri().path(), accept, exposes, &status);
                    async move { Ok::<_, Infallible>(res) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service);
                if let Err(e) = conn.await {
                    tracing::debug!(message = "API connection ended with an error.", error = %e);
                }
                drop(permit);
            });
        }
    }
}

/// The response to `method path` on the API, for a scraper asking for OpenMetrics.
pub fn respond(method: &Method, path: &str, status: &Status) -> Response<Full<Bytes>> {
    respond_to(
        method,
        path,
        Some("application/openmetrics-text"),
        Exposes::All,
        status,
    )
}

/// The response to `method path` with `Accept: accept`, on a listener that `exposes`, given the
/// pipeline's state.
pub fn respond_to(
    method: &Method,
    path: &str,
    accept: Option<&str>,
    exposes: Exposes,
    status: &Status,
) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        let mut res = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        res.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    if exposes == Exposes::LogMetrics && path != "/metrics" {
        return text(StatusCode::NOT_FOUND, "not found: try /metrics\n");
    }
    match path {
        "/health" => {
            if status.is_healthy() {
                text(StatusCode::OK, "ok\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "a component failed\n")
            }
        }
        "/ready" => {
            if status.is_ready() {
                text(StatusCode::OK, "ready\n")
            } else if status.is_draining() {
                text(StatusCode::SERVICE_UNAVAILABLE, "draining\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
            }
        }
        "/metrics" => {
            let format = Format::negotiate(accept);
            let own = (exposes != Exposes::LogMetrics).then(|| metrics().encode());
            let body = expose::render(own.as_deref(), exposes != Exposes::Own, format);
            let mut res = Response::new(Full::new(Bytes::from(body)));
            res.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            res
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /health, /ready or /metrics\n",
        ),
    }
}

fn text(code: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *res.status_mut() = code;
    let headers = res.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    fn code(method: Method, path: &str, status: &Status) -> StatusCode {
        respond(&method, path, status).status()
    }

    #[test]
    fn probes_follow_the_status() {
        let s = Status::default();
        assert_eq!(code(Method::GET, "/health", &s), StatusCode::OK);
        assert_eq!(
            code(Method::GET, "/ready", &s),
            StatusCode::SERVICE_UNAVAILABLE
        );
        s.running.store(true, Ordering::Release);
        s.ready.store(true, Ordering::Release);
        assert_eq!(code(Method::GET, "/ready", &s), StatusCode::OK);
        // A reload drains the old topology without leaving readiness.
        s.reloading.store(true, Ordering::Release);
        s.draining.store(true, Ordering::Release);
        assert_eq!(code(Method::GET, "/ready", &s), StatusCode::OK);
        s.reloading.store(false, Ordering::Release);
        assert_eq!(
            code(Method::GET, "/ready", &s),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(code(Method::GET, "/health", &s), StatusCode::OK);
        s.failed.store(true, Ordering::Release);
        assert_eq!(
            code(Method::GET, "/health", &s),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn metrics_are_openmetrics_text() {
        let s = Status::default();
        let res = respond(&Method::GET, "/metrics", &s);
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[CONTENT_TYPE], METRICS_CONTENT_TYPE);
    }

    #[test]
    fn config_rejects_a_bad_address_with_its_place() {
        let text = "[api]\naddress = \"localhost\"\n[sources.a]\ntype = \"file\"\ninclude = [\"/x/*.log\"]\n[sinks.b]\ntype = \"blackhole\"\ninputs = [\"a\"]\n";
        let err = crate::components::load_str(std::path::Path::new("s.toml"), text, |_| None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("s.toml:2:"), "{err}");
        assert!(
            err.contains("api.address: invalid address `localhost`"),
            "{err}"
        );
        let disabled = text.replace("[api]\n", "[api]\nenabled = false\n");
        assert!(
            crate::components::load_str(std::path::Path::new("s.toml"), &disabled, |_| None)
                .is_ok()
        );
    }

    #[test]
    fn other_paths_and_methods() {
        let s = Status::default();
        assert_eq!(code(Method::GET, "/", &s), StatusCode::NOT_FOUND);
        assert_eq!(code(Method::HEAD, "/health", &s), StatusCode::OK);
        let res = respond(&Method::POST, "/health", &s);
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers()[ALLOW], "GET, HEAD");
    }
}
