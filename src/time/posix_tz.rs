//! POSIX TZ rules such as `CET-1CEST,M3.5.0,M10.5.0/3`: the footer of a TZif file, which gives
//! a zone's offsets after the last transition the file lists, and the syntax of the `TZ`
//! variable when it names no file.
//!
//! Offsets here are seconds east of UTC (the TZ string writes them west of UTC, `CET-1` is
//! UTC+1). A rule names the day daylight saving time starts and ends (`Jn`: day n of 1..=365,
//! February 29 never counted; `n`: day n of 0..=365; `Mm.w.d`: weekday d of week w of month m,
//! week 5 being the last) and the local time of the change (default 02:00, which may be
//! negative or past 24:00, as RFC 8536 allows).

use chrono::{Datelike, NaiveDate};

/// When daylight saving time starts or ends in a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleDay {
    /// `Jn`: 1..=365, February 29 is never counted.
    Julian1(u16),
    /// `n`: 0..=365, counting February 29 in leap years.
    Julian0(u16),
    /// `Mm.w.d`: month 1..=12, week 1..=5 (5 = last), weekday 0..=6 (0 = Sunday).
    MonthWeek { month: u8, week: u8, weekday: u8 },
}

/// Daylight saving time: its offset and when it starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dst {
    offset: i32,
    start: RuleDay,
    /// Local time of the start, in standard time, seconds after midnight.
    start_time: i32,
    end: RuleDay,
    /// Local time of the end, in daylight saving time, seconds after midnight.
    end_time: i32,
}

/// A parsed POSIX TZ rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosixTz {
    std_offset: i32,
    dst: Option<Dst>,
}

/// The rule of the United States since 2007, POSIX's usual default when a TZ string names a
/// daylight saving zone without saying when it applies.
const DEFAULT_START: RuleDay = RuleDay::MonthWeek {
    month: 3,
    week: 2,
    weekday: 0,
};
const DEFAULT_END: RuleDay = RuleDay::MonthWeek {
    month: 11,
    week: 1,
    weekday: 0,
};

impl PosixTz {
    /// Parses a TZ string.
    pub fn parse(s: &str) -> Result<PosixTz, String> {
        let mut r = Reader {
            s: s.as_bytes(),
            pos: 0,
        };
        let bad = |what: &str| format!("invalid TZ rule `{s}`: {what}");
        r.name()
            .ok_or_else(|| bad("expected a zone abbreviation"))?;
        let std_offset = -r
            .hms(24)
            .ok_or_else(|| bad("expected an offset after the name"))?;
        if r.done() {
            return Ok(PosixTz {
                std_offset,
                dst: None,
            });
        }
        r.name()
            .ok_or_else(|| bad("expected a daylight saving abbreviation"))?;
        let offset = match r.peek() {
            Some(b'+' | b'-' | b'0'..=b'9') => -r
                .hms(24)
                .ok_or_else(|| bad("invalid daylight saving offset"))?,
            _ => std_offset + 3600,
        };
        let ((start, start_time), (end, end_time)) = if r.eat(b',') {
            let start = r.rule().ok_or_else(|| bad("invalid start rule"))?;
            if !r.eat(b',') {
                return Err(bad("expected `,` and an end rule"));
            }
            let end = r.rule().ok_or_else(|| bad("invalid end rule"))?;
            (start, end)
        } else {
            ((DEFAULT_START, 7200), (DEFAULT_END, 7200))
        };
        if !r.done() {
            return Err(bad("unexpected text at the end"));
        }
        Ok(PosixTz {
            std_offset,
            dst: Some(Dst {
                offset,
                start,
                start_time,
                end,
                end_time,
            }),
        })
    }

    /// The offset in force at `t` (seconds since the epoch, UTC).
    pub fn offset_at(&self, t: i64) -> i32 {
        let Some(dst) = self.dst else {
            return self.std_offset;
        };
        let year = year_of(t);
        let mut last: Option<(i64, i32)> = None;
        for y in year - 1..=year + 1 {
            for (at, off) in self.transitions_in(y, &dst) {
                if at <= t && last.is_none_or(|(l, _)| at >= l) {
                    last = Some((at, off));
                }
            }
        }
        last.map_or(self.std_offset, |(_, off)| off)
    }

