//! Splits a file's bytes into lines, one read at a time, without copying complete lines.
//!
//! Each read appends to a buffer; everything up to the last newline leaves as one shared buffer
//! with line spans, and only the trailing partial line is copied to the next read's buffer.
//! Invariants kept here: lines end at `\n` (a trailing `\r` is dropped); a line longer than
//! `max_line_bytes` is cut at a character boundary at that length, marked, and the rest of it is
//! skipped without being held in memory; invalid UTF-8 is replaced (lossily) and counted. The
//! offsets of every line and of the end of the batch are exact, so acknowledgements are too.

use std::io::{self, Read};

use bytes::Bytes;

use crate::event::{shared_buffer, LineSpan, Lines};

/// Lines read in one go, and the file offset just past them.
#[derive(Debug, Default)]
pub struct ReadBatch {
    pub lines: Lines,
    /// File offset just past the last byte consumed (including skipped bytes).
    pub end_offset: u64,
    /// Lines cut at `max_line_bytes` in this batch.
    pub truncated: u64,
    /// Lines with invalid UTF-8 in this batch.
    pub invalid_utf8: u64,
}

/// Smallest read size outside tests.
const MIN_READ: usize = if cfg!(test) { 1 } else { 4096 };

/// A long line being skipped: its kept prefix and where it started.
#[derive(Debug)]
struct Skipping {
    kept: Bytes,
    offset: u64,
}

/// Line splitting state for one open file.
#[derive(Debug)]
pub struct LineReader {
    /// Bytes read and not yet emitted (a partial line).
    pending: Vec<u8>,
    /// File offset of `pending[0]`.
    pending_offset: u64,
    /// A long line whose remainder is being skipped.
    skipping: Option<Skipping>,
    max_line: usize,
    read_size: usize,
}

/// What one read found.
#[derive(Debug)]
pub enum ReadOutcome {
    /// Complete lines (maybe none, if only part of a line was read, or a long line is skipped).
    Data(ReadBatch),
    /// Nothing new in the file.
    Eof,
}

impl LineReader {
    /// A reader positioned at `offset`.
    pub fn new(offset: u64, max_line: usize, read_size: usize) -> LineReader {
        LineReader {
            pending: Vec::new(),
            pending_offset: offset,
            skipping: None,
            max_line: max_line.max(1),
            read_size: read_size.max(MIN_READ),
        }
    }

    /// The file offset of the next byte to read.
    pub fn position(&self) -> u64 {
        self.pending_offset + self.pending.len() as u64
    }

    /// The offset after the last line emitted (where a restart resumes).
    pub fn emitted_offset(&self) -> u64 {
        match &self.skipping {
            Some(s) => s.offset,
            None => self.pending_offset,
        }
    }

    /// True when bytes of an unfinished line are held.
    pub fn has_partial(&self) -> bool {
        !self.pending.is_empty() || self.skipping.is_some()
    }

    /// Forgets everything and restarts at `offset` (the file was truncated).
    pub fn reset(&mut self, offset: u64) {
        self.pending.clear();
        self.pending_offset = offset;
        self.skipping = None;
    }

    /// Reads once from `file` (positioned at [`position`](Self::position)) and splits lines.
    pub fn read_from(&mut self, file: &mut impl Read) -> io::Result<ReadOutcome> {
        let mut buf = Vec::with_capacity(self.pending.len() + self.read_size);
        buf.append(&mut self.pending);
        let before = buf.len();
        let n = file.take(self.read_size as u64).read_to_end(&mut buf)?;
        if n == 0 {
            self.pending = buf;
            return Ok(ReadOutcome::Eof);
        }
        debug_assert_eq!(buf.len(), before + n);
        Ok(ReadOutcome::Data(self.split(buf)))
    }

    /// Splits `buf` (which starts at `pending_offset`) into lines, keeping the partial tail.
    fn split(&mut self, mut buf: Vec<u8>) -> ReadBatch {
        let mut out = ReadBatch::default();
        let mut base = self.pending_offset;
        let mut head = None;
        if let Some(skip) = self.skipping.take() {
            match memchr::memchr(b'\n', &buf) {
                None => {
                    // Still inside the long line: drop what was read.
                    self.pending_offset += buf.len() as u64;
                    self.skipping = Some(skip);
                    out.end_offset = skip_start(&self.skipping);
                    return out;
                }
                Some(nl) => {
                    head = Some((skip.kept, skip.offset));
                    buf.drain(..=nl);
                    base += nl as u64 + 1;
                }
            }
        }
        let complete = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
        let mut tail = buf.split_off(complete);
        let tail_offset = base + complete as u64;
        if tail.len() > self.max_line {
            // A line longer than the limit with no end in sight: keep its head, skip the rest.
            self.pending_offset = tail_offset + tail.len() as u64;
            tail.truncate(char_boundary(&tail, self.max_line));
            self.skipping = Some(Skipping {
                kept: Bytes::from(tail),
                offset: tail_offset,
            });
        } else {
            self.pending = tail;
            self.pending_offset = tail_offset;
        }
        if !buf.is_empty() || head.is_some() {
            out.lines = build_lines(buf, base, head.as_ref(), self.max_line, &mut out);
        }
        // A checkpoint may hold this offset: everything before it was emitted.
        out.end_offset = tail_offset;
        out
    }

