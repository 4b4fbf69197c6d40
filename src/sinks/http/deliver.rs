//! Delivering one body until its events are settled: accepted (2xx) or dead-lettered (a 4xx
//! other than those below). Nothing else ends a delivery but the drain deadline.
//!
//! - No answer (connection refused or dropped, timeout, unreadable response), 408, 429 and 5xx:
//!   the same bytes are sent again after a full-jitter backoff, or after the server's
//!   `Retry-After` (seconds or an HTTP date) when it sent one, capped at [`MAX_RETRY_AFTER`].
//! - 401, 403 and 407: the credential files are read again, then the same bytes sent again (a
//!   rotated secret must not send data to dead letters).
//! - Any other 4xx: the request itself is refused; each event goes to the dead-letter file with
//!   the status and the first bytes of the response, and counts as settled.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::header;
use reqwest::{Client, Url};

use super::encoder::Body;
use crate::codec::json::{write_str, write_timestamp};
use crate::metrics::{component, component_with, metrics};
use crate::sinks::common::auth::Credentials;
use crate::sinks::common::client::describe;
use crate::sinks::common::compress;
use crate::sinks::common::config::Compression;
use crate::sinks::common::dead_letter::{self, DeadLetterFile};
use crate::sinks::common::problems::{Every, Problem, ProblemLog};
use crate::sinks::common::retry::Backoff;

/// Bytes of a response kept for logs and dead letters.
pub const RESPONSE_HEAD: usize = 1024;

/// The longest `Retry-After` honoured; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// What every delivery of one sink shares.
#[derive(Debug)]
pub struct Shared {
    /// The sink's name.
    pub name: String,
    /// The client (TLS, timeouts, user headers).
    pub client: Client,
    /// POST or PUT.
    pub method: reqwest::Method,
    /// The `Content-Type` skiff sets (`None`: the user's header applies).
    pub content_type: Option<&'static str>,
    /// The `Authorization` header.
    pub credentials: Credentials,
    /// Body compression.
    pub compression: Compression,
    /// Waits between attempts.
    pub backoff: Backoff,
    /// The dead-letter file; `None` when disabled.
    pub dead_letters: Option<Arc<Mutex<DeadLetterFile>>>,
    /// Request-level problems, logged on change.
    pub problems: ProblemLog,
    /// Rate limit of the log of refused requests.
    pub rejection_log: Every,
}

/// A finished delivery: events per incoming batch, all settled.
#[derive(Debug)]
pub struct Completed {
    /// (batch sequence number, events).
    pub batches: Vec<(u64, u64)>,
}

/// The outcome of one attempt.
#[derive(Debug)]
enum Answer {
    Status {
        status: u16,
        retry_after: Option<Duration>,
        head: Vec<u8>,
    },
    Failed(String),
}

/// Delivers `body`; returns once every event in it is settled.
pub async fn deliver(shared: Arc<Shared>, body: Body) -> Completed {
    let batches = body.batches.clone();
    let url = match Url::parse(&body.uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        Ok(_) | Err(_) => {
            let reason = format!(
                "the URI template rendered `{}`, not an http(s) URI",
                body.uri
            );
            dead_letter(&shared, &body, 0, reason.as_bytes()).await;
            return Completed { batches };
        }
    };
    let (wire, gzipped) = compress::wire(&body.bytes, shared.compression).await;
    let mut attempt = 0u32;
    loop {
        let auth = match shared.credentials.header() {
            Ok(h) => h,
            Err(e) => {
                report(&shared, Problem::Credentials, None, &e.to_string(), attempt);
                wait(&shared, &mut attempt, None, body.len()).await;
                continue;
            }
        };
        let mut req = shared
            .client
            .request(shared.method.clone(), url.clone())
            .body(wire.clone());
        if let Some(ct) = shared.content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        if gzipped {
            req = req.header(header::CONTENT_ENCODING, "gzip");
        }
        if let Some(h) = auth {
            req = req.header(header::AUTHORIZATION, h);
        }
        let answer = send(&shared, req).await;
        match answer {
            Answer::Status { status, .. } if (200..300).contains(&status) => {
                if shared.problems.recovered() {
                    tracing::info!(message = "The HTTP endpoint accepts events again.", sink = %shared.name);
                }
                metrics()
                    .events_out
                    .get_or_create(&component(&shared.name))
                    .inc_by(body.len() as u64);
                return Completed { batches };
            }
            Answer::Status {
                status: status @ (408 | 429 | 500..=599),
                retry_after,
                head,
            } => {
                let reason = String::from_utf8_lossy(&head).into_owned();
                report(&shared, Problem::Overloaded, Some(status), &reason, attempt);
                wait(&shared, &mut attempt, retry_after, body.len()).await;
            }
            Answer::Status {
                status: status @ (401 | 403 | 407),
                head,
                ..
            } => {
                let reason = String::from_utf8_lossy(&head).into_owned();
                report(
                    &shared,
                    Problem::Unauthorized,
                    Some(status),
                    &reason,
                    attempt,
                );
                if let Err(e) = shared.credentials.reload() {
                    report(&shared, Problem::Credentials, None, &e.to_string(), attempt);
                }
                wait(&shared, &mut attempt, None, body.len()).await;
            }
            Answer::Status { status, head, .. } => {
                dead_letter(&shared, &body, status, &head).await;
                return Completed { batches };
            }
            Answer::Failed(error) => {
                report(&shared, Problem::Refused, None, &error, attempt);
                wait(&shared, &mut attempt, None, body.len()).await;
            }
        }
    }
}