    /// Calls `push` with every change of offset in `(from, to]`, in order.
    pub fn transitions(&self, from: i64, to: i64, mut push: impl FnMut(i64, i32)) {
        let Some(dst) = self.dst else {
            return;
        };
        // A rule time may pass midnight of December 31st: sort the years' changes together.
        let mut all: Vec<(i64, i32)> = (year_of(from) - 1..=year_of(to) + 1)
            .flat_map(|y| self.transitions_in(y, &dst))
            .filter(|(at, _)| *at > from && *at <= to)
            .collect();
        all.sort_unstable_by_key(|(at, _)| *at);
        for (at, off) in all {
            push(at, off);
        }
    }

    /// The start and the end of daylight saving time in `year`, as instants with the offset
    /// each brings.
    fn transitions_in(&self, year: i32, dst: &Dst) -> [(i64, i32); 2] {
        let start = day_of(year, dst.start) * 86400 + i64::from(dst.start_time)
            - i64::from(self.std_offset);
        let end = day_of(year, dst.end) * 86400 + i64::from(dst.end_time) - i64::from(dst.offset);
        [(start, dst.offset), (end, self.std_offset)]
    }
}

/// The calendar year (UTC) holding `t`.
fn year_of(t: i64) -> i32 {
    let days = t.div_euclid(86400);
    // Beyond chrono's range the year no longer matters for a rule: clamp.
    let days = days.clamp(-100_000_000, 100_000_000) as i32;
    NaiveDate::from_num_days_from_ce_opt(days + EPOCH_DAYS_FROM_CE)
        .map_or(if t < 0 { -262_000 } else { 262_000 }, |d| d.year())
}