    /// Emits the held partial line (end of file for good: rotation, deletion, shutdown).
    pub fn flush_partial(&mut self) -> Option<ReadBatch> {
        let mut out = ReadBatch::default();
        if let Some(s) = self.skipping.take() {
            let mut buf = s.kept.to_vec();
            let len = buf.len() as u32;
            let spans = vec![LineSpan {
                offset: s.offset,
                start: 0,
                end: len,
                truncated: true,
            }];
            out.truncated = 1;
            buf.shrink_to_fit();
            out.lines = Lines {
                buf: Bytes::from(buf),
                spans,
            };
            out.end_offset = self.pending_offset;
            return Some(out);
        }
        if self.pending.is_empty() {
            return None;
        }
        let mut buf = std::mem::take(&mut self.pending);
        let offset = self.pending_offset;
        self.pending_offset += buf.len() as u64;
        // The newline makes it a complete line; a trailing `\r` is dropped as for any line.
        buf.push(b'\n');
        out.lines = build_lines(buf, offset, None, self.max_line, &mut out);
        out.end_offset = self.pending_offset;
        Some(out)
    }
}

fn skip_start(skipping: &Option<Skipping>) -> u64 {
    skipping.as_ref().map_or(0, |s| s.offset)
}

/// The largest cut point `<= max` that does not split a UTF-8 character (for valid UTF-8).
fn char_boundary(bytes: &[u8], max: usize) -> usize {
    let mut cut = max.min(bytes.len());
    let floor = cut.saturating_sub(3);
    while cut > floor && cut < bytes.len() && (bytes[cut] & 0b1100_0000) == 0b1000_0000 {
        cut -= 1;
    }
    if cut == floor && floor > 0 && (bytes[cut] & 0b1100_0000) == 0b1000_0000 {
        // Not UTF-8 here anyway: cut at the limit.
        return max.min(bytes.len());
    }
    cut
}

/// Builds spans over `buf` (complete lines, each ending in `\n`, starting at file offset
/// `base`), with `head` (a truncated long line) first. Lines over `max_line` (possible when a
/// read found the whole long line at once) are cut; invalid UTF-8 is replaced.
fn build_lines(
    buf: Vec<u8>,
    base: u64,
    head: Option<&(Bytes, u64)>,
    max_line: usize,
    out: &mut ReadBatch,
) -> Lines {
    let needs_rebuild = head.is_some()
        || simdutf8::basic::from_utf8(&buf).is_err()
        || has_long_line(&buf, max_line);
    if !needs_rebuild {
        let mut spans = Vec::with_capacity(buf.len() / 64 + 1);
        let mut start = 0usize;
        for nl in memchr::memchr_iter(b'\n', &buf) {
            let end = if nl > start && buf[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            };
            spans.push(LineSpan {
                offset: base + start as u64,
                start: start as u32,
                end: end as u32,
                truncated: false,
            });
            start = nl + 1;
        }
        return Lines {
            buf: shared_buffer(buf),
            spans,
        };
    }
    rebuild(buf, base, head, max_line, out)
}

fn has_long_line(buf: &[u8], max_line: usize) -> bool {
    if buf.len() <= max_line {
        return false;
    }
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', buf) {
        if nl - start > max_line {
            return true;
        }
        start = nl + 1;
    }
    false
}

