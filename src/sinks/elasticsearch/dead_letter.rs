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
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::codec::json::{write_str, write_timestamp};

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

/// What a write did besides writing.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteReport {
    /// Records lost because the file was rotated over an older `.1`.
    pub dropped: u64,
    /// The file was rotated.
    pub rotated: bool,
}

/// The dead-letter file of one sink.
#[derive(Debug)]
pub struct DeadLetterFile {
    path: PathBuf,
    max_bytes: u64,
    file: Option<File>,
    size: u64,
    /// Records in the current file, when known (not for a file found at start).
    lines: Option<u64>,
    /// Records in `.1`, when known.
    rotated_lines: Option<u64>,
}

impl DeadLetterFile {
    /// The file of sink `sink` under `data_dir`, capped at `max_bytes`. Nothing is created until
    /// the first record.
    pub fn new(data_dir: &Path, sink: &str, max_bytes: u64) -> DeadLetterFile {
        DeadLetterFile {
            path: data_dir.join("dead-letter").join(format!("{sink}.ndjson")),
            max_bytes,
            file: None,
            size: 0,
            lines: None,
            rotated_lines: None,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `lines` (whole records, one per line) and flushes.
    pub fn write(&mut self, lines: &[u8]) -> std::io::Result<WriteReport> {
        let mut report = WriteReport::default();
        for line in lines.split_inclusive(|&b| b == b'\n') {
            if self.file.is_none() {
                self.open()?;
            }
            if self.size > 0 && self.size + line.len() as u64 > self.max_bytes {
                report.dropped += self.rotate()?;
                report.rotated = true;
            }
            let Some(file) = self.file.as_mut() else {
                continue;
            };
            if let Err(e) = file.write_all(line) {
                self.file = None;
                return Err(e);
            }
            self.size += line.len() as u64;
            self.lines = self.lines.map(|n| n + 1);
        }
        if let Some(f) = self.file.as_mut() {
            f.flush()?;
        }
        Ok(report)
    }

    fn open(&mut self) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = file.metadata()?.len();
        self.lines = (self.size == 0).then_some(0);
        self.file = Some(file);
        Ok(())
    }

    /// Renames the file to `.1` and opens a new one; returns the records of the `.1` it replaced.
    fn rotate(&mut self) -> std::io::Result<u64> {
        let old = self.path.with_extension("ndjson.1");
        let dropped = match self.rotated_lines {
            Some(n) => n,
            None => count_lines(&old),
        };
        self.file = None;
        std::fs::rename(&self.path, &old)?;
        self.rotated_lines = match self.lines {
            Some(n) => Some(n),
            None => Some(count_lines(&old)),
        };
        self.open()?;
        Ok(dropped)
    }
}

fn count_lines(path: &Path) -> u64 {
    match File::open(path) {
        Ok(f) => BufReader::new(f).split(b'\n').count() as u64,
        Err(_) => 0,
    }
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

    #[test]
    fn file_rotates_once_and_counts_drops() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = DeadLetterFile::new(dir.path(), "es", 100);
        let line = [b'x'; 39];
        let mut rec = line.to_vec();
        rec.push(b'\n');
        // 40 bytes per record: two fit in 100, the third rotates.
        assert_eq!(f.write(&rec.repeat(2)).unwrap(), WriteReport::default());
        let r = f.write(&rec).unwrap();
        assert!(r.rotated);
        assert_eq!(r.dropped, 0);
        let old = dir.path().join("dead-letter/es.ndjson.1");
        assert_eq!(std::fs::read(&old).unwrap().len(), 80);
        assert_eq!(std::fs::read(f.path()).unwrap().len(), 40);
        // Two more rotations: the first `.1` (2 records) is replaced, then the next one (2).
        let r = f.write(&rec.repeat(2)).unwrap();
        assert_eq!((r.rotated, r.dropped), (true, 2));
        let r = f.write(&rec.repeat(2)).unwrap();
        assert_eq!((r.rotated, r.dropped), (true, 2));
    }

    #[test]
    fn existing_files_are_appended_and_counted_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dead-letter")).unwrap();
        std::fs::write(dir.path().join("dead-letter/es.ndjson"), "a\nb\nc\n").unwrap();
        std::fs::write(dir.path().join("dead-letter/es.ndjson.1"), "old\n").unwrap();
        let mut f = DeadLetterFile::new(dir.path(), "es", 10);
        let r = f.write(b"0123456\n").unwrap();
        assert_eq!((r.rotated, r.dropped), (true, 1));
        let r = f.write(b"0123456\n").unwrap();
        assert_eq!((r.rotated, r.dropped), (true, 3));
    }
}