/// Days from 0001-01-01 (day 1) to 1970-01-01.
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Days since the epoch of the first day of `month` in `year`.
fn days_of(year: i32, month: u32, day: u32) -> i64 {
    NaiveDate::from_ymd_opt(year, month, day).map_or(0, |d| {
        i64::from(d.num_days_from_ce()) - i64::from(EPOCH_DAYS_FROM_CE)
    })
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days since the epoch of the day a rule names in `year`.
fn day_of(year: i32, rule: RuleDay) -> i64 {
    let jan1 = days_of(year, 1, 1);
    match rule {
        RuleDay::Julian1(n) => {
            let n = i64::from(n) - 1;
            jan1 + n + i64::from(is_leap(year) && n >= 59)
        }
        RuleDay::Julian0(n) => jan1 + i64::from(n),
        RuleDay::MonthWeek {
            month,
            week,
            weekday,
        } => {
            let first = days_of(year, u32::from(month), 1);
            // 1970-01-01 was a Thursday (4).
            let first_weekday = (first + 4).rem_euclid(7);
            let mut day = first + (i64::from(weekday) - first_weekday).rem_euclid(7);
            day += 7 * (i64::from(week) - 1);
            let next_month = if month == 12 {
                days_of(year + 1, 1, 1)
            } else {
                days_of(year, u32::from(month) + 1, 1)
            };
            while day >= next_month {
                day -= 7;
            }
            day
        }
    }
}

/// A cursor over a TZ string.
struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn done(&self) -> bool {
        self.pos == self.s.len()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    /// An abbreviation: three or more letters, or `<...>` (which may hold digits and signs).
    fn name(&mut self) -> Option<()> {
        if self.eat(b'<') {
            let len = self.s[self.pos..].iter().position(|&b| b == b'>')?;
            self.pos += len + 1;
            return (len >= 3).then_some(());
        }
        let len = self.s[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        self.pos += len;
        (len >= 3).then_some(())
    }

    /// A number of at most `max_digits` digits.
    fn number(&mut self, max_digits: usize) -> Option<u32> {
        let len = self.s[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if len == 0 || len > max_digits {
            return None;
        }
        let n = self.s[self.pos..self.pos + len]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        self.pos += len;
        Some(n)
    }

    /// `[+-]hh[:mm[:ss]]` in seconds, hours at most `max_hours`.
    fn hms(&mut self, max_hours: u32) -> Option<i32> {
        let sign = if self.eat(b'-') {
            -1
        } else {
            self.eat(b'+');
            1
        };
        let h = self.number(3)?;
        let m = if self.eat(b':') { self.number(2)? } else { 0 };
        let s = if self.eat(b':') { self.number(2)? } else { 0 };
        (h <= max_hours && m < 60 && s < 60).then(|| sign * (h * 3600 + m * 60 + s) as i32)
    }

    /// A rule day and its optional `/time`.
    fn rule(&mut self) -> Option<(RuleDay, i32)> {
        let day = if self.eat(b'J') {
            let n = self.number(3)?;
            (1..=365)
                .contains(&n)
                .then_some(RuleDay::Julian1(n as u16))?
        } else if self.eat(b'M') {
            let month = self.number(2)?;
            let week = self.eat(b'.').then(|| self.number(1))??;
            let weekday = self.eat(b'.').then(|| self.number(1))??;
            let ok = (1..=12).contains(&month) && (1..=5).contains(&week) && weekday <= 6;
            ok.then_some(RuleDay::MonthWeek {
                month: month as u8,
                week: week as u8,
                weekday: weekday as u8,
            })?
        } else {
            let n = self.number(3)?;
            (n <= 365).then_some(RuleDay::Julian0(n as u16))?
        };
        let time = if self.eat(b'/') { self.hms(167)? } else { 7200 };
        Some((day, time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn fixed_zones() {
        let utc = PosixTz::parse("UTC0").unwrap();
        assert_eq!(utc.offset_at(0), 0);
        let plus3 = PosixTz::parse("<+03>-3").unwrap();
        assert_eq!(plus3.offset_at(at("2026-06-01T00:00:00Z")), 3 * 3600);
        let india = PosixTz::parse("IST-5:30").unwrap();
        assert_eq!(india.offset_at(0), 5 * 3600 + 1800);
    }

    #[test]
    fn european_rule() {
        let cet = PosixTz::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // 2026: summer time from March 29 01:00 UTC to October 25 01:00 UTC.
        assert_eq!(cet.offset_at(at("2026-03-29T00:59:59Z")), 3600);
        assert_eq!(cet.offset_at(at("2026-03-29T01:00:00Z")), 7200);
        assert_eq!(cet.offset_at(at("2026-10-25T00:59:59Z")), 7200);
        assert_eq!(cet.offset_at(at("2026-10-25T01:00:00Z")), 3600);
        let mut out = Vec::new();
        cet.transitions(
            at("2026-01-01T00:00:00Z"),
            at("2027-01-01T00:00:00Z"),
            |t, off| out.push((t, off)),
        );
        assert_eq!(
            out,
            [
                (at("2026-03-29T01:00:00Z"), 7200),
                (at("2026-10-25T01:00:00Z"), 3600)
            ]
        );
    }

    #[test]
    fn southern_and_us_rules() {
        let sydney = PosixTz::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(sydney.offset_at(at("2026-01-15T00:00:00Z")), 11 * 3600);
        assert_eq!(sydney.offset_at(at("2026-07-15T00:00:00Z")), 10 * 3600);
        let ny = PosixTz::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        // 2026-03-08 02:00 EST = 07:00 UTC; 2026-11-01 02:00 EDT = 06:00 UTC.
        assert_eq!(ny.offset_at(at("2026-03-08T06:59:59Z")), -5 * 3600);
        assert_eq!(ny.offset_at(at("2026-03-08T07:00:00Z")), -4 * 3600);
        assert_eq!(ny.offset_at(at("2026-11-01T05:59:59Z")), -4 * 3600);
        assert_eq!(ny.offset_at(at("2026-11-01T06:00:00Z")), -5 * 3600);
        // No rule given: the US default.
        assert_eq!(PosixTz::parse("EST5EDT").unwrap(), ny);
    }

    #[test]
    fn julian_days_and_extended_times() {
        // Daylight saving time all year (RFC 8536's example).
        let all_year = PosixTz::parse("EST5EDT,0/0,J365/25").unwrap();
        assert_eq!(all_year.offset_at(at("2026-01-01T12:00:00Z")), -4 * 3600);
        assert_eq!(all_year.offset_at(at("2026-12-31T23:00:00Z")), -4 * 3600);
        // J60 is March 1st, leap year or not.
        let j = PosixTz::parse("AAA0BBB,J60/0,J300").unwrap();
        assert_eq!(j.offset_at(at("2028-02-29T12:00:00Z")), 0);
        assert_eq!(j.offset_at(at("2028-03-01T00:00:00Z")), 3600);
        // Morocco-style negative rule times parse.
        assert!(PosixTz::parse("<+01>-1<+00>,M3.5.0/-2,M10.5.0/-1").is_ok());
    }

    #[test]
    fn refuses_malformed_rules() {
        for bad in [
            "",
            "C-1",
            "CET",
            "CET-1CEST,M3.5.0",
            "CET-1CEST,M13.5.0,M10.5.0",
            "CET-1x",
            "CET-25",
            "CET-1CEST,J0,J10",
            "<+0",
        ] {
            assert!(PosixTz::parse(bad).is_err(), "{bad}");
        }
    }
}