/// The slow path: copies lines into a new buffer, cutting long ones and repairing bad UTF-8.
fn rebuild(
    buf: Vec<u8>,
    base: u64,
    head: Option<&(Bytes, u64)>,
    max_line: usize,
    out: &mut ReadBatch,
) -> Lines {
    let mut data = Vec::with_capacity(buf.len() + head.map_or(0, |h| h.0.len()));
    let mut spans = Vec::new();
    let mut push = |line: &[u8], offset: u64, mut truncated: bool, out: &mut ReadBatch| {
        let mut line = line;
        if line.len() > max_line {
            line = &line[..char_boundary(line, max_line)];
            truncated = true;
        }
        if truncated {
            out.truncated += 1;
        }
        let start = data.len() as u32;
        match std::str::from_utf8(line) {
            Ok(_) => data.extend_from_slice(line),
            Err(_) => {
                out.invalid_utf8 += 1;
                data.extend_from_slice(String::from_utf8_lossy(line).as_bytes());
            }
        }
        spans.push(LineSpan {
            offset,
            start,
            end: data.len() as u32,
            truncated,
        });
    };
    if let Some((kept, offset)) = head {
        push(kept, *offset, true, out);
    }
    let mut start = 0usize;
    for nl in memchr::memchr_iter(b'\n', &buf) {
        let end = if nl > start && buf[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        push(&buf[start..end], base + start as u64, false, out);
        start = nl + 1;
    }
    Lines {
        buf: shared_buffer(data),
        spans,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads all of `data` through a reader with small buffers, then flushes; returns
    /// (line, offset, truncated) triples and the final emitted offset.
    fn read_all(data: &[u8], max_line: usize, read_size: usize) -> (Vec<(String, u64, bool)>, u64) {
        let mut r = LineReader::new(0, max_line, read_size);
        r.read_size = read_size; // below the public minimum, to exercise boundaries
        let mut cursor = std::io::Cursor::new(data.to_vec());
        let mut out = Vec::new();
        let mut collect = |b: ReadBatch| {
            for s in &b.lines.spans {
                out.push((
                    String::from_utf8(b.lines.line(s).to_vec()).unwrap(),
                    s.offset,
                    s.truncated,
                ));
            }
        };
        while let ReadOutcome::Data(b) = r.read_from(&mut cursor).unwrap() {
            collect(b);
        }
        if let Some(b) = r.flush_partial() {
            collect(b);
        }
        (out, r.emitted_offset())
    }

    #[test]
    fn splits_lines_with_offsets() {
        let (lines, end) = read_all(b"a\nbb\r\n\nccc", 100, 3);
        let got: Vec<_> = lines.iter().map(|(l, o, _)| (l.as_str(), *o)).collect();
        assert_eq!(got, vec![("a", 0), ("bb", 2), ("", 6), ("ccc", 7)]);
        assert_eq!(end, 10);
    }

    #[test]
    fn long_lines_are_cut_and_skipped() {
        let mut data = vec![b'x'; 50];
        data.extend_from_slice(b"\nok\n");
        let (lines, end) = read_all(&data, 10, 4);
        assert_eq!(
            lines,
            vec![("x".repeat(10), 0, true), ("ok".into(), 51, false)]
        );
        assert_eq!(end, 54);
    }

    #[test]
    fn long_line_found_whole_in_one_read() {
        let (lines, _) = read_all(b"short\nthis line is long\nend\n", 8, 4096);
        assert_eq!(lines[1], ("this lin".into(), 6, true));
        assert_eq!(lines[2], ("end".into(), 24, false));
    }

    #[test]
    fn cut_respects_char_boundaries() {
        let data = "ééééé\n".as_bytes(); // 2 bytes per char
        let (lines, _) = read_all(data, 5, 4096);
        assert_eq!(lines[0], ("éé".into(), 0, true));
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let (lines, _) = read_all(b"ok\n\xff\xfebad\nfine\n", 100, 4096);
        assert_eq!(lines[1].0, "\u{fffd}\u{fffd}bad");
        assert_eq!(lines[2], ("fine".into(), 9, false));
    }

    #[test]
    fn emitted_offset_stays_before_a_skipped_line() {
        let mut r = LineReader::new(0, 4, 4096);
        let mut cursor = std::io::Cursor::new(b"ab\nlonglonglong".to_vec());
        let ReadOutcome::Data(b) = r.read_from(&mut cursor).unwrap() else {
            panic!()
        };
        assert_eq!(b.end_offset, 3);
        assert_eq!(
            r.emitted_offset(),
            3,
            "a restart must re-read the long line"
        );
        assert_eq!(r.position(), 15);
    }

    proptest! {
        /// Whatever the buffer sizes, the lines and offsets are those of a plain split.
        #[test]
        fn matches_a_plain_split(data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), Just(b'\r'), any::<u8>()], 0..400), read_size in 1usize..64) {
            let (lines, end) = read_all(&data, 1 << 20, read_size);
            let mut expected = Vec::new();
            let mut start = 0usize;
            for (i, &b) in data.iter().enumerate() {
                if b == b'\n' {
                    let mut line = &data[start..i];
                    if line.last() == Some(&b'\r') { line = &line[..line.len() - 1]; }
                    expected.push((String::from_utf8_lossy(line).into_owned(), start as u64, false));
                    start = i + 1;
                }
            }
            if start < data.len() {
                let mut line = &data[start..];
                if line.last() == Some(&b'\r') { line = &line[..line.len() - 1]; }
                expected.push((String::from_utf8_lossy(line).into_owned(), start as u64, false));
            }
            prop_assert_eq!(lines, expected);
            prop_assert_eq!(end, data.len() as u64);
        }
    }
}