/// One request: the status, `Retry-After` and the first bytes of the answer.
async fn send(shared: &Shared, req: reqwest::RequestBuilder) -> Answer {
    let started = Instant::now();
    let answer = match req.send().await {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, Utc::now()));
            let mut head = Vec::new();
            let mut failed = None;
            loop {
                match resp.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = RESPONSE_HEAD.saturating_sub(head.len());
                        head.extend_from_slice(&chunk[..room.min(chunk.len())]);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some(format!("reading the response: {}", describe(&e)));
                        break;
                    }
                }
            }
            match failed {
                // A refusal is a refusal even if its body was cut.
                Some(e) if (200..300).contains(&status) => Answer::Failed(e),
                _ => Answer::Status {
                    status,
                    retry_after,
                    head,
                },
            }
        }
        Err(e) => Answer::Failed(describe(&e)),
    };
    let m = metrics();
    m.send_duration_seconds
        .get_or_create(&component(&shared.name))
        .observe(started.elapsed().as_secs_f64());
    let label = match &answer {
        Answer::Status { status, .. } => status.to_string(),
        Answer::Failed(_) => "error".to_owned(),
    };
    m.http_requests
        .get_or_create(&component_with(&shared.name, "status", &label))
        .inc();
    answer
}

/// `Retry-After`: delay-seconds or an HTTP date, as a wait from `now` (never negative), capped
/// at [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str, now: chrono::DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Waits before the next attempt (the server's `Retry-After`, else the backoff) and counts the
/// events about to be sent again.
async fn wait(shared: &Shared, attempt: &mut u32, retry_after: Option<Duration>, events: usize) {
    let delay = retry_after.unwrap_or_else(|| shared.backoff.next_delay(*attempt));
    *attempt = attempt.saturating_add(1);
    metrics()
        .retries
        .get_or_create(&component(&shared.name))
        .inc_by(events as u64);
    tokio::time::sleep(delay).await;
}

/// Writes every event of a refused body to the dead-letter file, one record each:
/// `{"time","sink","uri","status","response","event"}`.
async fn dead_letter(shared: &Shared, body: &Body, status: u16, head: &[u8]) {
    let n = body.len() as u64;
    let response = String::from_utf8_lossy(head);
    if shared.rejection_log.ready(Instant::now()) {
        tracing::warn!(message = "The HTTP endpoint refused a request for good; its events go to the dead-letter file.", sink = %shared.name, events = n, status, response = %response, dead_letter = shared.dead_letters.is_some());
    }
    let Some(file) = &shared.dead_letters else {
        metrics()
            .events_dropped
            .get_or_create(&component_with(&shared.name, "reason", "rejected"))
            .inc_by(n);
        return;
    };
    let mut prefix = Vec::new();
    prefix.extend_from_slice(b"{\"time\":");
    write_timestamp(&mut prefix, &Utc::now());
    prefix.extend_from_slice(b",\"sink\":");
    write_str(&mut prefix, shared.name.as_bytes());
    prefix.extend_from_slice(b",\"uri\":");
    write_str(&mut prefix, body.uri.as_bytes());
    prefix.extend_from_slice(b",\"status\":");
    prefix.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
    prefix.extend_from_slice(b",\"response\":");
    write_str(&mut prefix, response.as_bytes());
    prefix.extend_from_slice(b",\"event\":");
    let mut lines = Vec::with_capacity(body.bytes.len() + prefix.len() * body.len());
    for i in 0..body.len() {
        lines.extend_from_slice(&prefix);
        if body.text_items {
            write_str(
                &mut lines,
                &String::from_utf8_lossy(body.item(i))
                    .into_owned()
                    .into_bytes(),
            );
        } else {
            lines.extend_from_slice(body.item(i));
        }
        lines.extend_from_slice(b"}\n");
    }
    dead_letter::store(&shared.name, file, lines, n).await;
}

fn report(shared: &Shared, problem: Problem, status: Option<u16>, reason: &str, attempt: u32) {
    if !shared.problems.occurred(problem, Instant::now()) {
        return;
    }
    let name = &shared.name;
    let status = status.map_or_else(|| "none".to_owned(), |s| s.to_string());
    let max_wait = shared.backoff.ceiling(attempt);
    match problem {
        Problem::Overloaded => {
            tracing::warn!(message = "The HTTP endpoint is overloaded or failing; retrying with backoff, nothing is dropped.", sink = %name, %status, response = %reason, attempt, ?max_wait)
        }
        Problem::Unauthorized => {
            tracing::error!(message = "The HTTP endpoint refused skiff's credentials (401/403/407). Fix auth (password_file / token_file are re-read on each refusal); skiff keeps retrying and drops nothing.", sink = %name, %status, response = %reason)
        }
        Problem::Credentials => {
            tracing::error!(message = "Cannot read the HTTP sink's credentials; retrying, nothing is dropped.", sink = %name, error = %reason)
        }
        Problem::Refused => {
            tracing::warn!(message = "Cannot reach the HTTP endpoint; retrying with backoff, nothing is dropped.", sink = %name, error = %reason, attempt, ?max_wait)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
