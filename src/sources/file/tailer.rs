//! The file source's loop: discover files, read them fairly, send batches, track acknowledgements,
//! write checkpoints, and drain on request.
//!
//! Runs on its own thread. Each turn reads at most one buffer from each open file (a busy file
//! cannot starve a quiet one), then handles acknowledgements, then sleeps until inotify, an
//! acknowledgement, an order or a timer wakes it. While a downstream channel is full nothing is
//! read: that is the backpressure that keeps memory bounded, and the data waits in the file. The
//! loop goes on meanwhile: new files are found and held open (a file rotated away before the
//! source looks again would otherwise never be read), acknowledgements handled, checkpoints
//! written.
//!
//! File lifecycle: found by a scan → matched against checkpoints → read → at EOF, kept open while
//! it still matches the globs; closed after `idle_timeout` without writes (reopened when it grows);
//! read to its end and closed for good once it is deleted or no longer matches the globs
//! (rotated away) and has been quiet for `rotate_wait` (the app may still write through its open
//! handle). A file whose size drops below the read position, or whose first bytes changed (a
//! truncation followed by more writes than were read, while the source was blocked), was
//! truncated (copytruncate) and is read again from 0.
//!
//! A new file too short to fingerprint whose bytes so far are the start of a known file may be a
//! copy being written: it is held open but not read until its first bytes tell (`Pending`).

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
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
use crate::fanout::Fanout;
use crate::metrics::{component, component_with, metrics, Labels};
use crate::ratelimit::RateLimitedLog;
use crate::sources::{Signal, SourceContext};

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
    /// The file's first bytes (up to `fingerprint_bytes`): its identity, and how a rewrite from
    /// the start (copytruncate) is noticed.
    head: Vec<u8>,
    /// Not identified yet: not read.
    pending: Option<Pending>,
    /// Still matched by the globs (missed by fewer than [`MISSES_TO_UNMATCH`] scans in a row).
    matched: bool,
    /// Scans in a row that did not find the file.
    missed: u8,
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

/// A file counts as no longer matched (rotated away) after this many scans in a row did not find
/// it: one scan can miss a file being renamed (listed under its old name, gone by the time it
/// is looked at, not yet listed under the new one).
const MISSES_TO_UNMATCH: u8 = 2;

/// How many truncated files are remembered for matching their copies.
const MAX_RETIRED: usize = 64;

/// How many of the newest files beside a truncated one are opened to find its copy.
const MAX_COPY_CANDIDATES: usize = 16;

/// How long a file too short to fingerprint may stay unidentified while its bytes so far are the
/// start of a known file (a copy being written: see [`Pending`]).
const PENDING_GRACE: Duration = Duration::from_secs(1);

/// How often a source held back by a full downstream channel looks for room again.
const ROOM_RECHECK: Duration = Duration::from_millis(10);

/// How often unidentified files are looked at again.
const PENDING_RECHECK: Duration = Duration::from_millis(50);

/// A file opened while too short to fingerprint, whose bytes so far are the start of a file
/// already known: it may be a copy being written (copytruncate creates the copy empty, then
/// fills it). It is held open (renames cannot hide it) but not read until its first
/// `fingerprint_bytes` tell what it is, or until [`PENDING_GRACE`] has passed.
struct Pending {
    until: Instant,
    /// Found by the first scan (where `read_from = "end"` applies).
    initial: bool,
}

