//! Reads a time with a compiled [`FluentBitFormat`]: the directives' rules are in
//! [`super::strptime`]. Nothing here allocates.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use super::abbrev;
use super::strptime::{Field, FluentBitFormat, Tok};
use super::yearless::{self, Fill, Missing, Now};
use super::zone::{instant, Timezone};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// C's `isspace`: space, tab, newline, vertical tab, form feed, carriage return.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The fields a format has read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tm {
    year: Option<i32>,
    /// `%y`: resolved with `%C`, or around 1969, once everything is read.
    year2: Option<i32>,
    century: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    /// Day of the year, from 0.
    yday: Option<u32>,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Seconds east of UTC, from `%z` or `%Z`.
    offset: Option<i32>,
    /// Read from `%s`: an instant, whatever the zone.
    epoch: bool,
}

impl FluentBitFormat {
    /// Reads `s`. A time without an offset is read in `zone`; `now` fills what the format
    /// leaves out.
    pub fn read(&self, s: &[u8], zone: &Timezone, now: Now) -> Option<DateTime<Utc>> {
        let tm = self.scan(s)?;
        match self.missing {
            Missing::Nothing => tm.instant(None, self.has_zone, zone),
            missing => yearless::resolve(missing, now, zone, |fill| {
                tm.instant(Some(fill), self.has_zone, zone)
            }),
        }
    }

    /// Matches `s` against the format; text after it is ignored.
    pub(super) fn scan(&self, s: &[u8]) -> Option<Tm> {
        let mut tm = Tm::default();
        let mut pos = 0;
        for step in &self.steps {
            if step.guard && pos >= s.len() {
                return None;
            }
            match step.tok {
                Tok::Space => {
                    while s.get(pos).is_some_and(|&b| is_space(b)) {
                        pos += 1;
                    }
                }
                Tok::OptionalSpace => pos += usize::from(s.get(pos).is_some_and(|&b| is_space(b))),
                Tok::Lit(c) => {
                    if s.get(pos) != Some(&c) {
                        return None;
                    }
                    pos += 1;
                }
                Tok::Num { field, min, max } => {
                    let v = number(s, &mut pos, min, max)?;
                    tm.set(field, v);
                }
                Tok::WeekdayName => pos += name(&s[pos..], &WEEKDAYS)?.1,
                Tok::MonthName => {
                    let (i, len) = name(&s[pos..], &MONTHS)?;
                    tm.month = Some(i as u32 + 1);
                    pos += len;
                }
                Tok::AmPm => {
                    tm.am_pm(&s[pos..])?;
                    pos += 2;
                }
                Tok::Epoch => tm.epoch(epoch(s, &mut pos)?)?,
                Tok::IsoYear => {
                    pos += 1;
                    while s.get(pos).is_some_and(u8::is_ascii_digit) {
                        pos += 1;
                    }
                }
                Tok::Offset => tm.offset = Some(offset(s, &mut pos)?),
                Tok::ZoneName => {
                    let (off, len) = zone_name(&s[pos..])?;
                    tm.offset = Some(off);
                    pos += len;
                }
                Tok::Fraction => tm.nanos = fraction(s, &mut pos)?,
            }
        }
        Some(tm)
    }
}

impl Tm {
    fn set(&mut self, field: Field, v: u32) {
        match field {
            Field::Century => self.century = Some(v as i32),
            Field::Day => self.day = Some(v),
            Field::Hour | Field::Hour12 => self.hour = v,
            Field::Yday => self.yday = Some(v - 1),
            Field::Minute => self.minute = v,
            Field::Month => self.month = Some(v),
            Field::Second => self.second = v,
            Field::Year => {
                self.year = Some(v as i32);
                self.year2 = None;
            }
            Field::Year2 => self.year2 = Some(v as i32),
            Field::Weekday | Field::Ignored => {}
        }
    }

    /// `%p` applies to the hour read so far.
    fn am_pm(&mut self, s: &[u8]) -> Option<()> {
        let word = s.get(..2)?;
        if self.hour > 12 {
            return None;
        }
        if word.eq_ignore_ascii_case(b"AM") {
            if self.hour == 12 {
                self.hour = 0;
            }
        } else if word.eq_ignore_ascii_case(b"PM") {
            if self.hour < 12 {
                self.hour += 12;
            }
        } else {
            return None;
        }
        Some(())
    }

    /// `%s` sets every field from the instant, in UTC.
    fn epoch(&mut self, secs: i64) -> Option<()> {
        let t = DateTime::from_timestamp(secs, 0)?;
        self.year = Some(t.year());
        self.year2 = None;
        self.month = Some(t.month());
        self.day = Some(t.day());
        self.yday = None;
        self.hour = t.hour();
        self.minute = t.minute();
        self.second = t.second();
        self.epoch = true;
        Some(())
    }

    /// The year, with `%y` resolved last as Fluent Bit does: after `%C` as its century, else
    /// 69-99 as 19xx and 00-68 as 20xx.
    fn year(&self) -> Option<i32> {
        match (self.year2, self.century) {
            (Some(y), Some(c)) => Some(c * 100 + y),
            (Some(y), None) if y <= 68 => Some(2000 + y),
            (Some(y), None) => Some(1900 + y),
            (None, _) => self.year,
        }
    }

