//! Time zones for times written without an offset: `UTC`, a fixed offset (`+02:00`, `-0530`,
//! `+09`), an IANA name (`Europe/Paris`), or `local` (the process's zone: `TZ`, else
//! `/etc/localtime`, else UTC).
//!
//! IANA zones are read at config load from the zoneinfo files (`$TZDIR`, default
//! `/usr/share/zoneinfo`; the skiff image ships the tree), so the binary carries no database.
//! A zone that is missing is a config error naming the zone and the directory.
//!
//! A local time that a daylight-saving change makes ambiguous (it happens twice) or skips (it
//! never happens) is read with the offset in force just before the change: `01:30` on the
//! night clocks go back is the first `01:30`, the summer one; `02:30` on the night they go
//! forward is read as standard time, which is `03:30` summer time. Fluent Bit reads a skipped
//! time the same way, and picks a repeated hour by the order of the zone file's offsets;
//! Vector refuses both (a parse error).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};

use super::posix_tz::PosixTz;
use super::tzif::{self, Tzif};

/// The default zoneinfo directory, when `TZDIR` is not set.
pub const DEFAULT_TZDIR: &str = "/usr/share/zoneinfo";

/// A zone with daylight saving time or a history of offsets.
pub struct Zone {
    name: String,
    transitions: Vec<i64>,
    offsets: Vec<i32>,
    initial: i32,
    footer: Option<PosixTz>,
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name)
    }
}

/// Widest offsets a TZif file may hold (RFC 8536), with a second of margin.
const MAX_EAST: i64 = 93_600;
const MAX_WEST: i64 = 90_000;

impl Zone {
    fn from_tzif(name: String, t: Tzif) -> Zone {
        Zone {
            name,
            transitions: t.transitions,
            offsets: t.offsets,
            initial: t.initial,
            footer: t.footer,
        }
    }

    fn from_rule(name: String, rule: PosixTz) -> Zone {
        Zone {
            name,
            transitions: Vec::new(),
            offsets: Vec::new(),
            initial: rule.offset_at(0),
            footer: Some(rule),
        }
    }

    /// The zone's name as configured.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The offset (seconds east of UTC) in force at instant `t`.
    pub fn offset_at(&self, t: i64) -> i32 {
        let i = self.transitions.partition_point(|&x| x <= t);
        match (&self.footer, i) {
            (Some(rule), _) if i == self.transitions.len() => rule.offset_at(t),
            (_, 0) => self.initial,
            _ => self.offsets[i - 1],
        }
    }

    /// Calls `push` with every change of offset in `(from, to]`, in order.
    fn transitions(&self, from: i64, to: i64, mut push: impl FnMut(i64, i32)) {
        let mut i = self.transitions.partition_point(|&x| x <= from);
        while let Some(&at) = self.transitions.get(i).filter(|&&at| at <= to) {
            push(at, self.offsets[i]);
            i += 1;
        }
        if let Some(rule) = &self.footer {
            let after = self.transitions.last().map_or(from, |&l| l.max(from));
            rule.transitions(after, to, push);
        }
    }

    /// The instant of local time `local` (seconds since the epoch as if the zone were UTC),
    /// with the rule of the module doc for ambiguous and skipped times.
    pub fn local_to_utc(&self, local: i64) -> i64 {
        let from = local - MAX_EAST;
        // The offset at `from`, then each change until `local + MAX_WEST`: every instant
        // that can show `local` lies in one of these stretches.
        let mut segs = [(i64::MIN, self.offset_at(from)); 16];
        let mut n = 1;
        self.transitions(from, local + MAX_WEST, |at, off| {
            if n < segs.len() {
                segs[n] = (at, off);
                n += 1;
            }
        });
        let segs = &segs[..n];
        let end_of = |i: usize| segs.get(i + 1).map_or(i64::MAX, |s| s.0);
        // The earliest instant showing `local`: the first stretch it falls in.
        for (i, &(start, off)) in segs.iter().enumerate() {
            let t = local - i64::from(off);
            if t >= start && t < end_of(i) {
                return t;
            }
        }
        // A skipped time: read with the offset before the change that skipped it.
        for w in segs.windows(2) {
            let (before, (at, after)) = (w[0].1, w[1]);
            if local - i64::from(before) >= at && local - i64::from(after) < at {
                return local - i64::from(before);
            }
        }
        local - i64::from(segs[0].1)
    }
}

