//! Delivering one bulk request until every document in it is settled.
//!
//! A delivery runs as its own task (up to `max_in_flight` at once) and only ends when each of its
//! documents is indexed, found already indexed (409 on `create`), or written to the dead-letter
//! file. Failures are retried with backoff, forever; the sink stops waiting only at the drain
//! deadline, by dropping the task.
//!
//! - The whole request failed (no answer, 429, 5xx, 400, 401/403): the same bytes are sent again.
//!   401/403 re-read the credential files first.
//! - Some documents failed: only those are sent again, byte for byte ([`Bulk::subset`]).
//! - 413: the body is split in two and each half delivered in turn; a lone document too large for
//!   the server is dead-lettered.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;

use super::config::Compression;
use super::dead_letter::{self, DeadLetterFile};
use super::request::Bulk;
use super::response::{classify, ItemOutcome, Rejection, Verdict};
use super::service::{Attempt, Service};
use crate::metrics::{component, component_with, metrics};
use crate::sinks::common::compress;
use crate::sinks::common::problems::{Every, Problem, ProblemLog};
use crate::sinks::common::retry::Backoff;

/// What every delivery of one sink shares.
#[derive(Debug)]
pub struct Shared {
    /// The sink's name.
    pub name: String,
    /// The cluster.
    pub service: Service,
    /// Waits between attempts.
    pub backoff: Backoff,
    /// Body compression.
    pub compression: Compression,
    /// The dead-letter file; `None` when disabled.
    pub dead_letters: Option<Arc<Mutex<DeadLetterFile>>>,
    /// Request-level problems, logged on change.
    pub problems: ProblemLog,
    /// Rate limit of the log of refused documents.
    pub rejection_log: Every,
    /// Rate limit of the log of bodies split after a 413.
    pub split_log: Every,
}

/// A finished delivery.
#[derive(Debug)]
pub struct Completed {
    /// Documents per incoming batch, all settled.
    pub batches: Vec<(u64, u64)>,
    /// The body's buffer, for reuse.
    pub buffer: Option<Vec<u8>>,
}

enum Next {
    Done,
    Resend(Bulk),
    Split(Bulk, Bulk),
}

/// Delivers `bulk`; returns once every document is settled.
pub async fn deliver(shared: Arc<Shared>, bulk: Bulk) -> Completed {
    let batches = bulk.batch_counts();
    let mut attempt = 0u32;
    let mut later: Vec<Bulk> = Vec::new();
    let mut subject: Option<Bulk> = None;
    loop {
        let current = subject.as_ref().unwrap_or(&bulk);
        match settle(&shared, current, &mut attempt).await {
            Next::Done => match later.pop() {
                Some(b) => subject = Some(b),
                None => break,
            },
            Next::Resend(rest) => subject = Some(rest),
            Next::Split(a, b) => {
                later.push(b);
                subject = Some(a);
            }
        }
    }
    drop(subject);
    Completed {
        batches,
        buffer: bulk.into_buffer(),
    }
}

/// Sends `bulk` until it gets an answer about its documents.
async fn settle(shared: &Shared, bulk: &Bulk, attempt: &mut u32) -> Next {
    let (wire, gzipped) = compress::wire(bulk.body(), shared.compression).await;
    loop {
        let verdict = match shared.service.bulk(wire.clone(), gzipped).await {
            Attempt::Answered { status, body } => classify(status, &body, bulk.len()),
            // The endpoint rotation logs unreachable endpoints.
            Attempt::Failed { .. } => {
                backoff(shared, attempt, bulk.len()).await;
                continue;
            }
            Attempt::NoCredentials(e) => {
                report(shared, Problem::Credentials, None, &e.to_string(), *attempt);
                backoff(shared, attempt, bulk.len()).await;
                continue;
            }
        };
        match verdict {
            Verdict::Delivered => {
                recovered(shared);
                delivered(shared, bulk.len() as u64);
                return Next::Done;
            }
            Verdict::Items {
                outcomes,
                error_types,
            } => return items(shared, bulk, &outcomes, &error_types, attempt).await,
            Verdict::Retry(e) => {
                let problem = match e.status {
                    Some(429 | 500..=599) => Problem::Overloaded,
                    _ => Problem::Refused,
                };
                report(shared, problem, e.status, &e.reason, *attempt);
            }
            Verdict::Unauthorized(e) => {
                report(shared, Problem::Unauthorized, e.status, &e.reason, *attempt);
                if let Err(err) = shared.service.credentials.reload() {
                    report(
                        shared,
                        Problem::Credentials,
                        None,
                        &err.to_string(),
                        *attempt,
                    );
                }
            }
            Verdict::TooLarge if bulk.len() > 1 => {
                if shared.split_log.ready(Instant::now()) {
                    tracing::warn!(message = "Elasticsearch refused a bulk request as too large (413); splitting it. Lower batch.max_bytes below the cluster's http.max_content_length.", sink = %shared.name, documents = bulk.len(), bytes = bulk.body().len());
                }
                let (a, b) = bulk.split();
                return Next::Split(a, b);
            }
            Verdict::TooLarge => {
                let rejection = Rejection {
                    status: 413,
                    error_type: "request_entity_too_large".into(),
                    reason: format!(
                        "a single document of {} bytes exceeds the server's http.max_content_length",
                        bulk.body().len()
                    ),
                };
                let kinds = [(rejection.error_type.clone(), 1)];
                let outcomes = [ItemOutcome::Reject(rejection)];
                return items(shared, bulk, &outcomes, &kinds, attempt).await;
            }
        }
        backoff(shared, attempt, bulk.len()).await;
    }
}

