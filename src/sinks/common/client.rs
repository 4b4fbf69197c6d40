//! The HTTP client of the sinks that deliver over HTTP: built once per sink with the shared TLS
//! options (extra CA, client certificate, verification), and the helpers every attempt uses: the
//! response body read into one capped buffer, transport errors described with their causes.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Certificate, Client, Identity};

use super::config::TlsConfig;
use crate::sinks::SinkError;

/// Builds a client with `timeout` per request (response included), `headers` on every request,
/// and the TLS settings of `tls`; fails when the TLS files cannot be used.
pub fn build(
    timeout: Duration,
    headers: HeaderMap,
    config: &TlsConfig,
) -> Result<Client, SinkError> {
    let builder = Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(50))
        .user_agent(concat!("skiff/", env!("CARGO_PKG_VERSION")))
        .default_headers(headers);
    tls(builder, config)?
        .build()
        .map_err(|e| SinkError::Other(format!("cannot build the HTTP client: {e}")))
}

/// Applies the TLS settings.
fn tls(
    mut builder: reqwest::ClientBuilder,
    config: &TlsConfig,
) -> Result<reqwest::ClientBuilder, SinkError> {
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read(path).map_err(|e| {
            SinkError::Other(format!("cannot read TLS {what} {}: {e}", path.display()))
        })
    };
    if let Some(ca) = &config.ca_file {
        let pem = read(ca, "CA file")?;
        let certs = Certificate::from_pem_bundle(&pem).map_err(|e| {
            SinkError::Other(format!("invalid CA certificates in {}: {e}", ca.display()))
        })?;
        if certs.is_empty() {
            return Err(SinkError::Other(format!(
                "no certificate found in {}",
                ca.display()
            )));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let (Some(crt), Some(key)) = (&config.crt_file, &config.key_file) {
        let mut pem = read(crt, "certificate")?;
        pem.push(b'\n');
        pem.extend(read(key, "key")?);
        let identity = Identity::from_pem(&pem).map_err(|e| {
            SinkError::Other(format!(
                "invalid client certificate or key ({}, {}): {e}",
                crt.display(),
                key.display()
            ))
        })?;
        builder = builder.identity(identity);
    }
    if !config.verify {
        tracing::warn!(message = "TLS verification is off: the server's identity is not checked.");
        builder = builder.danger_accept_invalid_certs(true);
    }
    Ok(builder)
}

/// Reads a response body into one buffer, refusing more than `max` bytes.
pub async fn read_body(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    let hint = resp.content_length().unwrap_or(0) as usize;
    let mut body = Vec::with_capacity(hint.min(max));
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("reading the response: {}", describe(&e)))?
    {
        if body.len() + chunk.len() > max {
            return Err(format!("response larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A transport error with its causes (reqwest's own message is terse).
pub fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        e.to_string()
    };
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
