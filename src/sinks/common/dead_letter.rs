//! The dead-letter file of a sink: one NDJSON record per event refused for good, at
//! `DATA_DIR/dead-letter/SINKNAME.ndjson`. Each sink writes its own record shape (the
//! `elasticsearch` sink's index and id, the `http` sink's status and response); this module keeps
//! the file: appended and flushed, capped at `max_bytes` by a rename to `.1` (the previous `.1`'s
//! records counted as dropped), so at most twice `max_bytes` stays on disk. [`store`] writes off
//! the runtime's threads and keeps the metrics.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::metrics::{component, component_with, metrics};

/// Appends `lines` (`n` records) to `file` on a blocking thread, and counts them (dead letters,
/// or dropped when the file cannot be written or a rotation replaced older records).
pub async fn store(name: &str, file: &Arc<Mutex<DeadLetterFile>>, lines: Vec<u8>, n: u64) {
    let m = metrics();
    let file = Arc::clone(file);
    let written = tokio::task::spawn_blocking(move || {
        let mut f = file
            .lock()
            .map_err(|_| std::io::Error::other("lock poisoned"))?;
        let report = f.write(&lines)?;
        Ok::<_, std::io::Error>((report, f.path().to_owned()))
    })
    .await;
    let error = match written {
        Ok(Ok((report, path))) => {
            m.dead_letters.get_or_create(&component(name)).inc_by(n);
            if report.rotated {
                tracing::warn!(message = "Dead-letter file reached dead_letter.max_bytes; rotated it to .1.", sink = %name, path = %path.display(), dropped_records = report.dropped);
            }
            if report.dropped > 0 {
                m.events_dropped
                    .get_or_create(&component_with(name, "reason", "dead_letter_rotated"))
                    .inc_by(report.dropped);
            }
            return;
        }
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    tracing::error!(message = "Cannot write the dead-letter file; the refused events are dropped.", sink = %name, events = n, error = %error);
    m.events_dropped
        .get_or_create(&component_with(name, "reason", "dead_letter_failed"))
        .inc_by(n);
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
