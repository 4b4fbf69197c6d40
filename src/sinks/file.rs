//! The `file` sink: events to files, as NDJSON or text lines, at a path template
//! (`/archive/app-%Y-%m-%d.log`, `/archive/{{ service }}.log`), rotated by size with a cap on the
//! number of files kept.
//!
//! Writing runs on a blocking thread (a slow disk holds back the pipeline, not a runtime worker),
//! fed by an async task as in the `console` sink. Each event's path is rendered from its time
//! (UTC) and fields; a batch is written to every file it touches, each flushed, and only then
//! confirmed. A write that fails (disk full, permissions) is logged and the whole batch written
//! again after a backoff: nothing is dropped, and lines written before the failure may appear
//! twice.
//!
//! Rotation: once a file would pass `max_bytes`, it is renamed `PATH.1` (`.1` becomes `.2`...)
//! and a new file begun; with `max_files = N`, the current file and at most `N - 1` rotated ones
//! are kept per path, the oldest removed.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::mpsc;

use super::{SinkConfig, SinkContext, SinkError, SinkFuture};
use crate::codec::json::{to_text, JsonEncoder};
use crate::config::{parse_table, ByteSize, FieldError};
use crate::event::{Batch, Payload, Value};
use crate::metrics::{component, metrics};
use crate::sinks::common::config::RetryConfig;
use crate::sinks::common::retry::Backoff;
use crate::sinks::elasticsearch::template::{FieldSource, IndexRenderer, IndexTemplate};

/// Files not written for this long are closed (a dated path moved on).
const IDLE_CLOSE: Duration = Duration::from_secs(30);
/// Most files held open at once.
const MAX_OPEN: usize = 64;

/// `[sinks.NAME] type = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Path template: strftime specifiers (event time, UTC) and `{{ field }}` references.
    pub path: String,
    /// `ndjson` (default): one JSON object per line; `text`: the message only.
    #[serde(default)]
    pub encoding: Encoding,
    /// Key of the event timestamp in NDJSON (default `timestamp`).
    #[serde(default = "default_timestamp_key")]
    pub timestamp_key: String,
    /// Size at which a file is rotated; none (default): never.
    #[serde(default)]
    pub max_bytes: Option<ByteSize>,
    /// Files kept per path, the current one included (default 10).
    #[serde(default = "default_max_files")]
    pub max_files: usize,
}

fn default_timestamp_key() -> String {
    "timestamp".into()
}
fn default_max_files() -> usize {
    10
}

/// Output encoding.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Ndjson,
    Text,
}

/// A validated `file` sink config.
#[derive(Debug, Clone)]
pub struct FileSinkConfig {
    /// The config as written.
    pub config: FileConfig,
    template: IndexTemplate,
}

impl FileSinkConfig {
    /// Parses and checks a `[sinks.NAME] type = "file"` table.
    pub fn parse(table: toml::Table) -> Result<FileSinkConfig, FieldError> {
        let config: FileConfig = parse_table(table)?;
        let template =
            IndexTemplate::parse(&config.path).map_err(|m| FieldError::new(&["path"], m))?;
        if config.path.ends_with('/') {
            return Err(FieldError::new(&["path"], "names a directory, not a file"));
        }
        if config.max_files == 0 {
            return Err(FieldError::new(&["max_files"], "must be at least 1"));
        }
        if config.max_bytes.is_some_and(|b| b.0 < 1024) {
            return Err(FieldError::new(&["max_bytes"], "must be at least 1KiB"));
        }
        if config.timestamp_key.is_empty() {
            return Err(FieldError::new(&["timestamp_key"], "cannot be empty"));
        }
        Ok(FileSinkConfig { config, template })
    }
}

impl SinkConfig for FileSinkConfig {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn build(
        &self,
        ctx: SinkContext,
        mut input: mpsc::Receiver<Batch>,
    ) -> Result<SinkFuture, SinkError> {
        let mut writer = Writer::new(&self.config, self.template.clone());
        Ok(Box::pin(async move {
            let (tx, mut rx) = mpsc::channel::<Batch>(1);
            let abort = ctx.abort.clone();
            let name = ctx.name.clone();
            let thread = tokio::task::spawn_blocking(move || {
                while let Some(batch) = rx.blocking_recv() {
                    writer.deliver(&name, batch, &abort);
                }
                writer.close();
            });
            while let Some(batch) = input.recv().await {
                if tx.send(batch).await.is_err() {
                    break;
                }
            }
            drop(tx);
            thread
                .await
                .map_err(|e| SinkError::Other(format!("file writer failed: {e}")))
        }))
    }
}

struct Open {
    file: BufWriter<File>,
    size: u64,
    used: Instant,
}

