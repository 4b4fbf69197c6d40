//! The file source's loop: discover files, read them fairly, send batches, track acknowledgements,
//! write checkpoints, and drain on request.
//!
//! Runs on its own thread. Each turn reads at most one buffer from each open file (a busy file
//! cannot starve a quiet one), then handles acknowledgements, then sleeps until inotify, an
//! acknowledgement, an order or a timer wakes it. Sending blocks while the downstream channel is
//! full: that is the backpressure that keeps memory bounded, and the data waits in the file.
//!
//! File lifecycle: found by a scan → matched against checkpoints → read → at EOF, kept open while
//! it still matches the globs; closed after `idle_timeout` without writes (reopened when it grows);
//! read to its end and closed for good once it is deleted or no longer matches the globs
//! (rotated away) and has been quiet for `rotate_wait` (the app may still write through its open
//! handle). A file whose size drops below the read position was truncated
//! (copytruncate) and is read again from 0.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;

use super::checkpoint::{hash_bytes, Checkpoints, Entry};
use super::discovery::{Discovery, Found};
use super::reader::{LineReader, ReadBatch, ReadOutcome};
use super::{FileSourceConfig, ReadFrom};
use crate::acks::{AckSink, AckToken, AckTracker};
use crate::event::{Batch, Origin, Payload};
use crate::metrics::{component, component_with, metrics, Labels};
use crate::ratelimit::RateLimitedLog;
use crate::sources::{Signal, SourceContext};
use crate::topology::Fanout;

/// How many leading bytes of the first line go into a file's id.
const ID_BYTES: usize = 64;

/// One file being followed.
struct Tracked {
    dev: u64,
    ino: u64,
    path: PathBuf,
    file: Option<File>,
    reader: LineReader,
    /// Set when the first line was seen (the id depends on it).
    origin: Option<Arc<Origin>>,
    /// Id inherited from a checkpoint, if any.
    known_id: Option<u64>,
    tracker: AckTracker,
    /// The file's first bytes, up to `fingerprint_bytes` (what identifies it).
    head: Vec<u8>,
    /// Set while it is not known yet whether this file is new or a copy still being written
    /// of a file skiff knows: when it was found. Nothing is read until that is decided.
    undecided: Option<Instant>,
    /// Still matched by the latest scan.
    matched: bool,
    /// Last time data was read (or the file was opened).
    last_data: Instant,
    /// Batches out: (seq, events, sent at).
    inflight: VecDeque<(u64, u64, Instant)>,
    /// The file's size when last looked at (for the lag gauge).
    size: u64,
    /// Closed for good: waiting only for acknowledgements.
    finished: bool,
    warned_long: bool,
}

/// What is left of a file's identity after it was truncated: a copy of its old content
/// (copytruncate's `app.log.1`) continues from here.
struct Retired {
    /// The old content's first bytes.
    head: Vec<u8>,
    file_id: Option<u64>,
    /// Everything before this offset was read (and is delivered or on its way).
    offset: u64,
}

/// How many truncated files are remembered for matching their copies.
const MAX_RETIRED: usize = 64;

/// The file source's state, owned by its thread.
pub struct Tailer {
    config: FileSourceConfig,
    name: String,
    out: Option<Fanout>,
    signals: mpsc::Receiver<Signal>,
    ack_sink: AckSink,
    discovery: Discovery,
    checkpoints: Checkpoints,
    files: HashMap<u64, Tracked>,
    retired: VecDeque<Retired>,
    next_slot: u64,
    file_key: Option<Bytes>,
    draining: bool,
    /// Draining for a config reload: unfinished lines stay in their files.
    keep_partial: bool,
    stopping: bool,
    dirty: bool,
    last_scan: Option<Instant>,
    last_checkpoint: Instant,
    first_scan_done: bool,
    labels: Labels,
    checkpoint_failing: bool,
    /// The oldest-unacknowledged time last published to the metrics.
    published_oldest: Option<Instant>,
    utf8_log: RateLimitedLog,
}