/// Where a time written without an offset is read.
#[derive(Debug, Clone)]
pub enum Timezone {
    Utc,
    /// Seconds east of UTC.
    Fixed(i32),
    /// An IANA zone or the process's zone, loaded at config time.
    Zone(Arc<Zone>),
}

impl PartialEq for Timezone {
    fn eq(&self, other: &Timezone) -> bool {
        match (self, other) {
            (Timezone::Utc, Timezone::Utc) => true,
            (Timezone::Fixed(a), Timezone::Fixed(b)) => a == b,
            (Timezone::Zone(a), Timezone::Zone(b)) => a.name == b.name,
            _ => false,
        }
    }
}

/// Where zones are looked up: the zoneinfo directory and the `TZ` variable.
#[derive(Debug, Clone)]
pub struct ZoneLookup {
    /// The zoneinfo directory.
    pub tzdir: PathBuf,
    /// The `TZ` variable, for `local`.
    pub tz: Option<String>,
    /// The zone file used for `local` when `TZ` is not set.
    pub localtime: PathBuf,
}

impl ZoneLookup {
    /// The process's environment: `TZDIR` (default `/usr/share/zoneinfo`), `TZ`,
    /// `/etc/localtime`.
    pub fn from_env() -> ZoneLookup {
        ZoneLookup {
            tzdir: std::env::var_os("TZDIR")
                .filter(|d| !d.is_empty())
                .map_or_else(|| PathBuf::from(DEFAULT_TZDIR), PathBuf::from),
            tz: std::env::var("TZ").ok(),
            localtime: PathBuf::from("/etc/localtime"),
        }
    }
}

impl Timezone {
    /// Parses a `timezone` setting with the process's environment.
    pub fn parse(s: &str) -> Result<Timezone, String> {
        Timezone::parse_with(s, &ZoneLookup::from_env())
    }

    /// Parses `UTC`, `local`, a fixed offset, or an IANA name looked up in `lookup`.
    pub fn parse_with(s: &str, lookup: &ZoneLookup) -> Result<Timezone, String> {
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return Ok(Timezone::Utc);
        }
        if s.eq_ignore_ascii_case("local") {
            return local(lookup);
        }
        if s.starts_with(['+', '-']) {
            return parse_offset(s).map(Timezone::Fixed);
        }
        if !valid_name(s) {
            return Err(format!(
                "invalid timezone `{s}`: expected `UTC`, `local`, an offset such as `+02:00`, or an IANA zone name such as `Europe/Paris`"
            ));
        }
        let path = lookup.tzdir.join(s);
        if !path.is_file() {
            return Err(format!(
                "unknown time zone `{s}`: there is no file {} (zones are read from $TZDIR, default {DEFAULT_TZDIR}; the skiff image ships them, elsewhere install tzdata)",
                path.display()
            ));
        }
        load(s, &path).map(|z| Timezone::Zone(Arc::new(z)))
    }

    /// The offset in force at `now`.
    pub fn offset_at(&self, now: i64) -> i32 {
        match self {
            Timezone::Utc => 0,
            Timezone::Fixed(off) => *off,
            Timezone::Zone(z) => z.offset_at(now),
        }
    }

    /// The instant of a local time (seconds since the epoch as if the zone were UTC).
    pub fn local_to_utc(&self, local: i64) -> i64 {
        match self {
            Timezone::Utc => local,
            Timezone::Fixed(off) => local - i64::from(*off),
            Timezone::Zone(z) => z.local_to_utc(local),
        }
    }

    /// The instant of a local time in this zone.
    #[inline]
    pub fn to_utc(&self, t: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            // The hot path of the common formats: no conversion through seconds.
            Timezone::Utc => Some(t.and_utc()),
            Timezone::Fixed(off) => minus_offset(t, *off),
            Timezone::Zone(z) => {
                let t = t.and_utc();
                instant(z.local_to_utc(t.timestamp()), t.timestamp_subsec_nanos())
            }
        }
    }

    /// The date in this zone at `now`.
    pub fn today(&self, now: DateTime<Utc>) -> Option<NaiveDate> {
        let local = now.timestamp() + i64::from(self.offset_at(now.timestamp()));
        DateTime::from_timestamp(local, 0).map(|d| d.date_naive())
    }
}

