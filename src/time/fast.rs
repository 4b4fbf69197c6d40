//! Hand-written parsers for the timestamp shapes logs use most, so the hot path does not go
//! through chrono's generic `strftime` interpreter.
//!
//! [`FastFormat::detect`] recognises, at config load, a `strftime` format of the fixed-width shape
//! `%Y-%m-%d` + `T` or space + `%H:%M:%S`, with an optional fraction (`%.f`, `%.3f`, `%.6f`,
//! `%.9f`) and an optional zone (`Z`, `%z`, `%:z`). [`FastFormat::parse`] then reads the digits
//! directly. It accepts only the canonical spelling (every field at full width, nothing around
//! it) and answers `None` for anything else, in which case the caller falls back to chrono: the
//! fast path never rejects what chrono accepts, and never accepts what chrono would read
//! differently (a property test checks it). RFC 3339 needs no fast path: chrono's own parser for
//! it is already hand-written.
//!
//! Also here: the syslog (RFC 3164) `Nov 26 04:00:00` reader and epoch decimals (`unix`).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// How a fraction of a second is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fraction {
    /// No fraction in the format.
    None,
    /// `%.f`: optional, one or more digits (digits past the ninth are ignored).
    Any,
    /// `%.3f` and friends: optional, exactly this many digits.
    Fixed(usize),
}

/// How the zone is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zone {
    /// No zone: the configured timezone applies.
    None,
    /// A literal `Z`.
    Z,
    /// `%z` / `%:z`: `+HHMM` or `+HH:MM`.
    Offset,
}

/// A recognised fixed-width format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FastFormat {
    separator: u8,
    fraction: Fraction,
    zone: Zone,
}

/// A parsed local time and the offset written with it, in seconds east of UTC.
pub type Parsed = (NaiveDateTime, Option<i32>);

impl FastFormat {
    /// Recognises `format`, or returns `None` when the generic parser must handle it.
    pub fn detect(format: &str) -> Option<FastFormat> {
        let (separator, rest) = [
            ("%Y-%m-%dT%H:%M:%S", b'T'),
            ("%FT%T", b'T'),
            ("%Y-%m-%d %H:%M:%S", b' '),
            ("%F %T", b' '),
        ]
        .iter()
        .find_map(|(base, sep)| format.strip_prefix(base).map(|rest| (*sep, rest)))?;
        let (fraction, rest) = [
            ("%.f", Fraction::Any),
            ("%.3f", Fraction::Fixed(3)),
            ("%.6f", Fraction::Fixed(6)),
            ("%.9f", Fraction::Fixed(9)),
        ]
        .iter()
        .find_map(|(f, kind)| rest.strip_prefix(f).map(|r| (*kind, r)))
        .unwrap_or((Fraction::None, rest));
        let zone = match rest {
            "" => Zone::None,
            "Z" => Zone::Z,
            "%z" | "%:z" => Zone::Offset,
            _ => return None,
        };
        Some(FastFormat {
            separator,
            fraction,
            zone,
        })
    }

    /// True when the format carries its own offset (the configured timezone does not apply).
    pub fn has_offset(&self) -> bool {
        self.zone == Zone::Offset
    }