/// The writer thread's state: encoders, the path renderer, open files.
struct Writer {
    encoding: Encoding,
    json: JsonEncoder,
    paths: IndexRenderer,
    max_bytes: Option<u64>,
    max_files: usize,
    files: HashMap<PathBuf, Open>,
    backoff: Backoff,
}

impl Writer {
    fn new(c: &FileConfig, template: IndexTemplate) -> Writer {
        Writer {
            encoding: c.encoding,
            json: JsonEncoder::new(&c.timestamp_key),
            paths: IndexRenderer::new(template),
            max_bytes: c.max_bytes.map(|b| b.0),
            max_files: c.max_files,
            files: HashMap::new(),
            backoff: Backoff::new(&RetryConfig::default()),
        }
    }

    /// Writes `batch` until it is written and flushed (then confirms it), or until `abort`.
    fn deliver(&mut self, name: &str, batch: Batch, abort: &tokio_util::sync::CancellationToken) {
        let labels = component(name);
        let m = metrics();
        let n = batch.len() as u64;
        m.events_in.get_or_create(&labels).inc_by(n);
        let chunks = self.encode(&batch);
        let mut attempt = 0u32;
        loop {
            let started = Instant::now();
            match self.write(&chunks) {
                Ok(()) => {
                    m.send_duration_seconds
                        .get_or_create(&labels)
                        .observe(started.elapsed().as_secs_f64());
                    m.events_out.get_or_create(&labels).inc_by(n);
                    batch.confirm();
                    self.close_idle();
                    return;
                }
                Err((path, e)) => {
                    // The file may be gone or broken: open it afresh next time.
                    self.files.remove(&path);
                    let delay = self.backoff.next_delay(attempt);
                    tracing::error!(message = "Cannot write the output file; writing the batch again after a pause, nothing is dropped.", sink = %name, path = %path.display(), error = %e, attempt, ?delay);
                    m.retries.get_or_create(&labels).inc_by(n);
                    attempt = attempt.saturating_add(1);
                    std::thread::sleep(delay);
                    if abort.is_cancelled() {
                        return;
                    }
                }
            }
        }
    }

    /// The batch's bytes, by path, in order of first appearance.
    fn encode(&mut self, batch: &Batch) -> Vec<(PathBuf, Vec<u8>)> {
        let mut chunks: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        for i in 0..batch.len() {
            let (ts, fields) = match &batch.payload {
                Payload::Lines(lines) => (
                    batch.read_at,
                    FieldSource::Line {
                        message: lines.line(&lines.spans[i]),
                        file_key: batch.file_key.as_deref(),
                        path: batch.origin.as_ref().map(|o| o.path.as_ref()),
                    },
                ),
                Payload::Events(events) => (
                    events[i].timestamp.unwrap_or(batch.read_at),
                    FieldSource::Event(&events[i].fields),
                ),
                // Invariant: this sink offers no `BatchEncoder`.
                Payload::Encoded(_) => unreachable!("encoded batch sent to the file sink"),
            };
            let path = self.paths.render(ts, fields);
            let at = match chunks
                .iter()
                .position(|(p, _)| p.as_os_str().as_encoded_bytes() == path)
            {
                Some(at) => at,
                None => {
                    let p = PathBuf::from(String::from_utf8_lossy(path).into_owned());
                    chunks.push((p, Vec::new()));
                    chunks.len() - 1
                }
            };
            let out = &mut chunks[at].1;
            match (&batch.payload, self.encoding) {
                (Payload::Lines(lines), Encoding::Ndjson) => {
                    self.json.write_line(out, batch, lines, &lines.spans[i])
                }
                (Payload::Lines(lines), Encoding::Text) => {
                    out.extend_from_slice(lines.line(&lines.spans[i]))
                }
                (Payload::Events(events), Encoding::Ndjson) => {
                    self.json.write_event(out, &events[i], batch.read_at)
                }
                (Payload::Events(events), Encoding::Text) => {
                    match events[i].fields.get("message") {
                        Some(Value::Str(s)) => out.extend_from_slice(s),
                        Some(other) => out.extend_from_slice(to_text(other).as_bytes()),
                        None => self.json.write_event(out, &events[i], batch.read_at),
                    }
                }
                (Payload::Encoded(_), _) => {}
            }
            out.push(b'\n');
        }
        chunks
    }

    /// Writes and flushes every chunk; on failure, the path and the error.
    fn write(&mut self, chunks: &[(PathBuf, Vec<u8>)]) -> Result<(), (PathBuf, std::io::Error)> {
        for (path, bytes) in chunks {
            self.write_one(path, bytes).map_err(|e| (path.clone(), e))?;
        }
        Ok(())
    }