/// An instant from seconds and nanoseconds; nanoseconds past a second (chrono's leap second)
/// stay a leap second where chrono can hold one, and carry into the next second elsewhere.
pub fn instant(secs: i64, nanos: u32) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, nanos).or_else(|| {
        (nanos >= 1_000_000_000)
            .then(|| DateTime::from_timestamp(secs + 1, nanos - 1_000_000_000))
            .flatten()
    })
}

/// The instant of local time `t` written with offset `off` (seconds east of UTC).
#[inline]
pub fn minus_offset(t: NaiveDateTime, off: i32) -> Option<DateTime<Utc>> {
    t.checked_sub_signed(TimeDelta::seconds(i64::from(off)))
        .map(|t| t.and_utc())
}

/// A fixed offset: `+hh:mm`, `+hhmm` or `+hh` (or `-`), at most 23:59. Returns seconds east
/// of UTC. This is what Fluent Bit's `Time_Offset` takes (besides `Z`).
pub fn parse_offset(s: &str) -> Result<i32, String> {
    let bad = || format!("invalid offset `{s}`: expected `+HH:MM`, `+HHMM` or `+HH`");
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = match rest.len() {
        2 => (rest, "00"),
        4 => rest.split_at(2),
        5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
        _ => return Err(bad()),
    };
    let num = |d: &str| {
        d.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| d.parse::<i32>().ok())
            .flatten()
    };
    match (num(h), num(m)) {
        (Some(h), Some(m)) if h < 24 && m < 60 => Ok(sign * (h * 3600 + m * 60)),
        _ => Err(bad()),
    }
}

/// An IANA-style name: letters, digits, `_`, `-`, `+`, in `/`-separated parts, none of them
/// `.` or `..`.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-+.".contains(&b))
        })
}

/// Reads and parses a zone file.
fn load(name: &str, path: &Path) -> Result<Zone, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "cannot read time zone `{name}` from {}: {e}",
            path.display()
        )
    })?;
    let t = tzif::parse(&bytes).map_err(|e| {
        format!(
            "cannot read time zone `{name}` from {}: {e}",
            path.display()
        )
    })?;
    Ok(Zone::from_tzif(name.to_owned(), t))
}

/// The process's zone: `TZ` (a file, a zone name, or a POSIX rule), else `/etc/localtime`,
/// else UTC.
fn local(lookup: &ZoneLookup) -> Result<Timezone, String> {
    let zone = |z: Zone| Ok(Timezone::Zone(Arc::new(z)));
    let Some(tz) = lookup.tz.as_deref() else {
        return match std::fs::read(&lookup.localtime) {
            Ok(bytes) => match tzif::parse(&bytes) {
                Ok(t) => zone(Zone::from_tzif("local".into(), t)),
                Err(e) => Err(format!("cannot read {}: {e}", lookup.localtime.display())),
            },
            Err(_) => Ok(Timezone::Utc),
        };
    };
    let name = tz.strip_prefix(':').unwrap_or(tz);
    if name.is_empty() {
        return Ok(Timezone::Utc);
    }
    let path = if name.starts_with('/') {
        Some(PathBuf::from(name))
    } else {
        valid_name(name).then(|| lookup.tzdir.join(name))
    };
    match path.filter(|p| p.is_file()) {
        Some(p) => load(name, &p).and_then(|z| zone(Zone { name: format!("local ({name})"), ..z })),
        None => match PosixTz::parse(name) {
            Ok(rule) => zone(Zone::from_rule(format!("local ({name})"), rule)),
            Err(_) => Err(format!(
                "timezone `local`: TZ=`{tz}` is neither a zone in {} nor a POSIX rule such as `CET-1CEST,M3.5.0,M10.5.0/3`",
                lookup.tzdir.display()
            )),
        },
    }
}

#[cfg(test)]
#[path = "zone_tests.rs"]
mod tests;