    /// Reads `s`; `None` means "not the canonical spelling: ask chrono".
    #[inline]
    pub fn parse(&self, s: &[u8]) -> Option<Parsed> {
        if s.len() < 19 || s[10] != self.separator {
            return None;
        }
        let sep_ok = s[4] == b'-' && s[7] == b'-' && s[13] == b':' && s[16] == b':';
        if !sep_ok {
            return None;
        }
        let year = digits(&s[0..4])?;
        let (month, day) = (digits(&s[5..7])?, digits(&s[8..10])?);
        let (hour, minute, second) = (
            digits(&s[11..13])?,
            digits(&s[14..16])?,
            digits(&s[17..19])?,
        );
        let mut pos = 19;
        let mut nanos = 0;
        if self.fraction != Fraction::None && s.get(pos) == Some(&b'.') {
            let run = s[pos + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let ok = match self.fraction {
                Fraction::Fixed(n) => run >= n,
                _ => run >= 1,
            };
            if !ok {
                return None;
            }
            let take = match self.fraction {
                Fraction::Fixed(n) => n,
                _ => run.min(9),
            };
            nanos = digits(&s[pos + 1..pos + 1 + take])? * 10u32.pow(9 - take as u32);
            pos += 1 + match self.fraction {
                Fraction::Fixed(n) => n,
                _ => run,
            };
        }
        let offset = match self.zone {
            Zone::None => None,
            Zone::Z => {
                if s.get(pos) != Some(&b'Z') {
                    return None;
                }
                pos += 1;
                None
            }
            Zone::Offset => {
                let (off, used) = offset(&s[pos..])?;
                pos += used;
                Some(off)
            }
        };
        if pos != s.len() || second >= 60 {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
        let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
        Some((NaiveDateTime::new(date, time), offset))
    }
}

/// The value of a run of ASCII digits (at most 9).
#[inline]
fn digits(b: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &d in b {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(d - b'0');
    }
    Some(n)
}

/// `+HHMM` or `+HH:MM` at the start of `s`: the offset in seconds and the bytes used.
fn offset(s: &[u8]) -> Option<(i32, usize)> {
    let sign = match s.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hh, mm, used) = match s.len() {
        5 => (&s[1..3], &s[3..5], 5),
        6 if s[3] == b':' => (&s[1..3], &s[4..6], 6),
        _ => return None,
    };
    let (h, m) = (digits(hh)?, digits(mm)?);
    if h > 23 || m > 59 {
        return None;
    }
    Some((sign * (h * 3600 + m * 60) as i32, used))
}

/// Reads a syslog (RFC 3164) time, `Nov 26 04:00:00` or `Nov  6 04:00:00`: month, day and time
/// of day (the year is not written).
pub fn parse_rfc3164(s: &[u8]) -> Option<(u32, u32, NaiveTime)> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    if s.len() != 15 || s[3] != b' ' || s[6] != b' ' || s[9] != b':' || s[12] != b':' {
        return None;
    }
    let month = MONTHS.iter().position(|m| m[..] == s[..3])? as u32 + 1;
    let day = match (s[4], s[5]) {
        (b' ', d) => digits(&[d])?,
        (a, b) => digits(&[a, b])?,
    };
    let time =
        NaiveTime::from_hms_opt(digits(&s[7..9])?, digits(&s[10..12])?, digits(&s[13..15])?)?;
    Some((month, day, time))
}