/// Where to start reading a file, once identified.
enum Start {
    /// A copy of a file being read: leave it alone.
    Copy,
    At {
        offset: u64,
        known_id: Option<u64>,
    },
}

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
    /// The last read round stopped because downstream was full.
    backpressured: bool,
    stopping: bool,
    dirty: bool,
    last_scan: Option<Instant>,
    /// The last truncation check while downstream was full.
    last_truncation_check: Option<Instant>,
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
        let discovery = Discovery::new(&name, &config.include, &config.exclude, signal_tx.clone());
        let tx = Mutex::new(signal_tx);
        let ack_sink: AckSink = Arc::new(move |r| {
            if let Ok(tx) = tx.lock() {
                let _ = tx.send(Signal::Ack(r));
            }
        });
        let file_key = (!config.file_key.is_empty())
            .then(|| Bytes::copy_from_slice(config.file_key.as_bytes()));
        // Exported at 0 from the start, so that a rate or an alert on them works before the
        // first failure.
        let labels = component(&name);
        metrics().checkpoint_writes.get_or_create(&labels).inc_by(0);
        metrics()
            .checkpoint_write_failures
            .get_or_create(&labels)
            .inc_by(0);
        Ok(Tailer {
            labels,
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
            backpressured: false,
            stopping: false,
            dirty: false,
            last_scan: None,
            last_truncation_check: None,
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
        let wait = self.config.glob_interval.get().min(Duration::from_secs(1));
        if self.backpressured {
            // Nothing says when downstream takes a batch: look again soon.
            wait.min(ROOM_RECHECK)
        } else if self.files.values().any(|f| f.pending.is_some()) {
            wait.min(PENDING_RECHECK)
        } else {
            wait
        }
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
        let batches: usize = self.files.values().map(|f| f.inflight.len()).sum();
        m.batches_unacked
            .get_or_create(&self.labels)
            .set(batches as i64);
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
        self.backpressured = false;
        for slot in slots {
            if self.out.is_none() || self.stopping {
                break;
            }
            // Downstream is full: read nothing more for now, but keep discovering files (a
            // file rotated away before the next scan would never be seen), handling
            // acknowledgements and writing checkpoints.
            if self.out.as_ref().is_some_and(Fanout::is_full) {
                self.backpressured = true;
                break;
            }
            progress |= self.poll_file(slot);
            self.maybe_check_truncations();
        }
        self.maybe_check_truncations();
        progress
    }

    /// Checks every file for truncation if it is time: every 10 ms for up to 100 files,
    /// proportionally less often for more. Between the reads of a round (a round over large
    /// reads and several files can take long) and while downstream is full.
    fn maybe_check_truncations(&mut self) {
        let every = ROOM_RECHECK * (self.files.len() as u32 / 100).max(1);
        if self
            .last_truncation_check
            .is_none_or(|t| t.elapsed() >= every)
        {
            self.last_truncation_check = Some(Instant::now());
            self.check_truncations();
        }
    }

    /// While downstream is full nothing is read, but truncations are still looked for: the copy
    /// made just before one holds what was not read yet, and it can be found only while the
    /// truncated content's first bytes are the last ones seen (a second truncation would hide
    /// the first).
    fn check_truncations(&mut self) {
        let slots: Vec<u64> = self
            .files
            .iter()
            .filter(|(_, s)| !s.finished && s.pending.is_none() && s.file.is_some())
            .map(|(k, _)| *k)
            .collect();
        let fp = self.config.fingerprint_bytes.as_usize();
        for slot in slots {
            let Some(st) = self.files.get_mut(&slot) else {
                continue;
            };
            // A file truncated a moment ago: its new content's first bytes are what the next
            // truncation is told by, and what its copy is found by.
            update_head(st, fp);
            let Some(file) = st.file.as_ref() else {
                continue;
            };
            let Ok(len) = file.metadata().map(|m| m.len()) else {
                continue;
            };
            // The first bytes are read again only when the size moved (a file being written).
            let moved = len != st.size;
            st.size = len;
            if len < st.reader.position() || (moved && head_changed(file, &st.head)) {
                let emitted = st.reader.emitted_offset();
                st.reader.reset(emitted);
                self.truncated(slot);
            }
        }
    }

    /// Reads once from one file; true if data was found.
    fn poll_file(&mut self, slot: u64) -> bool {
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
        if st.pending.is_some() && !self.settle(slot, false) {
            return false;
        }
        let Some(st) = self.files.get_mut(&slot) else {
            return false;
        };
        // The head is taken before the read, so that the check after it compares with the
        // generation of the file the read started in (taken after, it could be a later one).
        update_head(st, self.config.fingerprint_bytes.as_usize());
        let Some(file) = st.file.as_mut() else {
            return false;
        };
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(message = "Cannot stat open file; closing it.", path = %st.path.display(), error = %e);
                self.count_file_error("stat");
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
        let emitted = st.reader.emitted_offset();
        let outcome = st.reader.read_from(file);
        match outcome {
            // Truncated and grown again past the read position (while the source was held back,
            // or descheduled between the size check and the read): what was read is the middle
            // of new lines. The first bytes tell; drop the read.
            Ok(ReadOutcome::Data(_)) if head_changed(file, &st.head) => {
                st.reader.reset(emitted);
                self.truncated(slot);
                true
            }
            Ok(ReadOutcome::Data(rb)) => {
                st.last_data = Instant::now();
                let read = st.reader.position().saturating_sub(before);
                metrics()
                    .bytes_read
                    .get_or_create(&self.labels)
                    .inc_by(read);
                if rb.lines.is_empty() {
                    // Only the start of a line not yet ended: unacknowledged bytes too.
                    publish_lag(&self.name, st);
                } else {
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
                self.count_file_error("read");
                self.finish(slot);
                false
            }
        }
    }

    fn count_file_error(&self, reason: &'static str) {
        metrics()
            .file_errors
            .get_or_create(&component_with(&self.name, "reason", reason))
            .inc();
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
        // The next content's id derives from the previous one's (and its first bytes), so a
        // chain of truncations never repeats an id, even when nothing of a content was read
        // (position 0): its copy is read under the old id, the new content under this one, and
        // the same offsets in both must not make the same document ids.
        let previous = st
            .origin
            .as_ref()
            .map(|o| o.file_id)
            .or(st.known_id)
            .unwrap_or(0);
        let old_head = self.retired.back().map_or(0, |r| hash_bytes(&r.head));
        st.known_id = Some(hash_bytes(
            format!("{previous}:truncated:{}:{old_head}", st.reader.position()).as_bytes(),
        ));
        st.origin = None;
        st.reader.reset(0);
        st.tracker.reset(0);
        st.size = 0;
        publish_lag(&self.name, st);
        if let Some(f) = st.file.as_mut() {
            let _ = f.seek(SeekFrom::Start(0));
        }
        let (dir, live) = (st.path.parent().map(Path::to_path_buf), (st.dev, st.ino));
        if let Some(dir) = dir {
            self.adopt_copy(&dir, live);
        }
        self.dirty = true;
        self.maybe_checkpoint(true);
    }

    /// After a truncation, reads what it left unread from the copy made just before it.
    ///
    /// copytruncate copies the file, then truncates it: lines written just before the copy may
    /// not have been read when the truncation came (it can follow the copy by microseconds, far
    /// less than any reader's wake-up time), and the truncation destroys them in the live file.
    /// The copy still holds them. It is looked for beside the live file: a regular file longer
    /// than what was read, not followed yet, whose first bytes are the truncated content's. It
    /// is then followed like a file rotated away, from where the live file was read to, under
    /// the old content's id (so a copy the globs also match is the same file, never read twice).
    fn adopt_copy(&mut self, dir: &Path, live: (u64, u64)) {
        let Some(r) = self.retired.back() else { return };
        if r.head.is_empty() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        // The copy is new: only the most recently modified candidates are opened.
        let mut candidates: Vec<(PathBuf, std::fs::Metadata)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let path = e.path();
                let meta = std::fs::metadata(&path).ok()?;
                let id = (meta.dev(), meta.ino());
                let wanted = meta.is_file()
                    && id != live
                    && meta.len() > r.offset
                    && !self.files.values().any(|s| (s.dev, s.ino) == id);
                wanted.then_some((path, meta))
            })
            .collect();
        candidates
            .sort_by_key(|(_, m)| std::cmp::Reverse(m.mtime_nsec() + m.mtime() * 1_000_000_000));
        let fp = self.config.fingerprint_bytes.as_usize();
        let found = candidates
            .into_iter()
            .take(MAX_COPY_CANDIDATES)
            .find_map(|(path, meta)| {
                let file = File::open(&path).ok()?;
                let head = read_head(&file, fp);
                head.starts_with(&r.head)
                    .then_some((path, meta, file, head))
            });
        let Some((path, meta, mut file, head)) = found else {
            return;
        };
        let Some(r) = self.retired.pop_back() else {
            return;
        };
        if file.seek(SeekFrom::Start(r.offset)).is_err() {
            return;
        }
        tracing::info!(message = "Reading what the truncation left unread from the file's copy.", path = %path.display(), offset = r.offset, size = meta.len());
        let slot = self.next_slot;
        self.next_slot += 1;
        let mut st = Tracked {
            dev: meta.dev(),
            ino: meta.ino(),
            path,
            file: Some(file),
            reader: LineReader::new(
                r.offset,
                self.config.max_line_bytes.as_usize(),
                self.config.read_buffer.as_usize(),
            ),
            origin: None,
            known_id: r.file_id,
            tracker: AckTracker::new(r.offset),
            head,
            pending: None,
            // Not the live file: read to its end, then closed once quiet for `rotate_wait`
            // (unless the globs match it too).
            matched: false,
            missed: MISSES_TO_UNMATCH,
            last_data: Instant::now(),
            inflight: VecDeque::new(),
            size: meta.len(),
            finished: false,
            warned_long: false,
        };
        set_start_id(&mut st, r.offset);
        self.files.insert(slot, st);
    }

    /// Reads what is left, emits the partial line, and closes the file for good.
    fn finish(&mut self, slot: u64) {
        if self.files.get(&slot).is_some_and(|s| s.pending.is_some()) && !self.settle(slot, true) {
            return;
        }
        let Some(st) = self.files.get_mut(&slot) else {
            return;
        };
        if st.file.is_none() {
            reopen_if_grown(st);
        }
        // Whatever was written since the last read.
        let fp = self.config.fingerprint_bytes.as_usize();
        while self.out.is_some() {
            let Some(st) = self.files.get_mut(&slot) else {
                return;
            };
            update_head(st, fp);
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
        m.batches_unacked.get_or_create(&self.labels).inc();
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
            st.missed = st.missed.saturating_add(1);
        }
        for f in found {
            if let Some(st) = self
                .files
                .values_mut()
                .find(|s| s.dev == f.dev && s.ino == f.ino && !s.finished)
            {
                st.missed = 0;
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
        for st in self.files.values_mut() {
            st.matched = st.missed < MISSES_TO_UNMATCH;
        }
        self.first_scan_done = true;
        self.update_gauges();
    }

    fn open(&mut self, f: Found) {
        let mut file = match File::open(&f.path) {
            Ok(file) => file,
            Err(e) => {
                if self.discovery.warn_once(&f.path, "open") {
                    tracing::warn!(message = "Cannot open file; will retry on the next scan.", path = %f.path.display(), error = %e);
                }
                return;
            }
        };
        self.discovery.clear_warning(&f.path);
        let fp = self.config.fingerprint_bytes.as_usize();
        let head = read_head(&file, fp);
        let initial = !self.first_scan_done;
        let pending = head.len() < fp && !self.draining && self.starts_like_known(&head);
        let (offset, known_id) = if pending {
            (0, None)
        } else {
            match self.identify(&f, &head, initial) {
                Start::Copy => return,
                Start::At { offset, known_id } => (offset, known_id),
            }
        };
        if let Err(e) = file.seek(SeekFrom::Start(offset)) {
            tracing::warn!(message = "Cannot seek in file.", path = %f.path.display(), error = %e);
            return;
        }
        if !pending {
            tracing::info!(message = "Following file.", path = %f.path.display(), offset);
        }
        let slot = self.next_slot;
        self.next_slot += 1;
        let mut st = Tracked {
            dev: f.dev,
            ino: f.ino,
            path: f.path,
            file: Some(file),
            reader: LineReader::new(
                offset,
                self.config.max_line_bytes.as_usize(),
                self.config.read_buffer.as_usize(),
            ),
            origin: None,
            known_id,
            tracker: AckTracker::new(offset),
            head,
            pending: pending.then(|| Pending {
                until: Instant::now() + PENDING_GRACE,
                initial,
            }),
            matched: true,
            missed: 0,
            last_data: Instant::now(),
            inflight: VecDeque::new(),
            size: f.size,
            finished: false,
            warned_long: false,
        };
        set_start_id(&mut st, offset);
        self.files.insert(slot, st);
    }

    /// Decides where a file starts: a copy of a file being read (left alone), a copy of a
    /// truncated file (from where the original was read to), a file with a checkpoint, or a new
    /// file.
    fn identify(&mut self, f: &Found, head: &[u8], initial: bool) -> Start {
        let fp = self.config.fingerprint_bytes.as_usize();
        let same_start = |known: &[u8]| known.len() >= fp && head.starts_with(known);
        let settled = |s: &&Tracked| !s.finished && s.pending.is_none();
        if self
            .files
            .values()
            .filter(settled)
            .any(|s| same_start(&s.head))
        {
            // A copy of a file being read (copytruncate's copy before the truncation was seen,
            // or a backup copy): the same data; left alone while the original is followed.
            return Start::Copy;
        }
        if let Some(r) = self
            .retired
            .iter()
            .position(|r| same_start(&r.head))
            .and_then(|i| self.retired.remove(i))
        {
            tracing::info!(message = "Found a copy of a truncated file; reading what was not read yet.", path = %f.path.display(), offset = r.offset);
            return Start::At {
                offset: r.offset.min(f.size),
                known_id: r.file_id,
            };
        }
        let (offset, known_id) = match self.checkpoints.find(f.dev, f.ino, head, fp) {
            Some(e) if e.offset <= f.size => (e.offset, Some(e.id)),
            // A copy (another inode, same first bytes) that ends before the checkpoint of the
            // file it copies: all it holds was delivered from the original.
            Some(e) if (e.dev, e.ino) != (f.dev, f.ino) => (f.size, Some(e.id)),
            Some(e) => {
                tracing::info!(message = "File is shorter than its checkpoint; reading it from the start.", path = %f.path.display(), checkpoint = e.offset, size = f.size);
                (0, None)
            }
            None if self.config.read_from == ReadFrom::End && initial => (f.size, None),
            None => (0, None),
        };
        Start::At { offset, known_id }
    }

    /// True when `head` (shorter than a fingerprint) is the start of a file being read or of a
    /// truncated one: the file may be a copy still being written.
    fn starts_like_known(&self, head: &[u8]) -> bool {
        self.files
            .values()
            .filter(|s| !s.finished && s.pending.is_none())
            .map(|s| &s.head)
            .chain(self.retired.iter().map(|r| &r.head))
            .any(|known| known.starts_with(head))
    }

    /// Tries to identify a pending file from its first bytes now (`force`: whatever they are).
    /// True when it is identified and may be read; a copy of a file being read is let go (the
    /// next scan leaves it alone).
    fn settle(&mut self, slot: u64, force: bool) -> bool {
        let fp = self.config.fingerprint_bytes.as_usize();
        let Some(st) = self.files.get(&slot) else {
            return false;
        };
        let (Some(p), Some(file)) = (st.pending.as_ref(), st.file.as_ref()) else {
            return true;
        };
        let head = read_head(file, fp);
        let expired = Instant::now() >= p.until;
        let initial = p.initial;
        if !force && !expired && head.len() < fp && self.starts_like_known(&head) {
            return false;
        }
        let found = Found {
            path: st.path.clone(),
            dev: st.dev,
            ino: st.ino,
            size: file.metadata().map_or(0, |m| m.len()),
        };
        let start = self.identify(&found, &head, initial);
        let Some(st) = self.files.get_mut(&slot) else {
            return false;
        };
        let (offset, known_id) = match start {
            Start::Copy => {
                tracing::debug!(message = "New file is a copy of a file being read; leaving it alone.", path = %st.path.display());
                self.files.remove(&slot);
                return false;
            }
            Start::At { offset, known_id } => (offset, known_id),
        };
        if let Some(f) = st.file.as_mut() {
            if f.seek(SeekFrom::Start(offset)).is_err() {
                return false;
            }
        }
        tracing::info!(message = "Following file.", path = %st.path.display(), offset);
        st.pending = None;
        st.head = head;
        st.known_id = known_id;
        st.reader.reset(offset);
        st.tracker.reset(offset);
        set_start_id(st, offset);
        true
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

/// A file read from the middle without a known id (`read_from = "end"`) gets an id that does not
/// depend on a first line it never read.
fn set_start_id(st: &mut Tracked, offset: u64) {
    if offset > 0 && st.known_id.is_none() {
        st.known_id = Some(hash_bytes(
            format!("{}:{}:{}", st.dev, st.ino, hash_bytes(&st.head)).as_bytes(),
        ));
    }
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

/// Extends a young file's head as it grows, up to the fingerprint size. A head that no longer
/// starts like the known one is left for the truncation check to see.
fn update_head(st: &mut Tracked, fp: usize) {
    if st.head.len() >= fp {
        return;
    }
    if let Some(file) = st.file.as_ref() {
        let head = read_head(file, fp);
        if head.len() > st.head.len() && head.starts_with(&st.head) {
            st.head = head;
        }
    }
}

/// True when the file no longer starts with `head`: it was truncated and written again.
fn head_changed(file: &File, head: &[u8]) -> bool {
    !head.is_empty() && read_head(file, head.len()) != head
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
