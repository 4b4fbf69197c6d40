//! A parser's `time_format`, read the way Fluent Bit reads `Time_Format` (`flb_parser.c`).
//!
//! - `%L` is the fraction of the second: any number of digits, of which the first nine count.
//!   The format is split there, as Fluent Bit splits it: the part before, the digits, the part
//!   after.
//! - `%z` takes `Z`, `+hh`, `+hhmm` and `+hh:mm`.
//! - Text after the format is ignored.
//! - The day of the week (`%a`, `%A`) is read but not checked against the date.
//! - A format without `%Y`, `%y` or `%s` (syslog's `%b %d %H:%M:%S`) takes the current year,
//!   in UTC.
//! - A format without `%z` reads times at `time_offset` (`+0200`, default UTC).
//!
//! The other specifiers are chrono's strftime, which agrees with strptime on those the stock
//! parsers use.

use chrono::format::{parse_and_remainder, Item, Parsed, StrftimeItems};
use chrono::{DateTime, Datelike, Duration, Utc};

/// A piece of a compiled format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// A chrono format.
    Chrono(String),
    /// `%L`: digits of a fraction of a second.
    Fraction,
    /// `%a`, `%A`: a day name, skipped.
    DayName,
}

/// A compiled `time_format`.
#[derive(Debug, Clone)]
pub struct FluentTime {
    pieces: Vec<Piece>,
    /// No year in the format: the current one is put in front.
    year_less: bool,
    /// The format reads an offset.
    with_offset: bool,
    /// Seconds east of UTC of times without an offset.
    offset: i32,
}

impl FluentTime {
    /// Compiles `format`; `offset` is Fluent Bit's `Time_Offset` (`+0200`, `-05:00`).
    pub fn new(format: &str, offset: Option<&str>) -> Result<FluentTime, String> {
        let year_less = !(format.contains("%Y") || format.contains("%y") || format.contains("%s"));
        let with_offset = format.contains("%z") || format.contains("%Z");
        let chrono_format = format.replace("%z", "%#z");
        let full = if year_less {
            format!("%Y {chrono_format}")
        } else {
            chrono_format
        };
        let pieces = split(&full);
        for piece in &pieces {
            if let Piece::Chrono(part) = piece {
                if StrftimeItems::new(part).any(|i| matches!(i, Item::Error)) {
                    return Err(format!("`{format}` is not a time format skiff can read"));
                }
            }
        }
        let offset = match offset {
            Some(o) => parse_offset(o).ok_or_else(|| {
                format!("invalid time offset `{o}`: expected `+HHMM` or `-HH:MM`")
            })?,
            None => 0,
        };
        Ok(FluentTime {
            pieces,
            year_less,
            with_offset,
            offset,
        })
    }

    /// Reads `s`; the year of year-less formats is taken from the clock.
    pub fn parse(&self, s: &str) -> Option<DateTime<Utc>> {
        self.parse_at(s, Utc::now())
    }

    /// Reads `s` as if the clock showed `now`.
    pub fn parse_at(&self, s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut parsed = Parsed::new();
        let with_year;
        let input = if self.year_less {
            with_year = format!("{} {s}", now.year());
            with_year.as_str()
        } else {
            s
        };
        let mut rest = input;
        for piece in &self.pieces {
            rest = match piece {
                Piece::Chrono(f) => {
                    parse_and_remainder(&mut parsed, rest, StrftimeItems::new(f)).ok()?
                }
                Piece::Fraction => {
                    let digits = rest.bytes().take_while(u8::is_ascii_digit).count().min(9);
                    if digits == 0 {
                        return None;
                    }
                    let value: i64 = rest[..digits].parse().ok()?;
                    parsed
                        .set_nanosecond(value * 10i64.pow(9 - digits as u32))
                        .ok()?;
                    &rest[digits..]
                }
                Piece::DayName => {
                    let rest = rest.trim_start();
                    let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
                    if letters == 0 {
                        return None;
                    }
                    &rest[letters..]
                }
            };
        }
        if self.with_offset {
            return parsed.to_datetime().ok().map(|t| t.to_utc());
        }
        let local = parsed.to_naive_datetime_with_offset(0).ok()?;
        Some(local.and_utc() - Duration::seconds(i64::from(self.offset)))
    }
}