    fn write_one(&mut self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let mut rest = bytes;
        let max_bytes = self.max_bytes;
        while !rest.is_empty() {
            let open = self.open(path)?;
            let room = match max_bytes {
                Some(max) => max.saturating_sub(open.size),
                None => u64::MAX,
            };
            // Whole lines that fit; at least one line into an empty file.
            let mut take = 0;
            for line in rest.split_inclusive(|&b| b == b'\n') {
                if (take + line.len()) as u64 > room && !(take == 0 && open.size == 0) {
                    break;
                }
                take += line.len();
            }
            if take > 0 {
                open.file.write_all(&rest[..take])?;
                open.size += take as u64;
                rest = &rest[take..];
            }
            if !rest.is_empty() {
                self.rotate(path)?;
            }
        }
        if let Some(open) = self.files.get_mut(path) {
            open.file.flush()?;
        }
        Ok(())
    }

    fn open(&mut self, path: &Path) -> std::io::Result<&mut Open> {
        if !self.files.contains_key(path) {
            if self.files.len() >= MAX_OPEN {
                self.close();
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            let size = file.metadata()?.len();
            self.files.insert(
                path.to_owned(),
                Open {
                    file: BufWriter::with_capacity(256 << 10, file),
                    size,
                    used: Instant::now(),
                },
            );
        }
        let open = self
            .files
            .get_mut(path)
            .ok_or_else(|| std::io::Error::other("file vanished from the open set"))?;
        open.used = Instant::now();
        Ok(open)
    }

    /// `PATH` → `PATH.1`, `PATH.1` → `PATH.2`...; the oldest beyond `max_files` is removed.
    fn rotate(&mut self, path: &Path) -> std::io::Result<()> {
        if let Some(mut open) = self.files.remove(path) {
            open.file.flush()?;
        }
        let numbered = |n: usize| {
            let mut s = path.as_os_str().to_owned();
            s.push(format!(".{n}"));
            PathBuf::from(s)
        };
        let keep = self.max_files - 1;
        if keep == 0 {
            return remove_if_present(path);
        }
        remove_if_present(&numbered(keep))?;
        for n in (1..keep).rev() {
            match std::fs::rename(numbered(n), numbered(n + 1)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::rename(path, numbered(1))
    }

    fn close_idle(&mut self) {
        let now = Instant::now();
        self.files
            .retain(|_, f| now.duration_since(f.used) < IDLE_CLOSE);
    }

    fn close(&mut self) {
        for (_, mut f) in self.files.drain() {
            let _ = f.file.flush();
        }
    }
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use bytes::Bytes;

    fn writer(dir: &Path, extra: &str) -> Writer {
        let t: toml::Table = toml::from_str(&format!(
            "path = {:?}\n{extra}",
            dir.join("out-{{ app }}.log").display().to_string()
        ))
        .unwrap();
        let c = FileSinkConfig::parse(t).unwrap();
        Writer::new(&c.config, c.template)
    }

    fn batch(msgs: &[(&str, &str)]) -> Batch {
        Batch::from_events(
            msgs.iter()
                .map(|(m, app)| {
                    let mut e = Event::from_message(Bytes::copy_from_slice(m.as_bytes()), 0);
                    e.fields.insert(
                        Bytes::from_static(b"app"),
                        Value::from_string((*app).into()),
                    );
                    e
                })
                .collect(),
        )
    }

    #[test]
    fn events_go_to_their_paths() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = writer(dir.path(), "encoding = \"text\"");
        let chunks = w.encode(&batch(&[("a", "x"), ("b", "y"), ("c", "x")]));
        w.write(&chunks).unwrap();
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
        assert_eq!(read("out-x.log"), "a\nc\n");
        assert_eq!(read("out-y.log"), "b\n");
    }

    #[test]
    fn rotation_keeps_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = writer(
            dir.path(),
            "encoding = \"text\"\nmax_bytes = \"1KiB\"\nmax_files = 3",
        );
        let line = "x".repeat(299);
        for _ in 0..20 {
            let chunks = w.encode(&batch(&[(&line, "a")]));
            w.write(&chunks).unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["out-a.log", "out-a.log.1", "out-a.log.2"]);
        for n in &names {
            let len = std::fs::metadata(dir.path().join(n)).unwrap().len();
            assert!(len <= 1024 && len % 300 == 0, "{n}: {len}");
        }
        // 3 lines per file: 20 lines = 6 full files + 2 lines; the last three files remain.
        assert_eq!(
            std::fs::metadata(dir.path().join("out-a.log"))
                .unwrap()
                .len(),
            600
        );
    }

    #[test]
    fn bad_configs_name_their_key() {
        for (text, key) in [
            ("path = \"/x/\"", "path"),
            ("path = \"/x\"\nmax_files = 0", "max_files"),
            ("path = \"/x\"\nmax_bytes = \"10\"", "max_bytes"),
            ("path = \"/x-{{ a\"", "path"),
        ] {
            let e = FileSinkConfig::parse(toml::from_str(text).unwrap()).unwrap_err();
            assert_eq!(e.path, [key], "{text}");
        }
    }
}
