//! HTTP to the cluster: the client (TLS, timeouts, headers), the endpoint rotation, one bulk
//! attempt, and the start-up health check.
//!
//! An attempt's result is a value ([`Attempt`]): a status and a body, or a transport failure.
//! What it means is decided by [`super::response`]; what to do about it by [`super::deliver`].
//! The response body is read once, into one buffer, up to [`MAX_RESPONSE_BYTES`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use bytes::Bytes;
use reqwest::header;
use reqwest::Client;
use serde::Deserialize;

use super::config::ElasticsearchConfig;
use super::endpoints::Rotation;
use super::settings::EndpointUrls;
use crate::metrics::{component_with, metrics};
use crate::sinks::common::auth::{AuthError, Credentials};
use crate::sinks::common::client::{self, describe, read_body};
use crate::sinks::SinkError;

/// Largest response body read; a bulk response with `filter_path` is a few bytes per document.
pub const MAX_RESPONSE_BYTES: usize = 256 << 20;

/// The outcome of one HTTP attempt.
#[derive(Debug)]
pub enum Attempt {
    /// The server answered.
    Answered {
        /// HTTP status.
        status: u16,
        /// The response body.
        body: Vec<u8>,
    },
    /// No answer: connection error, timeout, unreadable body.
    Failed {
        /// What went wrong.
        error: String,
    },
    /// The credentials cannot be built (unreadable file); nothing was sent.
    NoCredentials(AuthError),
}

/// The cluster, as the sink's requests see it.
#[derive(Debug)]
pub struct Service {
    name: String,
    client: Client,
    endpoints: Vec<EndpointUrls>,
    rotation: Rotation,
    /// The `Authorization` header.
    pub credentials: Credentials,
    product_warned: AtomicBool,
}

impl Service {
    /// Builds the client; fails when the TLS files cannot be used.
    pub fn new(
        name: &str,
        config: &ElasticsearchConfig,
        endpoints: Vec<EndpointUrls>,
        headers: header::HeaderMap,
    ) -> Result<Service, SinkError> {
        let client = client::build(config.request_timeout.get(), headers, &config.tls)?;
        Ok(Service {
            name: name.to_owned(),
            client,
            rotation: Rotation::new(endpoints.len()),
            endpoints,
            credentials: Credentials::new(config.auth.as_ref().and_then(|a| a.scheme())),
            product_warned: AtomicBool::new(false),
        })
    }

    /// Sends one bulk body (`gzipped` or not) to the next endpoint.
    pub async fn bulk(&self, wire: Bytes, gzipped: bool) -> Attempt {
        let auth = match self.credentials.header() {
            Ok(h) => h,
            Err(e) => return Attempt::NoCredentials(e),
        };
        let i = self.rotation.pick(Instant::now());
        let Some(endpoint) = self.endpoints.get(i) else {
            return Attempt::Failed {
                error: "no endpoint".into(),
            };
        };
        let mut req = self
            .client
            .post(endpoint.bulk.clone())
            .header(header::CONTENT_TYPE, "application/x-ndjson")
            .body(wire);
        if gzipped {
            req = req.header(header::CONTENT_ENCODING, "gzip");
        }
        if let Some(h) = auth {
            req = req.header(header::AUTHORIZATION, h);
        }
        let started = Instant::now();
        let attempt = match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                if (200..300).contains(&status) {
                    self.check_product(resp.headers());
                }
                match read_body(resp, MAX_RESPONSE_BYTES).await {
                    Ok(body) => Attempt::Answered { status, body },
                    Err(error) => Attempt::Failed { error },
                }
            }
            Err(e) => Attempt::Failed {
                error: describe(&e),
            },
        };
        let m = metrics();
        m.send_duration_seconds
            .get_or_create(&crate::metrics::component(&self.name))
            .observe(started.elapsed().as_secs_f64());
        let label = match &attempt {
            Attempt::Answered { status, .. } => status.to_string(),
            _ => "error".to_owned(),
        };
        m.es_requests
            .get_or_create(&component_with(&self.name, "status", &label))
            .inc();
        self.track_endpoint(i, &attempt);
        attempt
    }

    /// Feeds an attempt's outcome to the rotation, and logs an endpoint going down or coming back.
    fn track_endpoint(&self, i: usize, attempt: &Attempt) {
        let endpoint = self
            .endpoints
            .get(i)
            .map(|e| e.root.as_str())
            .unwrap_or("?");
        let error = match attempt {
            Attempt::Answered { status, .. } if *status < 500 => {
                if self.rotation.succeeded(i) {
                    tracing::info!(message = "Elasticsearch endpoint answers again.", sink = %self.name, endpoint);
                }
                return;
            }
            Attempt::Answered { status, .. } => format!("HTTP status {status}"),
            Attempt::Failed { error } => error.clone(),
            Attempt::NoCredentials(_) => return,
        };
        let failure = self.rotation.failed(i, Instant::now());
        if failure.log {
            tracing::warn!(message = "Cannot reach Elasticsearch endpoint; retrying (other endpoints first), nothing is dropped.", sink = %self.name, endpoint, error = %error, skipped_for = ?failure.cooldown);
        }
    }

    /// `GET /` on the first endpoint: logs what the cluster is. Never fails; problems are logged.
    pub async fn healthcheck(&self) {
        let Some(endpoint) = self.endpoints.first() else {
            return;
        };
        let mut req = self.client.get(endpoint.root.clone());
        if let Ok(Some(h)) = self.credentials.header() {
            req = req.header(header::AUTHORIZATION, h);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(message = "Elasticsearch health check failed; delivery will retry until it answers.", sink = %self.name, endpoint = %endpoint.root, error = %describe(&e));
                return;
            }
        };
        let status = resp.status();
        let product = resp.headers().contains_key("x-elastic-product");
        let body = read_body(resp, MAX_RESPONSE_BYTES)
            .await
            .unwrap_or_default();
        if !status.is_success() {
            let e = super::response::request_error(status.as_u16(), &body);
            tracing::warn!(message = "Elasticsearch health check was refused.", sink = %self.name, endpoint = %endpoint.root, status = status.as_u16(), reason = %e.reason);
            return;
        }
        let info: RootInfo = serde_json::from_slice(&body).unwrap_or_default();
        let opensearch = info.version.distribution.as_deref() == Some("opensearch");
        tracing::info!(
            message = if opensearch { "Connected to OpenSearch." } else { "Connected to Elasticsearch." },
            sink = %self.name,
            endpoint = %endpoint.root,
            version = %info.version.number.as_deref().unwrap_or("unknown"),
            cluster = %info.cluster_name.as_deref().unwrap_or("unknown"),
        );
        if !product && !opensearch {
            self.warn_product();
        }
        if opensearch {
            self.product_warned.store(true, Ordering::Relaxed);
        }
    }

    fn check_product(&self, headers: &header::HeaderMap) {
        if !headers.contains_key("x-elastic-product") {
            self.warn_product();
        }
    }

    fn warn_product(&self) {
        if !self.product_warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(message = "The server sent no X-Elastic-Product header: it is not Elasticsearch (OpenSearch?), or a proxy removes the header. Continuing: the bulk API is all skiff needs.", sink = %self.name);
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct RootInfo {
    #[serde(default)]
    cluster_name: Option<String>,
    #[serde(default)]
    version: VersionInfo,
}

#[derive(Debug, Default, Deserialize)]
struct VersionInfo {
    #[serde(default)]
    number: Option<String>,
    #[serde(default)]
    distribution: Option<String>,
}