impl Tailer {
    /// Prepares the source: loads checkpoints and sets up discovery.
    pub fn new(config: FileSourceConfig, ctx: SourceContext) -> Result<Tailer, String> {
        let SourceContext {
            name,
            data_dir,
            out,
            once,
            resumed,
            signal_tx,
            signals,
        } = ctx;
        let checkpoints = Checkpoints::load(&data_dir, &name);
        let discovery = Discovery::new(&config.include, &config.exclude, signal_tx.clone());
        let tx = Mutex::new(signal_tx);
        let ack_sink: AckSink = Arc::new(move |r| {
            if let Ok(tx) = tx.lock() {
                let _ = tx.send(Signal::Ack(r));
            }
        });
        let file_key = (!config.file_key.is_empty())
            .then(|| Bytes::copy_from_slice(config.file_key.as_bytes()));
        Ok(Tailer {
            labels: component(&name),
            name,
            out: Some(out),

            signals,
            ack_sink,
            discovery,
            checkpoints,
            files: HashMap::new(),
            retired: VecDeque::new(),
            next_slot: 0,
            file_key,
            draining: once,
            keep_partial: false,
            stopping: false,
            dirty: false,
            last_scan: None,
            last_checkpoint: Instant::now(),
            // After a reload every file is resumed, never started at its end.
            first_scan_done: resumed,
            checkpoint_failing: false,
            published_oldest: None,
            utf8_log: RateLimitedLog::default(),
            config,
        })
    }

    /// The loop; returns once drained (or stopped) and the last checkpoint is written.
    pub fn run(mut self) {
        tracing::info!(message = "Source started.", source = %self.name, include = ?self.config.include);
        self.scan();
        if self.draining {
            self.discovery.stop_watching();
        }
        loop {
            if self.stopping {
                break;
            }
            let progress = if self.out.is_some() {
                self.read_round()
            } else {
                false
            };
            self.handle_signals(Duration::ZERO);
            if self.out.is_some() && self.draining && !progress {
                self.close_all();
            }
            if self.out.is_none() && self.pending() == 0 {
                break;
            }
            self.maybe_checkpoint(false);
            self.log_summaries();
            if !progress {
                let wait = self.wait_time();
                self.handle_signals(wait);
            }
            if !self.draining {
                let interval = self.config.glob_interval.get();
                let due = self.last_scan.is_none_or(|t| t.elapsed() >= interval);
                if due || self.discovery.rescan_due() {
                    self.scan();
                }
            }
        }
        self.maybe_checkpoint(true);
        let m = metrics();
        m.files_watched.get_or_create(&self.labels).set(0);
        m.set_oldest_unacked(&self.labels, None);
        for st in self.files.values() {
            m.file_lag_bytes.remove(&file_labels(&self.name, &st.path));
        }
        tracing::info!(message = "Source stopped.", source = %self.name, unacknowledged_batches = self.pending());
    }

    fn wait_time(&self) -> Duration {
        if self.out.is_none() || self.draining {
            return Duration::from_millis(100);
        }
        // Fallback polling for missed inotify events; inotify usually wakes us first.
        self.config.glob_interval.get().min(Duration::from_secs(1))
    }

    fn pending(&self) -> u64 {
        self.files.values().map(|f| f.tracker.pending()).sum()
    }

    /// Waits up to `wait` for the first signal, then handles every queued one.
    fn handle_signals(&mut self, wait: Duration) {
        let first = if wait.is_zero() {
            self.signals.try_recv().ok()
        } else {
            self.signals.recv_timeout(wait).ok()
        };
        let Some(first) = first else { return };
        self.handle(first);
        while let Ok(sig) = self.signals.try_recv() {
            self.handle(sig);
        }
    }

    fn handle(&mut self, sig: Signal) {
        match sig {
            Signal::Wake => self.discovery.woke(),
            Signal::Ack(r) => self.on_ack(r.file_id, r.seq, r.end_offset, r.delivered),
            Signal::Drain => {
                if !self.draining {
                    tracing::info!(message = "Draining: reading files to their end.", source = %self.name);
                    self.draining = true;
                    self.discovery.stop_watching();
                }
            }
            Signal::DrainForReload => {
                self.keep_partial = true;
                self.handle(Signal::Drain);
            }
            Signal::Stop => self.stopping = true,
        }
    }