/// Acts on per-document outcomes; returns what is left to send.
async fn items(
    shared: &Shared,
    bulk: &Bulk,
    outcomes: &[ItemOutcome],
    error_types: &[(String, u64)],
    attempt: &mut u32,
) -> Next {
    let m = metrics();
    for (kind, n) in error_types {
        m.es_item_errors
            .get_or_create(&component_with(&shared.name, "type", kind))
            .inc_by(*n);
    }
    let mut retry = Vec::new();
    let mut rejected = Vec::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            ItemOutcome::Delivered | ItemOutcome::AlreadyIndexed => {}
            ItemOutcome::Retry => retry.push(i),
            ItemOutcome::Reject(r) => rejected.push((i, r)),
        }
    }
    let settled = outcomes.len() - retry.len() - rejected.len();
    delivered(shared, settled as u64);
    if !rejected.is_empty() {
        dead_letter(shared, bulk, &rejected).await;
    }
    if retry.is_empty() {
        recovered(shared);
        return Next::Done;
    }
    let kinds: Vec<&str> = error_types.iter().map(|(k, _)| k.as_str()).collect();
    let problem = if kinds
        .iter()
        .any(|k| *k == "security_exception" || k.contains("authentication"))
    {
        Problem::Unauthorized
    } else {
        Problem::Overloaded
    };
    let reason = format!(
        "{} of {} documents to send again ({})",
        retry.len(),
        outcomes.len(),
        kinds.join(", ")
    );
    report(shared, problem, Some(200), &reason, *attempt);
    let rest = bulk.subset(&retry);
    backoff(shared, attempt, rest.len()).await;
    Next::Resend(rest)
}

/// Writes refused documents to the dead-letter file (or counts them dropped when it is off).
async fn dead_letter(shared: &Shared, bulk: &Bulk, rejected: &[(usize, &Rejection)]) {
    let n = rejected.len() as u64;
    let first = rejected[0].1;
    if shared.rejection_log.ready(Instant::now()) {
        tracing::warn!(message = "Elasticsearch refused documents for good.", sink = %shared.name, documents = n, status = first.status, error_type = %first.error_type, reason = %first.reason, dead_letter = shared.dead_letters.is_some());
    }
    let Some(file) = &shared.dead_letters else {
        metrics()
            .events_dropped
            .get_or_create(&component_with(&shared.name, "reason", "rejected"))
            .inc_by(n);
        return;
    };
    let mut lines = Vec::new();
    let now = Utc::now();
    for (i, r) in rejected {
        dead_letter::encode(
            &mut lines,
            &dead_letter::Record {
                time: now,
                sink: &shared.name,
                action: bulk.action(*i),
                document: bulk.source(*i),
                status: r.status,
                error_type: &r.error_type,
                reason: &r.reason,
            },
        );
    }
    dead_letter::store(&shared.name, file, lines, n).await;
}

fn delivered(shared: &Shared, n: u64) {
    metrics()
        .events_out
        .get_or_create(&component(&shared.name))
        .inc_by(n);
}

/// Waits before the next attempt and counts the documents about to be sent again.
async fn backoff(shared: &Shared, attempt: &mut u32, documents: usize) {
    let delay = shared.backoff.next_delay(*attempt);
    *attempt = attempt.saturating_add(1);
    metrics()
        .retries
        .get_or_create(&component(&shared.name))
        .inc_by(documents as u64);
    tokio::time::sleep(delay).await;
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
            tracing::warn!(message = "Elasticsearch is overloaded or failing; retrying with backoff, nothing is dropped.", sink = %name, %status, %reason, attempt, ?max_wait)
        }
        Problem::Unauthorized => {
            tracing::error!(message = "Elasticsearch refused skiff's credentials or privileges (401/403). Fix auth (password_file / api_key_file are re-read on each refusal); skiff keeps retrying and drops nothing.", sink = %name, %status, %reason)
        }
        Problem::Credentials => {
            tracing::error!(message = "Cannot read the Elasticsearch credentials; retrying, nothing is dropped.", sink = %name, error = %reason)
        }
        Problem::Refused => {
            tracing::error!(message = "Elasticsearch refused the bulk request as a whole, or its answer was unusable; this points at a proxy or a bug. Retrying with backoff, nothing is dropped.", sink = %name, %status, %reason, attempt, ?max_wait)
        }
    }
}

fn recovered(shared: &Shared) {
    if shared.problems.recovered() {
        tracing::info!(message = "Elasticsearch accepts documents again.", sink = %shared.name);
    }
}
