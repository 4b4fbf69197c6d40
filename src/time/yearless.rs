//! The year of a time written without one (syslog's `Feb 16 04:06:58`), and the date of a time
//! written without a date (`04:06:58`).
//!
//! The rule: **the latest candidate that is at most one hour after the current time.** For a
//! missing year the candidates are that month and day in next year, this year, last year and
//! so on (this year in the configured zone); for a missing date, tomorrow, today and yesterday.
//! So a line is never placed more than an hour in the future, a `Dec 31 23:59:59` line read
//! just after midnight on January 1st belongs to the year before, a `Jan 1 00:00:01` line read
//! a second before midnight on December 31st (the writer's clock a little ahead) to the year
//! after, and `Feb 29` goes to the latest leap year. The hour of tolerance covers clocks that
//! disagree a little; Fluent Bit's own test of a New York time read at 23:30 pins a time 29
//! minutes ahead.
//!
//! Fluent Bit always takes the current year (and today's date), which puts a `Dec 31` line
//! read on January 1st almost a year in the future.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::zone::Timezone;

/// How far after the current time a candidate may lie.
pub const TOLERANCE_SECS: i64 = 3600;

/// How far back a missing year is searched (a leap day finds its leap year within 8).
const YEARS_BACK: i32 = 8;

/// What a format leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Nothing: the time is complete.
    Nothing,
    /// The year (the month and day, or the day of the year, are written).
    Year,
    /// The whole date (only the time of day is written).
    Date,
}

/// What the candidate fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    Year(i32),
    Date(NaiveDate),
}

/// The current time, read from the system clock only when a format needs it.
#[derive(Debug, Clone, Copy)]
pub enum Now {
    System,
    At(DateTime<Utc>),
}

impl Now {
    /// The time this stands for.
    pub fn get(self) -> DateTime<Utc> {
        match self {
            Now::System => Utc::now(),
            Now::At(t) => t,
        }
    }
}

/// Picks the candidate of the rule; `build` turns a fill into an instant (or `None` when the
/// filled date does not exist, such as February 29 of a common year).
pub fn resolve(
    missing: Missing,
    now: Now,
    zone: &Timezone,
    build: impl Fn(Fill) -> Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let now = now.get();
    let limit = now + Duration::seconds(TOLERANCE_SECS);
    let today = zone.today(now)?;
    let ok = |t: &DateTime<Utc>| *t <= limit;
    match missing {
        Missing::Nothing => None,
        Missing::Year => (today.year() - YEARS_BACK..=today.year() + 1)
            .rev()
            .filter_map(|y| build(Fill::Year(y)))
            .find(ok),
        Missing::Date => [today.succ_opt(), Some(today), today.pred_opt()]
            .into_iter()
            .flatten()
            .filter_map(|d| build(Fill::Date(d)))
            .find(ok),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, TimeZone};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// A syslog-style month, day and time read at `now` in `zone`.
    fn month_day(zone: &Timezone, m: u32, d: u32, time: &str, now: &str) -> Option<String> {
        let time = NaiveTime::parse_from_str(time, "%H:%M:%S").unwrap();
        resolve(Missing::Year, Now::At(utc(now)), zone, |fill| {
            let Fill::Year(y) = fill else { return None };
            zone.to_utc(NaiveDate::from_ymd_opt(y, m, d)?.and_time(time))
        })
        .map(|t| t.to_rfc3339())
    }

    fn time_only(zone: &Timezone, time: &str, now: &str) -> Option<String> {
        let time = NaiveTime::parse_from_str(time, "%H:%M:%S").unwrap();
        resolve(Missing::Date, Now::At(utc(now)), zone, |fill| {
            let Fill::Date(d) = fill else { return None };
            zone.to_utc(d.and_time(time))
        })
        .map(|t| t.to_rfc3339())
    }

    #[test]
    fn a_missing_year_never_puts_a_line_in_the_future() {
        let z = Timezone::Utc;
        // Read on December 2nd, February 16th is this year's, not next year's.
        assert_eq!(
            month_day(&z, 2, 16, "04:06:58", "2026-12-02T10:00:00Z").as_deref(),
            Some("2026-02-16T04:06:58+00:00")
        );
        // Read on New Year's morning, December 31st is last year's.
        assert_eq!(
            month_day(&z, 12, 31, "23:59:59", "2027-01-01T00:00:05Z").as_deref(),
            Some("2026-12-31T23:59:59+00:00")
        );
        // A second ahead across New Year: next year's.
        assert_eq!(
            month_day(&z, 1, 1, "00:00:01", "2026-12-31T23:59:59Z").as_deref(),
            Some("2027-01-01T00:00:01+00:00")
        );
        // Today, an hour and a half ahead: too far, so last year's.
        assert_eq!(
            month_day(&z, 11, 26, "05:30:00", "2026-11-26T04:00:00Z").as_deref(),
            Some("2025-11-26T05:30:00+00:00")
        );
        // Today, 59 minutes ahead: within the tolerance.
        assert_eq!(
            month_day(&z, 11, 26, "04:59:00", "2026-11-26T04:00:00Z").as_deref(),
            Some("2026-11-26T04:59:00+00:00")
        );
        // February 29th goes to the latest leap year.
        assert_eq!(
            month_day(&z, 2, 29, "10:00:00", "2027-06-01T00:00:00Z").as_deref(),
            Some("2024-02-29T10:00:00+00:00")
        );
        assert_eq!(
            month_day(&z, 2, 30, "10:00:00", "2027-06-01T00:00:00Z"),
            None
        );
    }

    #[test]
    fn the_current_year_is_the_zones() {
        // 2026-01-01T04:30Z is still 2025-12-31 in New York (Fluent Bit's own case).
        let lookup = super::super::zone::ZoneLookup {
            tzdir: super::super::zone::DEFAULT_TZDIR.into(),
            tz: None,
            localtime: "/nonexistent".into(),
        };
        let ny = Timezone::parse_with("America/New_York", &lookup).unwrap();
        assert_eq!(
            month_day(&ny, 12, 31, "23:59:00", "2026-01-01T04:30:00Z").as_deref(),
            Some("2026-01-01T04:59:00+00:00")
        );
    }

    #[test]
    fn a_missing_date_is_today_unless_that_is_ahead() {
        let z = Timezone::Fixed(3600);
        assert_eq!(
            time_only(&z, "00:01:00", "2025-04-14T22:30:00Z").as_deref(),
            Some("2025-04-14T23:01:00+00:00")
        );
        // Just after midnight, 23:59 is yesterday's.
        assert_eq!(
            time_only(&Timezone::Utc, "23:59:00", "2026-03-10T00:00:30Z").as_deref(),
            Some("2026-03-09T23:59:00+00:00")
        );
        // Just before midnight, 00:00:10 is tomorrow's.
        assert_eq!(
            time_only(&Timezone::Utc, "00:00:10", "2026-03-09T23:59:59Z").as_deref(),
            Some("2026-03-10T00:00:10+00:00")
        );
    }

    #[test]
    fn the_system_clock_is_read_lazily() {
        let before = Utc::now();
        let now = Now::System.get();
        assert!(now >= before);
        assert_eq!(
            Now::At(Utc.timestamp_opt(5, 0).unwrap()).get().timestamp(),
            5
        );
    }
}