    fn on_ack(&mut self, slot: u64, seq: u64, end: u64, delivered: bool) {
        let Some(st) = self.files.get_mut(&slot) else {
            return;
        };
        if let Some(pos) = st.inflight.iter().position(|(s, _, _)| *s == seq) {
            st.inflight.remove(pos);
        }
        if !delivered && !st.tracker.stalled() {
            tracing::warn!(
                message = "A batch was not delivered; its file's checkpoint stays before it and it will be read again after a restart.",
                source = %self.name, path = %st.path.display(), offset = end
            );
        }
        if st.tracker.record(seq, end, delivered) {
            self.dirty = true;
            let entry = entry_of(st);
            if let Some(e) = entry {
                self.checkpoints.upsert(e);
            }
            publish_lag(&self.name, st);
        }
        if st.finished && st.tracker.pending() == 0 {
            self.remove(slot);
        }
        self.update_gauges();
    }

    fn remove(&mut self, slot: u64) {
        if let Some(st) = self.files.remove(&slot) {
            let m = metrics();
            m.file_lag_bytes.remove(&file_labels(&self.name, &st.path));
        }
    }

    fn update_gauges(&mut self) {
        let m = metrics();
        let open = self.files.values().filter(|f| !f.finished).count();
        m.files_watched.get_or_create(&self.labels).set(open as i64);
        let unacked: u64 = self
            .files
            .values()
            .flat_map(|f| f.inflight.iter().map(|(_, n, _)| *n))
            .sum();
        m.events_unacked
            .get_or_create(&self.labels)
            .set(unacked as i64);
        let oldest = self
            .files
            .values()
            .filter_map(|f| f.inflight.front().map(|(_, _, t)| *t))
            .min();
        if oldest != self.published_oldest {
            self.published_oldest = oldest;
            m.set_oldest_unacked(&self.labels, oldest);
        }
    }

    /// Logs what rate-limited warnings held back, once their interval is over.
    fn log_summaries(&mut self) {
        if let Some(suppressed) = self.utf8_log.summary_due(Instant::now()) {
            tracing::warn!(message = "More lines with invalid UTF-8 were replaced.", source = %self.name, lines = suppressed);
        }
    }

    /// One round: at most one read per open file.
    fn read_round(&mut self) -> bool {
        let mut progress = false;
        let mut slots: Vec<u64> = self.files.keys().copied().collect();
        slots.sort_unstable();
        for slot in slots {
            if self.out.is_none() || self.stopping {
                break;
            }
            progress |= self.poll_file(slot);
        }
        progress
    }

