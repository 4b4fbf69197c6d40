//! chrono's `strftime` formats (`%Y-%m-%dT%H:%M:%S%.3f`, `%+`, `%d/%b/%Y:%H:%M:%S %z`), read
//! as chrono reads them, and so as Vector's `parse_timestamp` does.
//!
//! A format with an offset directive (`%z`, `%:z`, `%::z`, `%#z`, `%+`) needs the offset in the
//! text, like Vector; one without is read in the configured zone, an epoch (`%s`) being an
//! instant whatever the zone. Beyond chrono and Vector: a format without a year (`%b %d
//! %H:%M:%S`) or without a date (`%H:%M:%S`) takes them from the clock
//! ([`super::yearless`]), and one without a time of day (`%Y-%m-%d`) means midnight; chrono
//! and Vector refuse all three. The items are compiled once; the fixed-width shapes logs use
//! most go through [`super::fast`].

use chrono::format::{Fixed, Item, Numeric, Parsed, StrftimeItems};
use chrono::{DateTime, Datelike, Utc};

use super::fast::FastFormat;
use super::yearless::{self, Fill, Missing, Now};
use super::zone::{minus_offset, Timezone};
use super::FormatError;

/// A compiled chrono format.
#[derive(Debug, Clone)]
pub struct ChronoFormat {
    items: Vec<Item<'static>>,
    fast: Option<FastFormat>,
    has_offset: bool,
    missing: Missing,
    /// No hour and no minute in the format: the time is midnight.
    midnight: bool,
}

/// What a format's items give.
#[derive(Default)]
struct Gives {
    year: bool,
    month: bool,
    day: bool,
    ordinal: bool,
    week: bool,
    hour: bool,
    minute: bool,
    complete: bool,
    offset: bool,
    zone_name: bool,
}

impl Gives {
    fn of(items: &[Item<'_>]) -> Gives {
        let mut g = Gives::default();
        for item in items {
            match item {
                Item::Numeric(n, _) => match n {
                    Numeric::Year
                    | Numeric::YearDiv100
                    | Numeric::YearMod100
                    | Numeric::IsoYear
                    | Numeric::IsoYearDiv100
                    | Numeric::IsoYearMod100 => g.year = true,
                    Numeric::Month => g.month = true,
                    Numeric::Day => g.day = true,
                    Numeric::Ordinal => g.ordinal = true,
                    Numeric::WeekFromSun | Numeric::WeekFromMon | Numeric::IsoWeek => g.week = true,
                    Numeric::Hour | Numeric::Hour12 => g.hour = true,
                    Numeric::Minute => g.minute = true,
                    Numeric::Timestamp => g.complete = true,
                    _ => {}
                },
                Item::Fixed(f) => match f {
                    Fixed::ShortMonthName | Fixed::LongMonthName => g.month = true,
                    Fixed::RFC2822 | Fixed::RFC3339 => {
                        g.complete = true;
                        g.offset = true;
                    }
                    Fixed::TimezoneOffset
                    | Fixed::TimezoneOffsetColon
                    | Fixed::TimezoneOffsetDoubleColon
                    | Fixed::TimezoneOffsetTripleColon
                    | Fixed::TimezoneOffsetColonZ
                    | Fixed::TimezoneOffsetZ => g.offset = true,
                    Fixed::TimezoneName => g.zone_name = true,
                    _ => {}
                },
                _ => {}
            }
        }
        g
    }

    fn missing(&self) -> Missing {
        if self.complete || self.year {
            Missing::Nothing
        } else if (self.month && self.day) || self.ordinal {
            Missing::Year
        } else if !self.month && !self.day && !self.week {
            Missing::Date
        } else {
            // An incomplete date (`%m %H`): chrono's own error at every line.
            Missing::Nothing
        }
    }
}

impl ChronoFormat {
    /// Compiles a format; the error names the first directive chrono does not know.
    pub fn compile(format: &str) -> Result<ChronoFormat, FormatError> {
        if let Some((position, directive)) = bad_directive(format) {
            let hint = if directive == "%L" {
                ": it is Fluent Bit's fraction of a second; write `%.f` (or `%.3f`), or set dialect = \"fluentbit\" to read Fluent Bit's formats"
            } else {
                "; see docs/time.md for the directives"
            };
            return Err(FormatError {
                message: format!("`{directive}` (at character {position}) is not a chrono format directive{hint}"),
                directive,
                position,
            });
        }
        let items: Vec<Item<'static>> = StrftimeItems::new(format).map(|i| i.to_owned()).collect();
        let g = Gives::of(&items);
        // `%#z` compiles to an internal item; its text tells.
        let has_offset = g.offset || format.contains("%#z");
        if g.zone_name && !has_offset {
            let position = char_pos(format, format.find("%Z").unwrap_or(0));
            return Err(FormatError {
                directive: "%Z".into(),
                position,
                message: format!("`%Z` (at character {position}): chrono cannot read a zone name; use `%z` for a numeric offset, or dialect = \"fluentbit\", whose `%Z` reads abbreviations such as `PST`"),
            });
        }
        Ok(ChronoFormat {
            fast: FastFormat::detect(format),
            has_offset,
            missing: g.missing(),
            midnight: !g.hour && !g.minute && !g.complete,
            items,
        })
    }

