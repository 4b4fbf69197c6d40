//! Reading a bulk response: what happened to the request, and to each document.
//!
//! Decisions are values ([`Verdict`], [`ItemOutcome`]), computed by pure functions from the
//! status and the body, so that they can be tested on canned JSON:
//!
//! - 2xx with `"errors": false`: every document is in.
//! - 2xx with `"errors": true`: document by document. 2xx is delivered; 409 on `create` means the
//!   id exists (a resend of a document already indexed) and counts as delivered; 429, 5xx, an
//!   index blocked by the cluster (`cluster_block_exception`, a full disk) and 401/403 (missing
//!   privileges, fixed by an operator) are retried; any other status (a mapping conflict, an
//!   invalid index name...) can never succeed and goes to the dead-letter file.
//! - 401/403 for the whole request: credentials; retried after re-reading credential files.
//! - 413: the body is over the server's `http.max_content_length`; the sink splits it.
//! - Anything else (429, 5xx, 400, 404, an unreadable body): the whole request is retried.
//!
//! The body is parsed once, into small structs that borrow from it; with the `filter_path` the
//! sink sends, a response holds little more than a status per document.

use std::borrow::Cow;

use serde::Deserialize;

/// The outcome of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Indexed.
    Delivered,
    /// 409 on `create`: a document with this id exists (this one, sent before).
    AlreadyIndexed,
    /// A transient failure: send it again.
    Retry,
    /// Refused for good: to the dead-letter file.
    Reject(Rejection),
}

/// Why a document was refused for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The document's HTTP status.
    pub status: u16,
    /// Elasticsearch's error type (`document_parsing_exception`).
    pub error_type: String,
    /// The reason, with its cause when there is one.
    pub reason: String,
}

/// What to do after a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every document was indexed.
    Delivered,
    /// Documents had different fates, in request order.
    Items {
        /// One outcome per document.
        outcomes: Vec<ItemOutcome>,
        /// How many documents failed with each error type (for metrics and logs).
        error_types: Vec<(String, u64)>,
    },
    /// The whole request must be sent again.
    Retry(RequestError),
    /// The credentials were refused (401) or lack privileges (403).
    Unauthorized(RequestError),
    /// The body is too large for the server (413).
    TooLarge,
}

/// A failed request, for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// HTTP status; `None` for transport errors.
    pub status: Option<u16>,
    /// What went wrong, from the response body when it says.
    pub reason: String,
}

#[derive(Deserialize)]
struct BulkResponse<'a> {
    #[serde(default)]
    errors: bool,
    #[serde(default, borrow)]
    items: Vec<ActionItem<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ActionItem<'a> {
    #[serde(borrow)]
    Create(Item<'a>),
    #[serde(borrow)]
    Index(Item<'a>),
    #[serde(borrow)]
    Update(Item<'a>),
    #[serde(borrow)]
    Delete(Item<'a>),
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(default)]
    status: u16,
    #[serde(default, borrow)]
    error: Option<ErrorField<'a>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorField<'a> {
    #[serde(borrow)]
    Object(ErrorBody<'a>),
    #[serde(borrow)]
    Text(Cow<'a, str>),
}

#[derive(Deserialize)]
struct ErrorBody<'a> {
    #[serde(default, rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    reason: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    caused_by: Option<Box<ErrorBody<'a>>>,
}

#[derive(Deserialize)]
struct ErrorResponse<'a> {
    #[serde(default, borrow)]
    error: Option<ErrorField<'a>>,
}

impl ErrorField<'_> {
    fn kind(&self) -> &str {
        match self {
            ErrorField::Object(b) if !b.kind.is_empty() => &b.kind,
            _ => "unknown",
        }
    }

    /// The reason and its causes, `reason: cause: cause`.
    fn reason(&self) -> String {
        match self {
            ErrorField::Text(t) => t.to_string(),
            ErrorField::Object(b) => {
                let mut out = String::new();
                let mut cur = Some(b);
                while let Some(e) = cur {
                    if let Some(r) = &e.reason {
                        if !out.is_empty() {
                            out.push_str(": ");
                        }
                        out.push_str(r);
                    }
                    cur = e.caused_by.as_deref();
                }
                out
            }
        }
    }
}

/// Decides what a response means for a request of `sent` documents.
pub fn classify(status: u16, body: &[u8], sent: usize) -> Verdict {
    match status {
        200..=299 => classify_bulk(body, sent),
        401 | 403 => Verdict::Unauthorized(request_error(status, body)),
        413 => Verdict::TooLarge,
        _ => Verdict::Retry(request_error(status, body)),
    }
}

fn classify_bulk(body: &[u8], sent: usize) -> Verdict {
    let resp: BulkResponse<'_> = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return Verdict::Retry(RequestError {
                status: None,
                reason: format!("unreadable bulk response: {e}"),
            })
        }
    };
    if !resp.errors {
        return Verdict::Delivered;
    }
    if resp.items.len() != sent {
        return Verdict::Retry(RequestError {
            status: None,
            reason: format!(
                "bulk response lists {} documents for {sent} sent",
                resp.items.len()
            ),
        });
    }
    let mut error_types: Vec<(String, u64)> = Vec::new();
    let outcomes = resp
        .items
        .iter()
        .map(|item| {
            let (is_create, item) = match item {
                ActionItem::Create(i) => (true, i),
                ActionItem::Index(i) | ActionItem::Update(i) | ActionItem::Delete(i) => (false, i),
            };
            if let Some(err) = &item.error {
                let kind = err.kind();
                match error_types.iter_mut().find(|(k, _)| k == kind) {
                    Some((_, n)) => *n += 1,
                    None => error_types.push((kind.to_owned(), 1)),
                }
            }
            item_outcome(is_create, item)
        })
        .collect();
    Verdict::Items {
        outcomes,
        error_types,
    }
}