    /// Reads once from one file; true if data was found.
    fn poll_file(&mut self, slot: u64) -> bool {
        if self
            .files
            .get(&slot)
            .is_some_and(|st| st.undecided.is_some())
            && !self.decide(slot)
        {
            return false;
        }
        let Some(st) = self.files.get_mut(&slot) else {
            return false;
        };
        if st.finished {
            return false;
        }
        if st.file.is_none() && !reopen_if_grown(st) {
            if !st.matched {
                // Closed for idleness, and since rotated away or deleted.
                self.finish(slot);
            }
            return false;
        }
        let Some(file) = st.file.as_mut() else {
            return false;
        };
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(message = "Cannot stat open file; closing it.", path = %st.path.display(), error = %e);
                self.finish(slot);
                return false;
            }
        };
        if meta.len() < st.reader.position() {
            self.truncated(slot);
            return true;
        }
        st.size = meta.len();
        let before = st.reader.position();
        let outcome = st.reader.read_from(file);
        match outcome {
            Ok(ReadOutcome::Data(rb)) => {
                st.last_data = Instant::now();
                let read = st.reader.position().saturating_sub(before);
                metrics()
                    .bytes_read
                    .get_or_create(&self.labels)
                    .inc_by(read);
                if !rb.lines.is_empty() {
                    self.emit(slot, rb, false);
                }
                true
            }
            Ok(ReadOutcome::Eof) => {
                // A deleted or rotated-away file may still be written to through the app's open
                // handle: keep reading until it has been quiet for `rotate_wait`.
                let gone = meta.nlink() == 0 || !st.matched;
                let idle = st.last_data.elapsed();
                let rotated_away = gone && idle >= self.config.rotate_wait.get();
                if self.draining || rotated_away {
                    self.finish(slot);
                } else if idle >= self.config.idle_timeout.get() && !st.reader.has_partial() {
                    tracing::debug!(message = "Closing idle file.", path = %st.path.display());
                    st.file = None;
                }
                false
            }
            Err(e) => {
                tracing::warn!(message = "Read failed; closing the file.", path = %st.path.display(), error = %e);
                self.finish(slot);
                false
            }
        }
    }

    /// The file shrank below what was read: copytruncate. Start again from 0 under a new id.
    fn truncated(&mut self, slot: u64) {
        let Some(st) = self.files.get_mut(&slot) else {
            return;
        };
        tracing::info!(message = "File was truncated; reading it again from the start.", path = %st.path.display(), position = st.reader.position());
        // The old content's checkpoint entry stays as it is: it no longer matches this file (its
        // first bytes changed) but still matches a copy of the old content after a restart.
        self.retired.push_back(Retired {
            head: std::mem::take(&mut st.head),
            file_id: st.origin.as_ref().map(|o| o.file_id).or(st.known_id),
            offset: st.reader.emitted_offset(),
        });
        if self.retired.len() > MAX_RETIRED {
            self.retired.pop_front();
        }
        let previous = st.origin.as_ref().map_or(0, |o| o.file_id);
        st.known_id = Some(hash_bytes(
            format!("{previous}:truncated:{}", st.reader.position()).as_bytes(),
        ));
        st.origin = None;
        st.reader.reset(0);
        st.tracker.reset(0);
        st.size = 0;
        publish_lag(&self.name, st);
        if let Some(f) = st.file.as_mut() {
            let _ = f.seek(SeekFrom::Start(0));
        }
        self.dirty = true;
        self.maybe_checkpoint(true);
    }

    /// Reads what is left, emits the partial line, and closes the file for good.
    fn finish(&mut self, slot: u64) {
        if self
            .files
            .get(&slot)
            .is_some_and(|st| st.undecided.is_some())
        {
            let draining = std::mem::replace(&mut self.draining, true);
            let decided = self.decide(slot);
            self.draining = draining;
            if !decided {
                self.files.remove(&slot);
                return;
            }
        }
        let Some(st) = self.files.get_mut(&slot) else {
            return;
        };
        if st.file.is_none() {
            reopen_if_grown(st);
        }
        // Whatever was written since the last read.
        while self.out.is_some() {
            let Some(st) = self.files.get_mut(&slot) else {
                return;
            };
            let Some(file) = st.file.as_mut() else { break };
            let before = st.reader.position();
            match st.reader.read_from(file) {
                Ok(ReadOutcome::Data(rb)) => {
                    let read = st.reader.position().saturating_sub(before);
                    st.size = st.size.max(st.reader.position());
                    metrics()
                        .bytes_read
                        .get_or_create(&self.labels)
                        .inc_by(read);
                    if !rb.lines.is_empty() {
                        self.emit(slot, rb, false);
                    }
                }
                _ => break,
            }
        }
        let Some(st) = self.files.get_mut(&slot) else {
            return;
        };
        // For a reload, a line not yet ended stays in the file when the next topology will find
        // the file again; otherwise (shutdown, or a file deleted or rotated away) it leaves now.
        let keep = self.keep_partial && st.matched && still_there(st);
        let partial = if keep {
            None
        } else {
            st.reader.flush_partial()
        };
        let tail = partial.unwrap_or_else(|| ReadBatch {
            end_offset: st.reader.emitted_offset(),
            ..ReadBatch::default()
        });
        st.file = None;
        st.finished = true;
        tracing::debug!(message = "Closed file.", path = %st.path.display());
        self.emit(slot, tail, true);
        if let Some(st) = self.files.get(&slot) {
            if st.tracker.pending() == 0 {
                self.remove(slot);
            }
        }
        self.update_gauges();
    }

    /// Sends lines read from a file, with a fresh acknowledgement token.
    fn emit(&mut self, slot: u64, rb: ReadBatch, end_of_file: bool) {
        let Some(out) = self.out.as_ref() else { return };
        let Some(st) = self.files.get_mut(&slot) else {
            return;
        };
        if st.origin.is_none() {
            if rb.lines.is_empty() {
                // Nothing was ever read from this file: nothing to tell downstream.
                return;
            }
            st.origin = Some(Arc::new(Origin {
                source: Arc::from(self.name.as_str()),
                path: Bytes::copy_from_slice(st.path.as_os_str().as_encoded_bytes()),
                file_id: st.known_id.unwrap_or_else(|| new_file_id(st, &rb)),
            }));
        }
        update_prefix(st, self.config.fingerprint_bytes.as_usize());
        let m = metrics();
        if rb.truncated > 0 {
            m.line_problems
                .get_or_create(&component_with(&self.name, "reason", "truncated"))
                .inc_by(rb.truncated);
            if !st.warned_long {
                st.warned_long = true;
                tracing::warn!(message = "Line longer than max_line_bytes was cut (reported once per file).", path = %st.path.display(), max_line_bytes = self.config.max_line_bytes.0);
            }
        }
        if rb.invalid_utf8 > 0 {
            m.line_problems
                .get_or_create(&component_with(&self.name, "reason", "invalid_utf8"))
                .inc_by(rb.invalid_utf8);
            if let Some(suppressed) = self.utf8_log.hit(Instant::now(), rb.invalid_utf8) {
                tracing::warn!(message = "Lines with invalid UTF-8 were replaced lossily (rate-limited).", path = %st.path.display(), lines = rb.invalid_utf8, suppressed);
            }
        }
        let n = rb.lines.len() as u64;
        let seq = st.tracker.next_seq();
        let token = AckToken::new(&self.ack_sink, slot, seq, rb.end_offset);
        st.inflight.push_back((seq, n, Instant::now()));
        let batch = Batch {
            origin: st.origin.clone(),
            read_at: Utc::now(),
            payload: Payload::Lines(rb.lines),
            file_key: self.file_key.clone(),
            end_of_file,
            acks: vec![token],
        };
        m.events_out.get_or_create(&self.labels).inc_by(n);
        publish_lag(&self.name, st);
        m.events_unacked
            .get_or_create(&self.labels)
            .inc_by(n as i64);
        if self.published_oldest.is_none() {
            // Nothing else is waiting: this batch is now the oldest.
            self.published_oldest = st.inflight.front().map(|(_, _, t)| *t);
            m.set_oldest_unacked(&self.labels, self.published_oldest);
        }
        if out.blocking_send(batch).is_err() {
            tracing::warn!(message = "Downstream is gone; the source stops.", source = %self.name);
            self.out = None;
            self.stopping = true;
        }
    }

    /// Emits partial lines of every file and closes them, then lets go of the output so that the
    /// rest of the pipeline can finish.
    fn close_all(&mut self) {
        let mut slots: Vec<u64> = self.files.keys().copied().collect();
        slots.sort_unstable();
        for slot in slots {
            if self.files.get(&slot).is_some_and(|f| !f.finished) {
                self.finish(slot);
            }
        }
        tracing::debug!(message = "All files read; closing the source's output.", source = %self.name);
        self.out = None;
    }

    /// Scans the globs and starts following new files.
    fn scan(&mut self) {
        self.last_scan = Some(Instant::now());
        let found = self.discovery.scan();
        for st in self.files.values_mut() {
            st.matched = false;
        }
        for f in found {
            if let Some(st) = self
                .files
                .values_mut()
                .find(|s| s.dev == f.dev && s.ino == f.ino && !s.finished)
            {
                st.matched = true;
                if st.size != f.size {
                    st.size = f.size;
                    publish_lag(&self.name, st);
                }
                if st.path != f.path {
                    tracing::debug!(message = "File renamed.", from = %st.path.display(), to = %f.path.display());
                    metrics()
                        .file_lag_bytes
                        .remove(&file_labels(&self.name, &st.path));
                    st.path = f.path;
                    publish_lag(&self.name, st);
                }
                continue;
            }
            self.open(f);
        }
        self.first_scan_done = true;
        self.update_gauges();
    }

    fn open(&mut self, f: Found) {
        let file = match File::open(&f.path) {
            Ok(file) => file,
            Err(e) => {
                if self.discovery.warn_once(&f.path) {
                    tracing::warn!(message = "Cannot open file; will retry on the next scan.", path = %f.path.display(), error = %e);
                }
                return;
            }
        };
        self.discovery.clear_warning(&f.path);
        let head = read_head(&file, self.config.fingerprint_bytes.as_usize());
        let slot = self.next_slot;
        self.next_slot += 1;
        let st = Tracked {
            dev: f.dev,
            ino: f.ino,
            path: f.path,
            file: Some(file),
            reader: LineReader::new(
                0,
                self.config.max_line_bytes.as_usize(),
                self.config.read_buffer.as_usize(),
            ),
            origin: None,
            known_id: None,
            tracker: AckTracker::new(0),
            head,
            undecided: Some(Instant::now()),
            matched: true,
            last_data: Instant::now(),
            inflight: VecDeque::new(),
            size: f.size,
            finished: false,
            warned_long: false,
        };
        self.files.insert(slot, st);
        self.decide(slot);
    }

    /// Decides where an undecided file starts, or that it is a duplicate to leave alone. A file
    /// shorter than a fingerprint whose bytes so far begin a file skiff knows may be a copy still
    /// being written (`cp`, copytruncate): the decision waits until it is long enough, or for
    /// `rotate_wait`. Returns false while still undecided.
    fn decide(&mut self, slot: u64) -> bool {
        let fp = self.config.fingerprint_bytes.as_usize();
        let wait = self.config.rotate_wait.get();
        let Some(st) = self.files.get_mut(&slot) else {
            return false;
        };
        let Some(found_at) = st.undecided else {
            return true;
        };
        if let Some(file) = st.file.as_ref() {
            st.head = read_head(file, fp);
        }
        let head = st.head.clone();
        let path = st.path.clone();
        let head = &head;
        let others = |s: &(&u64, &Tracked)| *s.0 != slot && !s.1.finished;
        let known_heads = self
            .files
            .iter()
            .filter(others)
            .map(|(_, s)| &s.head)
            .chain(self.retired.iter().map(|r| &r.head));
        let may_grow_into_copy = head.len() < fp
            && known_heads
                .into_iter()
                .any(|k| k.len() > head.len() && k.starts_with(head));
        if may_grow_into_copy && found_at.elapsed() < wait && !self.draining {
            return false;
        }
        let full = |known: &[u8]| known.len() >= fp && head.starts_with(known);
        if self
            .files
            .iter()
            .filter(others)
            .any(|(_, s)| s.undecided.is_none() && full(&s.head))
        {
            // A copy of a file being read (copytruncate's copy before the truncation was seen,
            // or a backup copy): the same data; left alone while the original is followed.
            tracing::debug!(message = "Leaving alone a copy of a file being read.", path = %path.display());
            self.files.remove(&slot);
            return false;
        }
        let (offset, known_id) = match self
            .retired
            .iter()
            .position(|r| full(&r.head))
            .and_then(|i| self.retired.remove(i))
        {
            Some(r) => {
                tracing::info!(message = "Found a copy of a truncated file; reading what was not read yet.", path = %path.display(), offset = r.offset);
                (r.offset, r.file_id)
            }
            None => self.start_from_checkpoint(slot),
        };
        let Some(st) = self.files.get_mut(&slot) else {
            return false;
        };
        st.undecided = None;
        if let Some(file) = st.file.as_mut() {
            if let Err(e) = file.seek(SeekFrom::Start(offset)) {
                tracing::warn!(message = "Cannot seek in file.", path = %st.path.display(), error = %e);
                self.files.remove(&slot);
                return false;
            }
        }
        st.reader.reset(offset);
        st.tracker = AckTracker::new(offset);
        st.known_id = known_id;
        if offset > 0 && known_id.is_none() {
            // read_from = "end": the file's id must not depend on a first line never read.
            st.known_id = Some(hash_bytes(
                format!("{}:{}:{}", st.dev, st.ino, hash_bytes(&st.head)).as_bytes(),
            ));
        }
        tracing::info!(message = "Following file.", path = %st.path.display(), offset);
        true
    }

    /// Where a file starts according to the checkpoints (and `read_from` for new files).
    fn start_from_checkpoint(&self, slot: u64) -> (u64, Option<u64>) {
        let Some(st) = self.files.get(&slot) else {
            return (0, None);
        };
        let size = st
            .file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(st.size, |m| m.len());
        let fp = self.config.fingerprint_bytes.as_usize();
        match self.checkpoints.find(st.dev, st.ino, &st.head, fp) {
            Some(e) if e.offset <= size => (e.offset, Some(e.id)),
            Some(e) => {
                tracing::info!(message = "File is shorter than its checkpoint; reading it from the start.", path = %st.path.display(), checkpoint = e.offset, size);
                (0, None)
            }
            None if self.config.read_from == ReadFrom::End && !self.first_scan_done => (size, None),
            None => (0, None),
        }
    }

    fn maybe_checkpoint(&mut self, force: bool) {
        if !self.dirty
            || (!force && self.last_checkpoint.elapsed() < self.config.checkpoint_interval.get())
        {
            return;
        }
        self.last_checkpoint = Instant::now();
        let live: Vec<u64> = self
            .files
            .values()
            .filter_map(|f| f.origin.as_ref().map(|o| o.file_id))
            .collect();
        self.checkpoints.prune(&live);
        let m = metrics();
        match self.checkpoints.save() {
            Ok(()) => {
                self.dirty = false;
                m.checkpoint_writes.get_or_create(&self.labels).inc();
                if self.checkpoint_failing {
                    self.checkpoint_failing = false;
                    tracing::info!(message = "Checkpoint writes work again.", path = %self.checkpoints.path().display());
                }
            }
            Err(e) => {
                m.checkpoint_write_failures
                    .get_or_create(&self.labels)
                    .inc();
                if !self.checkpoint_failing {
                    self.checkpoint_failing = true;
                    tracing::error!(message = "Cannot write checkpoints; delivery goes on, but a restart would read again from the last saved offsets.", error = %e);
                }
            }
        }
    }
}