/// Splits a chrono format at `%L`, `%a` and `%A` (a `%%` is kept whole).
fn split(format: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            current.push(c);
            continue;
        }
        let special = match chars.next() {
            Some('L') => Piece::Fraction,
            Some('a' | 'A') => Piece::DayName,
            Some(other) => {
                current.push('%');
                current.push(other);
                continue;
            }
            None => {
                current.push('%');
                continue;
            }
        };
        if !current.is_empty() {
            pieces.push(Piece::Chrono(std::mem::take(&mut current)));
        }
        pieces.push(special);
    }
    if !current.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Chrono(current));
    }
    pieces
}

/// `+HHMM`, `-HH:MM`, `Z` as seconds east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    (hours < 24 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn t(format: &str, s: &str) -> Option<DateTime<Utc>> {
        FluentTime::new(format, None).unwrap().parse(s)
    }

    #[test]
    fn fraction_takes_any_number_of_digits() {
        let f = "%Y-%m-%dT%H:%M:%S.%L";
        assert_eq!(
            t(f, "2022-10-31T12:00:01.123"),
            Some(utc("2022-10-31T12:00:01.123Z"))
        );
        assert_eq!(
            t(f, "2026-11-26T04:00:00.123456789Z"),
            Some(utc("2026-11-26T04:00:00.123456789Z"))
        );
        assert_eq!(
            t(f, "2026-11-26T04:00:00.5"),
            Some(utc("2026-11-26T04:00:00.5Z"))
        );
        assert_eq!(t(f, "2026-11-26T04:00:00"), None);
        assert_eq!(
            t("%m/%d/%Y %H:%M:%S,%L %z", "07/17/2017 22:17:03,1 +0200"),
            Some(utc("2017-07-17T20:17:03.1Z"))
        );
    }

    #[test]
    fn offsets_with_zulu_colon_or_hours_only() {
        let f = "%Y-%m-%dT%H:%M:%S.%L%z";
        assert_eq!(
            t(f, "2019-01-01T12:00:00.5Z"),
            Some(utc("2019-01-01T12:00:00.5Z"))
        );
        assert_eq!(
            t(f, "2019-01-01T12:00:00.5+02:00"),
            Some(utc("2019-01-01T10:00:00.5Z"))
        );
        assert_eq!(
            t(f, "2019-01-01T12:00:00.5-0130"),
            Some(utc("2019-01-01T13:30:00.5Z"))
        );
        assert_eq!(
            t(f, "2019-01-01T12:00:00.5+02"),
            Some(utc("2019-01-01T10:00:00.5Z"))
        );
        assert_eq!(t(f, "2019-01-01T12:00:00.5"), None);
        assert_eq!(
            t("%d/%b/%Y:%H:%M:%S %z", "26/Nov/2026:04:00:00 +0100"),
            Some(utc("2026-11-26T03:00:00Z"))
        );
    }

    #[test]
    fn time_offset_applies_without_z() {
        let f = FluentTime::new("%m/%d/%Y %H:%M:%S", Some("+0200")).unwrap();
        assert_eq!(
            f.parse("07/17/2017 22:17:03"),
            Some(utc("2017-07-17T20:17:03Z"))
        );
        assert!(FluentTime::new("%H", Some("+25:00")).is_err());
        assert!(FluentTime::new("%Q", None).is_err());
    }

    #[test]
    fn year_less_formats_take_the_current_year() {
        let f = FluentTime::new("%b %d %H:%M:%S", None).unwrap();
        let now = utc("2026-03-01T00:00:00Z");
        assert_eq!(
            f.parse_at("Feb 16 04:06:58", now),
            Some(utc("2026-02-16T04:06:58Z"))
        );
        assert_eq!(
            f.parse_at("Feb  6 04:06:58", now),
            Some(utc("2026-02-06T04:06:58Z"))
        );
        let n = FluentTime::new("%b %d %H:%M:%S.%L", Some("-0600")).unwrap();
        assert_eq!(
            n.parse_at("Feb 16 04:06:58.1234", utc("2017-03-01T00:00:00Z")),
            Some(utc("2017-02-16T10:06:58.1234Z"))
        );
    }

    #[test]
    fn trailing_text_is_ignored() {
        assert_eq!(
            t("%Y-%m-%d %H:%M:%S", "2026-11-26 04:00:00 and more"),
            Some(utc("2026-11-26T04:00:00Z"))
        );
        assert_eq!(
            t("%a %b %d %H:%M:%S.%L %Y", "Fri Jul 17 20:17:03.1234 2017"),
            Some(utc("2017-07-17T20:17:03.1234Z"))
        );
    }
}