fn item_outcome(is_create: bool, item: &Item<'_>) -> ItemOutcome {
    let kind = item.error.as_ref().map_or("", ErrorField::kind);
    match item.status {
        200..=299 if item.error.is_none() => ItemOutcome::Delivered,
        409 if is_create => ItemOutcome::AlreadyIndexed,
        // No status at all: the response is not what the bulk API documents; try again.
        0 | 401 | 403 | 429 | 500..=599 => ItemOutcome::Retry,
        _ if kind == "cluster_block_exception" => ItemOutcome::Retry,
        status => ItemOutcome::Reject(Rejection {
            status,
            error_type: if kind.is_empty() {
                "unknown".to_owned()
            } else {
                kind.to_owned()
            },
            reason: item
                .error
                .as_ref()
                .map(ErrorField::reason)
                .unwrap_or_default(),
        }),
    }
}

/// The error of a refused request, from its body when it says.
pub fn request_error(status: u16, body: &[u8]) -> RequestError {
    let reason = match serde_json::from_slice::<ErrorResponse<'_>>(body) {
        Ok(ErrorResponse { error: Some(e) }) => format!("{}: {}", e.kind(), e.reason()),
        _ => String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
    };
    RequestError {
        status: Some(status),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_errors_is_delivered() {
        let body = br#"{"took":3,"errors":false,"items":[{"create":{"_index":"a","_id":"1","status":201}}]}"#;
        assert_eq!(classify(200, body, 1), Verdict::Delivered);
        // filter_path may leave out everything but `errors`.
        assert_eq!(classify(200, br#"{"errors":false}"#, 5), Verdict::Delivered);
    }

    #[test]
    fn mixed_items() {
        let body = br#"{"took":30,"errors":true,"items":[
            {"create":{"_index":"a","_id":"1","status":201,"result":"created"}},
            {"create":{"_index":"a","_id":"2","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[2]: version conflict, document already exists"}}},
            {"create":{"_index":"a","_id":"3","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"}}},
            {"create":{"_index":"a","_id":"4","status":400,"error":{"type":"document_parsing_exception","reason":"[1:15] failed to parse field [n] of type [long]","caused_by":{"type":"illegal_argument_exception","reason":"For input string: \"x\""}}}},
            {"create":{"_index":"a","_id":"5","status":503,"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"}}},
            {"create":{"_index":"A","_id":"6","status":404,"error":{"type":"index_not_found_exception","reason":"no such index [A]"}}}
        ]}"#;
        let Verdict::Items {
            outcomes,
            error_types,
        } = classify(200, body, 6)
        else {
            panic!("expected items");
        };
        assert_eq!(outcomes[0], ItemOutcome::Delivered);
        assert_eq!(outcomes[1], ItemOutcome::AlreadyIndexed);
        assert_eq!(outcomes[2], ItemOutcome::Retry);
        assert_eq!(
            outcomes[3],
            ItemOutcome::Reject(Rejection {
                status: 400,
                error_type: "document_parsing_exception".into(),
                reason: "[1:15] failed to parse field [n] of type [long]: For input string: \"x\""
                    .into(),
            })
        );
        assert_eq!(outcomes[4], ItemOutcome::Retry);
        assert!(matches!(&outcomes[5], ItemOutcome::Reject(r) if r.status == 404));
        assert_eq!(error_types.len(), 5);
        assert!(error_types.contains(&("es_rejected_execution_exception".into(), 1)));
    }

    #[test]
    fn conflict_on_index_is_not_a_duplicate() {
        let body = br#"{"errors":true,"items":[{"index":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"conflict"}}}]}"#;
        let Verdict::Items { outcomes, .. } = classify(200, body, 1) else {
            panic!("expected items");
        };
        assert!(matches!(&outcomes[0], ItemOutcome::Reject(r) if r.status == 409));
    }

    #[test]
    fn filtered_response_is_enough() {
        // What `filter_path=errors,items.*.status,items.*.error` leaves.
        let body = br#"{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad"}}}]}"#;
        let Verdict::Items { outcomes, .. } = classify(200, body, 2) else {
            panic!("expected items");
        };
        assert_eq!(outcomes[0], ItemOutcome::Delivered);
        assert!(
            matches!(&outcomes[1], ItemOutcome::Reject(r) if r.error_type == "mapper_parsing_exception")
        );
    }

    #[test]
    fn transient_item_failures_are_retried() {
        let body = br#"{"errors":true,"items":[
            {"create":{"status":403,"error":{"type":"cluster_block_exception","reason":"index [a] blocked by: [FORBIDDEN/12/index read-only / allow delete (api)]"}}},
            {"create":{"status":403,"error":{"type":"security_exception","reason":"action [indices:data/write/bulk[s]] is unauthorized"}}},
            {"create":{"status":500,"error":{"type":"exception","reason":"boom"}}},
            {"create":{}}
        ]}"#;
        let Verdict::Items { outcomes, .. } = classify(200, body, 4) else {
            panic!("expected items");
        };
        assert!(
            outcomes.iter().all(|o| *o == ItemOutcome::Retry),
            "{outcomes:?}"
        );
    }

    #[test]
    fn whole_request_statuses() {
        let auth = br#"{"error":{"root_cause":[],"type":"security_exception","reason":"unable to authenticate user [elastic]"},"status":401}"#;
        assert_eq!(
            classify(401, auth, 3),
            Verdict::Unauthorized(RequestError {
                status: Some(401),
                reason: "security_exception: unable to authenticate user [elastic]".into()
            })
        );
        assert!(matches!(classify(403, b"", 3), Verdict::Unauthorized(_)));
        assert_eq!(classify(413, b"", 3), Verdict::TooLarge);
        for s in [400, 404, 429, 500, 502, 503] {
            assert!(
                matches!(classify(s, b"<html>busy</html>", 3), Verdict::Retry(RequestError { status: Some(x), .. }) if x == s),
                "{s}"
            );
        }
        let bad = br#"{"error":{"type":"illegal_argument_exception","reason":"The bulk request must be terminated by a newline [\\n]"},"status":400}"#;
        let Verdict::Retry(e) = classify(400, bad, 1) else {
            panic!("expected retry")
        };
        assert!(e.reason.contains("terminated by a newline"), "{}", e.reason);
    }

    #[test]
    fn malformed_responses_are_retried() {
        assert!(matches!(classify(200, b"not json", 1), Verdict::Retry(_)));
        let short = br#"{"errors":true,"items":[{"create":{"status":201}}]}"#;
        assert!(matches!(classify(200, short, 2), Verdict::Retry(_)));
    }

    #[test]
    fn escaped_reasons_are_decoded() {
        let body = br#"{"errors":true,"items":[{"create":{"status":400,"error":{"type":"x","reason":"tab\there \u00e9"}}}]}"#;
        let Verdict::Items { outcomes, .. } = classify(200, body, 1) else {
            panic!("expected items");
        };
        assert!(matches!(&outcomes[0], ItemOutcome::Reject(r) if r.reason == "tab\there é"));
    }
}