/// Reads a decimal `[-]digits[.digits]` as whole units and nanoseconds of a unit scaled by
/// `unit_nanos` (1e9 for seconds, 1e6 for milliseconds): returns (seconds, nanoseconds).
pub fn parse_epoch(s: &[u8], unit_nanos: u64) -> Option<(i64, u32)> {
    let (neg, s) = match s.first()? {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = match memchr::memchr(b'.', s) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &s[s.len()..]),
    };
    if int.is_empty() || int.len() > 18 || !int.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let whole: i64 = int.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'));
    // The fraction, in nanoseconds of the unit, then in plain nanoseconds.
    let mut frac_nanos: u64 = 0;
    for i in 0..9 {
        frac_nanos = frac_nanos * 10 + frac.get(i).map_or(0, |d| u64::from(d - b'0'));
    }
    let per_sec = 1_000_000_000 / unit_nanos as i64;
    let mut total_nanos = i128::from(whole % per_sec) * unit_nanos as i128
        + i128::from(frac_nanos) * unit_nanos as i128 / 1_000_000_000;
    let mut secs = whole / per_sec;
    if neg {
        secs = -secs;
        total_nanos = -total_nanos;
        if total_nanos < 0 {
            secs -= 1;
            total_nanos += 1_000_000_000;
        }
    }
    Some((secs, total_nanos as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, FixedOffset};
    use proptest::prelude::*;

    /// What chrono makes of `s` with `format`: a local time and an offset.
    fn chrono_parse(format: &str, s: &str) -> Option<Parsed> {
        if format.contains("%z") || format.contains("%:z") {
            DateTime::<FixedOffset>::parse_from_str(s, format)
                .ok()
                .map(|d| (d.naive_local(), Some(d.offset().local_minus_utc())))
        } else {
            NaiveDateTime::parse_from_str(s, format)
                .ok()
                .map(|d| (d, None))
        }
    }

    const FORMATS: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.3f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.6fZ",
        "%Y-%m-%d %H:%M:%S%.9f",
        "%Y-%m-%dT%H:%M:%S%.3f%z",
        "%FT%T%:z",
        "%F %T%.fZ",
    ];

    #[test]
    fn detects_only_known_shapes() {
        for f in FORMATS {
            assert!(FastFormat::detect(f).is_some(), "{f}");
        }
        for f in [
            "%d/%m/%Y %H:%M",
            "%Y-%m-%dT%H:%M:%S%.3f UTC",
            "%Y-%m-%dT%H:%M",
            "rfc3339",
        ] {
            assert!(FastFormat::detect(f).is_none(), "{f}");
        }
    }

    #[test]
    fn reads_common_lines() {
        let f = FastFormat::detect("%Y-%m-%dT%H:%M:%S%.3f").unwrap();
        let (t, off) = f.parse(b"2026-11-26T04:00:00.123").unwrap();
        assert_eq!(t.to_string(), "2026-11-26 04:00:00.123");
        assert_eq!(off, None);
        // The fraction is optional in chrono too.
        assert!(f.parse(b"2026-11-26T04:00:00").is_some());
        assert!(f.parse(b"2026-02-30T04:00:00.123").is_none());
        let z = FastFormat::detect("%Y-%m-%dT%H:%M:%S%z").unwrap();
        assert_eq!(z.parse(b"2026-11-26T04:00:00+0130").unwrap().1, Some(5400));
        assert_eq!(
            z.parse(b"2026-11-26T04:00:00-01:30").unwrap().1,
            Some(-5400)
        );
    }

    #[test]
    fn syslog_times() {
        let (m, d, t) = parse_rfc3164(b"Nov  6 04:00:09").unwrap();
        assert_eq!((m, d, t.to_string()), (11, 6, "04:00:09".to_owned()));
        assert_eq!(parse_rfc3164(b"Dec 31 23:59:59").unwrap().1, 31);
        assert!(parse_rfc3164(b"Foo 31 23:59:59").is_none());
        assert!(parse_rfc3164(b"Nov 26 24:00:00").is_none());
    }

    #[test]
    fn epochs() {
        assert_eq!(
            parse_epoch(b"1700000000", 1_000_000_000),
            Some((1_700_000_000, 0))
        );
        assert_eq!(
            parse_epoch(b"1700000000.25", 1_000_000_000),
            Some((1_700_000_000, 250_000_000))
        );
        assert_eq!(
            parse_epoch(b"1700000000123", 1_000_000),
            Some((1_700_000_000, 123_000_000))
        );
        assert_eq!(parse_epoch(b"1500.5", 1_000_000), Some((1, 500_500_000)));
        assert_eq!(parse_epoch(b"-1.5", 1_000_000_000), Some((-2, 500_000_000)));
        assert_eq!(parse_epoch(b"-1500", 1_000_000), Some((-2, 500_000_000)));
        for bad in [&b""[..], b"-", b"1e9", b"12a", b".5", b"1.2.3"] {
            assert_eq!(parse_epoch(bad, 1_000_000_000), None, "{bad:?}");
        }
    }

    /// Strings shaped like timestamps, with random damage: the fast path must agree with chrono
    /// on every string it accepts.
    fn near_timestamps() -> impl Strategy<Value = String> {
        let canonical = (
            0u32..10000,
            0u32..14,
            0u32..33,
            prop::sample::select(vec!["T", " ", "t"]),
            0u32..25,
            0u32..61,
            0u32..62,
            prop::option::of("\\.[0-9]{0,11}"),
            prop::sample::select(vec![
                "", "Z", "z", "+01:30", "-0200", "+2400", "+01", " UTC",
            ]),
        )
            .prop_map(|(y, mo, d, sep, h, mi, s, frac, zone)| {
                format!(
                    "{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{}{zone}",
                    frac.unwrap_or_default()
                )
            });
        prop_oneof![canonical, "[0-9T:. +Z-]{0,32}"]
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_chrono(s in near_timestamps(), fi in 0..FORMATS.len()) {
            let format = FORMATS[fi];
            let fast = FastFormat::detect(format).unwrap();
            if let Some(ours) = fast.parse(s.as_bytes()) {
                prop_assert_eq!(Some(ours), chrono_parse(format, &s), "{} with {}", s, format);
            }
        }

        #[test]
        fn fast_path_takes_every_canonical_line(ms in 0u32..1000, secs in 0i64..4_102_444_800) {
            let t = DateTime::from_timestamp(secs, ms * 1_000_000).unwrap().naive_utc();
            let s = t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
            let fast = FastFormat::detect("%Y-%m-%dT%H:%M:%S%.3f").unwrap();
            prop_assert_eq!(fast.parse(s.as_bytes()), Some((t, None)));
        }

        #[test]
        fn helpers_never_panic(s in prop::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_rfc3164(&s);
            let _ = parse_epoch(&s, 1_000_000);
            for f in FORMATS {
                let _ = FastFormat::detect(f).unwrap().parse(&s);
            }
        }
    }
}
