//! The dead-letter file: documents Elasticsearch refused for good, with the reason.
//!
//! One NDJSON line per document, at `DATA_DIR/dead-letter/SINKNAME.ndjson`:
//!
//! ```text
//! {"time":"2026-11-26T04:00:00.123Z","sink":"es","index":"app-logs-2026.11.26","id":"9f86d081884c7d65-1a2b","status":400,"error_type":"document_parsing_exception","reason":"...","document":{...}}
//! ```
//!
//! `document` is the source exactly as it was sent, so a fixed document can be replayed with a
//! bulk request after the mapping is corrected. The file is capped: once it would exceed
//! `max_bytes` it is renamed to `.1` (replacing the previous `.1`, whose records are counted as
//! dropped) and a new file is started; so at most twice `max_bytes` stays on disk.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::codec::json::{write_str, write_timestamp};
pub use crate::sinks::common::dead_letter::{store, DeadLetterFile, WriteReport};

/// One refused document.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// When it was refused.
    pub time: DateTime<Utc>,
    /// The sink's name.
    pub sink: &'a str,
    /// Its bulk action line (index and id are taken from it).
    pub action: &'a [u8],
    /// Its source, as sent.
    pub document: &'a [u8],
    /// The document's HTTP status.
    pub status: u16,
    /// Elasticsearch's error type.
    pub error_type: &'a str,
    /// The reason.
    pub reason: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ActionLine<'a> {
    #[serde(borrow)]
    Create(Meta<'a>),
    #[serde(borrow)]
    Index(Meta<'a>),
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(default, rename = "_index", borrow)]
    index: Cow<'a, str>,
    #[serde(default, rename = "_id", borrow)]
    id: Option<Cow<'a, str>>,
}

/// Appends `record` to `out` as one JSON line.
pub fn encode(out: &mut Vec<u8>, record: &Record<'_>) {
    let meta = match serde_json::from_slice::<ActionLine<'_>>(record.action) {
        Ok(ActionLine::Create(m) | ActionLine::Index(m)) => Some(m),
        Err(_) => None,
    };
    out.extend_from_slice(b"{\"time\":");
    write_timestamp(out, &record.time);
    out.extend_from_slice(b",\"sink\":");
    write_str(out, record.sink.as_bytes());
    out.extend_from_slice(b",\"index\":");
    match &meta {
        Some(m) => write_str(out, m.index.as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"id\":");
    match meta.as_ref().and_then(|m| m.id.as_ref()) {
        Some(id) => write_str(out, id.as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"status\":");
    out.extend_from_slice(itoa::Buffer::new().format(record.status).as_bytes());
    out.extend_from_slice(b",\"error_type\":");
    write_str(out, record.error_type.as_bytes());
    out.extend_from_slice(b",\"reason\":");
    write_str(out, record.reason.as_bytes());
    out.extend_from_slice(b",\"document\":");
    out.extend_from_slice(record.document);
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(doc: &'a [u8], action: &'a [u8]) -> Record<'a> {
        Record {
            time: DateTime::parse_from_rfc3339("2026-11-26T04:00:00.123Z")
                .unwrap()
                .with_timezone(&Utc),
            sink: "es",
            action,
            document: doc,
            status: 400,
            error_type: "document_parsing_exception",
            reason: "failed to parse field [n] of type [long]",
        }
    }

    #[test]
    fn record_line_is_exact() {
        let mut out = Vec::new();
        encode(
            &mut out,
            &record(
                br#"{"n":"x"}"#,
                br#"{"create":{"_index":"app-logs-2026.11.26","_id":"00000000000000ab-1f"}}"#,
            ),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                r#"{"time":"2026-11-26T04:00:00.123Z","sink":"es","index":"app-logs-2026.11.26","id":"00000000000000ab-1f","status":400,"#,
                r#""error_type":"document_parsing_exception","reason":"failed to parse field [n] of type [long]","document":{"n":"x"}}"#,
                "\n"
            )
        );
        let mut out = Vec::new();
        encode(&mut out, &record(b"{}", br#"{"index":{"_index":"a"}}"#));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(v["id"].is_null());
        assert_eq!(v["index"], "a");
    }
}