/// A checkpoint entry for a file's current state (none before its first line).
fn entry_of(st: &Tracked) -> Option<Entry> {
    let origin = st.origin.as_ref()?;
    Some(Entry {
        id: origin.file_id,
        dev: st.dev,
        ino: st.ino,
        prefix_len: st.head.len() as u64,
        prefix_hash: hash_bytes(&st.head),
        offset: st.tracker.acked(),
        path: st.path.to_string_lossy().into_owned(),
        updated: Utc::now().timestamp(),
    })
}

/// A new file's id: device, inode, birth time and the start of its first line. Stable across
/// restarts (a file's first line never changes), different for a new file that reuses an inode.
fn new_file_id(st: &Tracked, rb: &ReadBatch) -> u64 {
    let born = st
        .file
        .as_ref()
        .and_then(|f| f.metadata().ok())
        .and_then(|m| m.created().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let first = rb
        .lines
        .spans
        .first()
        .map(|s| rb.lines.line(s))
        .unwrap_or_default();
    let first = &first[..first.len().min(ID_BYTES)];
    let mut key = format!("{}:{}:{}:", st.dev, st.ino, born).into_bytes();
    key.extend_from_slice(first);
    hash_bytes(&key)
}

/// Reads up to `n` leading bytes of a file.
fn read_head(file: &File, n: usize) -> Vec<u8> {
    let mut head = vec![0; n];
    let mut got = 0;
    while got < n {
        match file.read_at(&mut head[got..], got as u64) {
            Ok(0) | Err(_) => break,
            Ok(k) => got += k,
        }
    }
    head.truncate(got);
    head
}

/// Extends a young file's prefix hash as it grows, up to the fingerprint size.
fn update_prefix(st: &mut Tracked, fp: usize) {
    if st.head.len() >= fp {
        return;
    }
    if let Some(file) = st.file.as_ref() {
        let head = read_head(file, fp);
        if head.len() > st.head.len() {
            st.head = head;
        }
    }
}

/// Reopens a file closed for idleness if it grew; false if it did not (or is gone).
fn reopen_if_grown(st: &mut Tracked) -> bool {
    let Ok(meta) = std::fs::metadata(&st.path) else {
        return false;
    };
    if meta.dev() != st.dev || meta.ino() != st.ino || meta.len() == st.reader.position() {
        return false;
    }
    match File::open(&st.path) {
        Ok(mut f) => {
            let pos = st.reader.position().min(meta.len());
            if f.seek(SeekFrom::Start(pos)).is_err() {
                return false;
            }
            st.file = Some(f);
            st.last_data = Instant::now();
            true
        }
        Err(_) => false,
    }
}

/// True if the file is still at its path (a reload's next topology will find it there).
fn still_there(st: &Tracked) -> bool {
    std::fs::metadata(&st.path).is_ok_and(|m| m.dev() == st.dev && m.ino() == st.ino)
}

/// Sets the file's lag gauge: bytes in the file (as far as known) not yet acknowledged.
fn publish_lag(source: &str, st: &Tracked) {
    let end = st.size.max(st.reader.position());
    metrics()
        .file_lag_bytes
        .get_or_create(&file_labels(source, &st.path))
        .set(end.saturating_sub(st.tracker.acked()) as i64);
}

fn file_labels(source: &str, path: &std::path::Path) -> Labels {
    vec![
        ("component", source.to_owned()),
        ("file", path.to_string_lossy().into_owned()),
    ]
}
