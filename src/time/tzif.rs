//! Reads a TZif file (RFC 8536), the binary form of an IANA time zone in a zoneinfo directory:
//! its transitions, the offset each brings, and the footer rule for the times after the last.
//!
//! Only what converting times needs is kept: instants and offsets (abbreviations and the
//! standard/UT indicators are skipped). Files with leap-second records (the `right/` tree) are
//! refused: their transition times count leap seconds, which an event's time does not.

use super::posix_tz::PosixTz;

/// A zone's offsets through time.
#[derive(Debug, Clone, PartialEq)]
pub struct Tzif {
    /// Instants (seconds since the epoch, UTC) at which the offset changes, ascending.
    pub transitions: Vec<i64>,
    /// The offset (seconds east of UTC) from each transition on.
    pub offsets: Vec<i32>,
    /// The offset before the first transition (local time type 0).
    pub initial: i32,
    /// The rule after the last transition, when the file has one.
    pub footer: Option<PosixTz>,
}

const HEADER: usize = 44;

/// The six counts of a header.
struct Counts {
    isut: usize,
    isstd: usize,
    leap: usize,
    time: usize,
    types: usize,
    chars: usize,
}

impl Counts {
    fn read(b: &[u8]) -> Result<Counts, String> {
        if b.len() < HEADER || &b[..4] != b"TZif" {
            return Err("not a TZif file".into());
        }
        let n = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        Ok(Counts {
            isut: n(20),
            isstd: n(24),
            leap: n(28),
            time: n(32),
            types: n(36),
            chars: n(40),
        })
    }

    /// Bytes of the data block that follows the header, with times of `time_size` bytes.
    fn data_len(&self, time_size: usize) -> usize {
        self.time * time_size
            + self.time
            + self.types * 6
            + self.chars
            + self.leap * (time_size + 4)
            + self.isstd
            + self.isut
    }
}

/// Parses the bytes of a TZif file.
pub fn parse(b: &[u8]) -> Result<Tzif, String> {
    let v1 = Counts::read(b)?;
    let version = b[4];
    if version == 0 {
        let data = b
            .get(HEADER..HEADER + v1.data_len(4))
            .ok_or("truncated file")?;
        return block(&v1, data, 4, None);
    }
    // Version 2 and later repeat everything with 64-bit times, then a footer.
    let second = HEADER + v1.data_len(4);
    let rest = b.get(second..).ok_or("truncated file")?;
    let v2 = Counts::read(rest)?;
    let len = v2.data_len(8);
    let data = rest.get(HEADER..HEADER + len).ok_or("truncated file")?;
    let footer = footer(&rest[HEADER + len..])?;
    block(&v2, data, 8, footer)
}

/// The footer: a TZ string between two newlines (empty: no rule).
fn footer(b: &[u8]) -> Result<Option<PosixTz>, String> {
    let inner = b
        .strip_prefix(b"\n")
        .and_then(|b| b.iter().position(|&c| c == b'\n').map(|end| &b[..end]))
        .ok_or("missing footer")?;
    if inner.is_empty() {
        return Ok(None);
    }
    let s = std::str::from_utf8(inner).map_err(|_| "footer is not text")?;
    PosixTz::parse(s).map(Some)
}