    /// The instant, with `fill` for what the format left out. Days and seconds past the end
    /// of their month or minute roll over, as C's `timegm` does.
    fn instant(
        &self,
        fill: Option<Fill>,
        has_zone: bool,
        zone: &Timezone,
    ) -> Option<DateTime<Utc>> {
        let (mut year, mut month, mut day) = (self.year(), self.month, self.day);
        match fill {
            Some(Fill::Year(y)) => year = Some(y),
            Some(Fill::Date(d)) => {
                (year, month, day) = (Some(d.year()), Some(d.month()), Some(d.day()))
            }
            None => {}
        }
        let year = year?;
        let days = match (month, day, self.yday) {
            (Some(m), Some(d), _) => days_since_epoch(year, m)? + i64::from(d) - 1,
            (_, _, Some(yd)) => days_since_epoch(year, 1)? + i64::from(yd),
            _ => return None,
        };
        let local = days * 86400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        let utc = if self.epoch {
            local
        } else if has_zone {
            local - i64::from(self.offset.unwrap_or(0))
        } else {
            zone.local_to_utc(local)
        };
        instant(utc, self.nanos)
    }
}

/// Days from 1970-01-01 to the first day of `month` in `year`.
fn days_since_epoch(year: i32, month: u32) -> Option<i64> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    Some(i64::from(first.num_days_from_ce()) - 719_163)
}

/// A number of at most as many digits as `max` has, stopping early when one more digit would
/// pass `max`, then checked against `min..=max`.
fn number(s: &[u8], pos: &mut usize, min: u32, max: u32) -> Option<u32> {
    if !s.get(*pos)?.is_ascii_digit() {
        return None;
    }
    let (mut n, mut room) = (0u32, max);
    loop {
        n = n * 10 + u32::from(s[*pos] - b'0');
        *pos += 1;
        room /= 10;
        let more = n * 10 <= max && room != 0 && s.get(*pos).is_some_and(u8::is_ascii_digit);
        if !more {
            break;
        }
    }
    (min..=max).contains(&n).then_some(n)
}

/// `%s`: seconds since the epoch, refused from 922337203685477580 on (Fluent Bit's guard
/// against overflow).
fn epoch(s: &[u8], pos: &mut usize) -> Option<i64> {
    const LIMIT: i64 = 922_337_203_685_477_580;
    if !s.get(*pos)?.is_ascii_digit() {
        return None;
    }
    let mut n: i64 = 0;
    while let Some(d) = s.get(*pos).filter(|b| b.is_ascii_digit()) {
        n = n * 10 + i64::from(d - b'0');
        *pos += 1;
        if n >= LIMIT {
            return None;
        }
    }
    Some(n)
}

/// A full or abbreviated English name of `names` at the start of `s`, in any case: its index
/// and length.
fn name(s: &[u8], names: &[&str]) -> Option<(usize, usize)> {
    let starts = |w: &[u8]| s.len() >= w.len() && s[..w.len()].eq_ignore_ascii_case(w);
    names.iter().enumerate().find_map(|(i, full)| {
        let full = full.as_bytes();
        if starts(full) {
            Some((i, full.len()))
        } else {
            starts(&full[..3]).then_some((i, 3))
        }
    })
}

/// `%z`: whitespace, then `Z`, `UT`, `UTC`, `GMT`, `+hh`, `+hhmm`, `+hh:mm` or a North
/// American abbreviation (`EST`, `EDT`, ... `PDT`). Seconds east of UTC.
fn offset(s: &[u8], pos: &mut usize) -> Option<i32> {
    while s.get(*pos).is_some_and(|&b| is_space(b)) {
        *pos += 1;
    }
    let rest = &s[*pos..];
    let (off, used) = match *rest.first()? {
        b'Z' => (0, 1),
        b'G' if rest.starts_with(b"GMT") => (0, 3),
        b'U' if rest.starts_with(b"UTC") => (0, 3),
        b'U' if rest.starts_with(b"UT") => (0, 2),
        b'G' | b'U' => return None,
        sign @ (b'+' | b'-') => {
            let d = |i: usize| {
                rest.get(i)
                    .filter(|b| b.is_ascii_digit())
                    .map(|b| i32::from(b - b'0'))
            };
            let mut secs = (d(1)? * 10 + d(2)?) * 3600;
            let mut used = 3;
            if rest.get(used) == Some(&b':') {
                used += 1;
            }
            if let Some(tens) = d(used) {
                secs += (tens * 10 + d(used + 1)?) * 60;
                used += 2;
            }
            (if sign == b'-' { -secs } else { secs }, used)
        }
        _ => {
            let word = rest.get(..3)?;
            let i = ["EST", "CST", "MST", "PST", "EDT", "CDT", "MDT", "PDT"]
                .iter()
                .position(|n| word.eq_ignore_ascii_case(n.as_bytes()))?;
            // EST -5 h, CST -6 h ... ; EDT -4 h, CDT -5 h ...
            let hours = if i < 4 {
                -5 - i as i32
            } else {
                -4 - (i as i32 - 4)
            };
            (hours * 3600, 3)
        }
    };
    *pos += used;
    Some(off)
}

/// `%Z`: a known abbreviation, else `GMT` or `UTC` as written.
fn zone_name(s: &[u8]) -> Option<(i32, usize)> {
    abbrev::lookup(s).or_else(|| (s.starts_with(b"GMT") || s.starts_with(b"UTC")).then_some((0, 3)))
}

/// `%L`: 1 to 9 digits of a second, in nanoseconds; digits past the ninth are left unread.
fn fraction(s: &[u8], pos: &mut usize) -> Option<u32> {
    let digits = s[*pos..]
        .iter()
        .take(9)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let n = s[*pos..*pos + digits]
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    *pos += digits;
    Some(n * 10u32.pow(9 - digits as u32))
}

#[cfg(test)]
#[path = "strptime_tests.rs"]
mod tests;