    /// Reads `s`: a time without an offset in `zone`, what the format leaves out from `now`.
    pub fn read(&self, s: &str, zone: &Timezone, now: Now) -> Option<DateTime<Utc>> {
        if let Some((local, offset)) = self.fast.and_then(|f| f.parse(s.as_bytes())) {
            return match offset {
                Some(off) => minus_offset(local, off),
                None => zone.to_utc(local),
            };
        }
        let mut parsed = Parsed::new();
        chrono::format::parse(&mut parsed, s, self.items.iter()).ok()?;
        if self.midnight {
            parsed.set_hour(0).ok()?;
            parsed.set_minute(0).ok()?;
        }
        match self.missing {
            Missing::Nothing => self.resolve(&parsed, zone),
            missing => yearless::resolve(missing, now, zone, |fill| {
                let mut p = parsed.clone();
                match fill {
                    Fill::Year(y) => p.set_year(i64::from(y)).ok()?,
                    Fill::Date(d) => {
                        p.set_year(i64::from(d.year())).ok()?;
                        p.set_month(i64::from(d.month())).ok()?;
                        p.set_day(i64::from(d.day())).ok()?;
                    }
                }
                self.resolve(&p, zone)
            }),
        }
    }

    fn resolve(&self, p: &Parsed, zone: &Timezone) -> Option<DateTime<Utc>> {
        if self.has_offset {
            return p.to_datetime().ok().map(|d| d.to_utc());
        }
        let t = p.to_naive_datetime_with_offset(0).ok()?;
        if p.timestamp().is_some() {
            return Some(t.and_utc());
        }
        zone.to_utc(t)
    }
}

/// The first directive chrono rejects: its character position (from 1) and text.
fn bad_directive(f: &str) -> Option<(usize, String)> {
    let mut i = 0;
    while let Some(off) = f[i..].find('%') {
        let start = i + off;
        // The shortest spelling from this `%` that chrono accepts (`%d`, `%-d`, `%.3f`, `%::z`).
        let len = (2..=6).find(|&len| {
            f.get(start..start + len).is_some_and(|spec| {
                StrftimeItems::new(spec).all(|item| !matches!(item, Item::Error))
            })
        });
        match len {
            Some(len) => i = start + len,
            None => {
                let end = f[start + 1..]
                    .chars()
                    .next()
                    .map_or(f.len(), |c| start + 1 + c.len_utf8());
                return Some((char_pos(f, start), f[start..end].to_owned()));
            }
        }
    }
    None
}

/// The character position (from 1) of byte `i` of `s`.
fn char_pos(s: &str, i: usize) -> usize {
    s.get(..i).map_or(i, |p| p.chars().count()) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(format: &str, s: &str) -> Option<String> {
        let now = Now::At(DateTime::from_timestamp(1_780_000_000, 0).unwrap());
        ChronoFormat::compile(format)
            .unwrap()
            .read(s, &Timezone::Utc, now)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }

    #[test]
    fn errors_name_the_directive() {
        let e = ChronoFormat::compile("%Y-%m-%d %Q").unwrap_err();
        assert_eq!((e.directive.as_str(), e.position), ("%Q", 10));
        let e = ChronoFormat::compile("%Y-%m-%dT%H:%M:%S.%L").unwrap_err();
        assert_eq!((e.directive.as_str(), e.position), ("%L", 19));
        assert!(
            e.message.contains("dialect = \"fluentbit\""),
            "{}",
            e.message
        );
        let e = ChronoFormat::compile("é%").unwrap_err();
        assert_eq!((e.directive.as_str(), e.position), ("%", 2));
        let e = ChronoFormat::compile("%F %T %Z").unwrap_err();
        assert_eq!((e.directive.as_str(), e.position), ("%Z", 7));
        for ok in [
            "%-d/%m/%Y %e",
            "%.3f %.f %3f %::z %:::z %#z %+",
            "%%",
            "%F %T %z %Z",
        ] {
            assert!(ChronoFormat::compile(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn offsets_epochs_and_missing_parts() {
        assert_eq!(
            read("%d/%b/%Y:%H:%M:%S %z", "26/Nov/2026:04:00:00 +0200").as_deref(),
            Some("2026-11-26T02:00:00Z")
        );
        // An offset directive needs an offset.
        assert_eq!(read("%Y-%m-%d %H:%M:%S %z", "2026-11-26 04:00:00"), None);
        assert_eq!(
            read("%s", "1700000000").as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(
            read("%Y-%m-%d", "2026-11-26").as_deref(),
            Some("2026-11-26T00:00:00Z")
        );
        // 2026-05-28T20:26:40Z is the injected now.
        assert_eq!(
            read("%b %d %H:%M:%S", "Feb 16 04:06:58").as_deref(),
            Some("2026-02-16T04:06:58Z")
        );
        assert_eq!(
            read("%b %d %H:%M:%S", "Dec 16 04:06:58").as_deref(),
            Some("2025-12-16T04:06:58Z")
        );
        assert_eq!(
            read("%H:%M:%S", "21:00:00").as_deref(),
            Some("2026-05-28T21:00:00Z")
        );
        assert_eq!(
            read("%H:%M:%S", "22:00:00").as_deref(),
            Some("2026-05-27T22:00:00Z")
        );
        // An hour without minutes is an error, as in chrono.
        assert_eq!(read("%y/%m/%d %H", "94/9/4 12"), None);
        // The fast path and chrono agree on the common shape.
        assert_eq!(
            read("%Y-%m-%dT%H:%M:%S%.3f%z", "2026-11-26T04:00:00.123+01:00").as_deref(),
            Some("2026-11-26T03:00:00.123Z")
        );
        // chrono lets whitespace precede an offset; the fast path leaves that to chrono.
        assert_eq!(
            read("%Y-%m-%dT%H:%M:%S%.3f%z", "2026-11-26T04:00:00.123 +01:00").as_deref(),
            Some("2026-11-26T03:00:00.123Z")
        );
        assert_eq!(
            read("%Y-%m-%dT%H:%M:%S%.3f%z", "2026-11-26T04:00:00.12+01:00"),
            None
        );
    }
}