/// The data block: transition times, their types, and the types' offsets.
fn block(
    c: &Counts,
    data: &[u8],
    time_size: usize,
    footer: Option<PosixTz>,
) -> Result<Tzif, String> {
    if c.leap > 0 {
        return Err("the file counts leap seconds (a `right/` zone); use the zone of the same name outside `right/`".into());
    }
    if c.types == 0 {
        return Err("the file has no local time type".into());
    }
    let (times, rest) = data.split_at(c.time * time_size);
    let (indices, rest) = rest.split_at(c.time);
    let types = &rest[..c.types * 6];
    let offset_of = |i: usize| -> Result<i32, String> {
        let t = types
            .get(i * 6..i * 6 + 4)
            .ok_or("transition to an unknown type")?;
        let off = i32::from_be_bytes([t[0], t[1], t[2], t[3]]);
        if off == i32::MIN || !(-89_999..=93_599).contains(&off) {
            return Err(format!("offset {off} s is out of range"));
        }
        Ok(off)
    };
    let transitions: Vec<i64> = times
        .chunks_exact(time_size)
        .map(|t| match time_size {
            4 => i64::from(i32::from_be_bytes([t[0], t[1], t[2], t[3]])),
            _ => i64::from_be_bytes([t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]]),
        })
        .collect();
    if transitions.windows(2).any(|w| w[0] >= w[1]) {
        return Err("transition times are not in order".into());
    }
    let offsets = indices
        .iter()
        .map(|&i| offset_of(usize::from(i)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Tzif {
        transitions,
        offsets,
        initial: offset_of(0)?,
        footer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 2 file written by hand: `types` (offset, is_dst), `transitions` (time, type).
    fn tzif_v2(types: &[(i32, bool)], transitions: &[(i64, u8)], footer: &str) -> Vec<u8> {
        let header = |time: u32| {
            let mut h = b"TZif2".to_vec();
            h.extend([0u8; 15]);
            for n in [0, 0, 0, time, types.len() as u32, 4] {
                h.extend(n.to_be_bytes());
            }
            h
        };
        // The version 1 block is left empty of transitions, as `zic -b slim` does.
        let mut b = header(0);
        for (off, dst) in types {
            b.extend(off.to_be_bytes());
            b.extend([u8::from(*dst), 0]);
        }
        b.extend(b"ABC\0");
        b.extend(header(transitions.len() as u32));
        for (t, _) in transitions {
            b.extend(t.to_be_bytes());
        }
        b.extend(transitions.iter().map(|(_, i)| *i));
        for (off, dst) in types {
            b.extend(off.to_be_bytes());
            b.extend([u8::from(*dst), 0]);
        }
        b.extend(b"ABC\0");
        b.extend(format!("\n{footer}\n").bytes());
        b
    }

    #[test]
    fn reads_a_handmade_file() {
        let b = tzif_v2(
            &[(3600, false), (7200, true)],
            &[(100, 1), (200, 0)],
            "CET-1CEST,M3.5.0,M10.5.0/3",
        );
        let z = parse(&b).unwrap();
        assert_eq!(z.transitions, [100, 200]);
        assert_eq!(z.offsets, [7200, 3600]);
        assert_eq!(z.initial, 3600);
        assert!(z.footer.is_some());
        let empty_footer = tzif_v2(&[(0, false)], &[], "");
        assert_eq!(parse(&empty_footer).unwrap().footer, None);
    }

    #[test]
    fn refuses_damaged_files() {
        let good = tzif_v2(&[(3600, false)], &[(100, 0)], "CET-1");
        assert!(parse(&good).is_ok());
        assert!(parse(b"TZif").is_err());
        assert!(parse(b"not a zone file at all, but long enough to have a header").is_err());
        for cut in [10, 50, good.len() - 3] {
            assert!(parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        let bad_index = tzif_v2(&[(3600, false)], &[(100, 5)], "CET-1");
        assert!(parse(&bad_index).is_err());
        let unordered = tzif_v2(&[(3600, false)], &[(200, 0), (100, 0)], "CET-1");
        assert!(parse(&unordered).is_err());
        let huge = tzif_v2(&[(100_000, false)], &[], "");
        assert!(parse(&huge).is_err());
    }

    #[test]
    fn reads_the_system_database_when_present() {
        // Checked in depth by the zone tests; here only that every file of a real tree parses.
        // The tests need tzdata installed (.ci/run installs it).
        let entries = std::fs::read_dir("/usr/share/zoneinfo/Europe").unwrap();
        let mut files = 0;
        for e in entries.flatten() {
            files += 1;
            let bytes = std::fs::read(e.path()).unwrap();
            assert!(parse(&bytes).is_ok(), "{}", e.path().display());
        }
        assert!(
            files > 30,
            "only {files} zones in /usr/share/zoneinfo/Europe"
        );
    }
}
