//! Timestamp parsing shared by the parsers' `timestamp = { .. }` option and the
//! `parse_timestamp` transform.
//!
//! Formats are chrono `strftime` patterns (`%Y-%m-%dT%H:%M:%S%.3f`, `%d/%b/%Y:%H:%M:%S %z`) or
//! the names `rfc3339`, `rfc3164` (syslog `Nov 26 04:00:00`, year from the clock), `unix` (epoch
//! seconds, fraction allowed) and `unix_ms`. Several formats are tried in order. A time written
//! without an offset is read in `timezone`: `UTC` (default), a fixed offset (`+02:00`), or
//! `local`: the zone of the `TZ` variable, which may be an IANA name (with zoneinfo files in the
//! image) or a POSIX rule such as `CET-1CEST,M3.5.0,M10.5.0/3` (no files needed). IANA names are
//! not accepted in `timezone` itself: the database would add 1.8 MiB to the binary (measured).
//! Everything is compiled at config load; the common fixed-width formats are read by hand
//! ([`super::timestamp_fast`]).

use chrono::format::{Fixed, Item, ParseErrorKind, StrftimeItems};
use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use super::timestamp_fast::{parse_epoch, parse_rfc3164, FastFormat};
use crate::codec::json::to_text;
use crate::config::FieldError;
use crate::event::{FieldPath, Value};

/// `timestamp = { field = "timestamp", format = "...", timezone = "UTC", keep = true }` on a
/// parser.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampConfig {
    /// Field holding the time, a path inside the parsed data (default `timestamp`).
    #[serde(default = "default_field")]
    pub field: String,
    /// One format (default `rfc3339` when neither `format` nor `formats` is set).
    #[serde(default)]
    pub format: Option<String>,
    /// Formats tried in order; the first that parses wins.
    #[serde(default)]
    pub formats: Vec<String>,
    /// Zone of times written without an offset: `UTC` (default), `local` (the `TZ` variable),
    /// or a fixed offset `+02:00`.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Keep the field, as a timestamp value (default true); false removes it.
    #[serde(default = "default_true")]
    pub keep: bool,
}

/// The default time field.
pub fn default_field() -> String {
    "timestamp".into()
}

/// The default timezone.
pub fn default_timezone() -> String {
    "UTC".into()
}

fn default_true() -> bool {
    true
}

/// A compiled `timestamp` option: where the time is, how to read it, what to do with the field.
#[derive(Debug, Clone)]
pub struct TimestampRule {
    /// Where the time is.
    pub field: FieldPath,
    /// How to read it.
    pub parser: TimestampParser,
    /// Keep the field (as a timestamp) or remove it.
    pub keep: bool,
}

impl TimestampConfig {
    /// Compiles the option; errors name the key at fault.
    pub fn compile(&self) -> Result<TimestampRule, FieldError> {
        let field = FieldPath::parse(&self.field).map_err(|e| FieldError::new(&["field"], e))?;
        let parser = TimestampParser::new(self.format.as_deref(), &self.formats, &self.timezone)?;
        Ok(TimestampRule {
            field,
            parser,
            keep: self.keep,
        })
    }
}

/// A zone for times written without an offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timezone {
    Utc,
    /// The zone of the process: `TZ` (an IANA name read from the zoneinfo files, or a POSIX
    /// rule), else `/etc/localtime`, else UTC.
    Local,
    Fixed(FixedOffset),
}

impl Timezone {
    /// Parses `UTC`, `local`, or `+02:00` / `-0530`.
    pub fn parse(s: &str) -> Result<Timezone, String> {
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return Ok(Timezone::Utc);
        }
        if s.eq_ignore_ascii_case("local") {
            return Ok(Timezone::Local);
        }
        if s.starts_with(['+', '-']) {
            return s
                .parse::<FixedOffset>()
                .map(Timezone::Fixed)
                .map_err(|_| format!("invalid offset `{s}`: expected `+HH:MM` or `-HHMM`"));
        }
        Err(format!(
            "unsupported timezone `{s}`: expected `UTC`, an offset such as `+02:00`, or `local`; for a zone with daylight saving time use `local` and set the TZ environment variable (an IANA name such as `Europe/Paris` when the image has zoneinfo files, or a POSIX rule such as `CET-1CEST,M3.5.0,M10.5.0/3`)"
        ))
    }

    /// The instant of a local time in this zone. In a daylight-saving overlap the earlier
    /// instant is taken; a local time that does not exist (the spring-forward gap) is `None`.
    pub fn to_utc(self, t: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Timezone::Utc => Some(t.and_utc()),
            Timezone::Fixed(off) => off.from_local_datetime(&t).single().map(|d| d.to_utc()),
            Timezone::Local => Local.from_local_datetime(&t).earliest().map(|d| d.to_utc()),
        }
    }

    /// The current year in this zone.
    fn year_of(self, now: DateTime<Utc>) -> i32 {
        match self {
            Timezone::Utc => now.year(),
            Timezone::Fixed(off) => now.with_timezone(&off).year(),
            Timezone::Local => now.with_timezone(&Local).year(),
        }
    }
}

/// One compiled format.
#[derive(Debug, Clone)]
enum Format {
    Rfc3339,
    Rfc3164,
    Unix,
    UnixMs,
    Strftime {
        pattern: String,
        fast: Option<FastFormat>,
        has_offset: bool,
    },
}

/// Reads times in a list of formats.
#[derive(Debug, Clone)]
pub struct TimestampParser {
    formats: Vec<Format>,
    timezone: Timezone,
}

impl TimestampParser {
    /// Compiles `format` or `formats` (not both; `rfc3339` when neither) read in `timezone`.
    pub fn new(
        format: Option<&str>,
        formats: &[String],
        timezone: &str,
    ) -> Result<TimestampParser, FieldError> {
        let timezone = Timezone::parse(timezone).map_err(|e| FieldError::new(&["timezone"], e))?;
        let list: Vec<(Vec<String>, &str)> = match (format, formats) {
            (Some(_), [_, ..]) => {
                return Err(FieldError::new(
                    &["formats"],
                    "set either `format` or `formats`, not both",
                ))
            }
            (Some(f), []) => vec![(vec!["format".to_owned()], f)],
            (None, []) => vec![(vec!["format".to_owned()], "rfc3339")],
            (None, fs) => fs
                .iter()
                .enumerate()
                .map(|(i, f)| (vec!["formats".to_owned(), i.to_string()], f.as_str()))
                .collect(),
        };
        let formats = list
            .into_iter()
            .map(|(path, f)| compile_format(f).map_err(|e| FieldError { path, message: e }))
            .collect::<Result<_, _>>()?;
        Ok(TimestampParser { formats, timezone })
    }

    /// Reads a string in the first format that fits.
    #[inline]
    pub fn parse_str(&self, s: &str) -> Option<DateTime<Utc>> {
        self.formats.iter().find_map(|f| self.parse_one(f, s))
    }

    /// Reads a value: a string, an epoch number (`unix`, `unix_ms`), or a timestamp as it is.
    pub fn parse_value(&self, v: &Value) -> Option<DateTime<Utc>> {
        match v {
            Value::Timestamp(t) => Some(*t),
            Value::Str(_) => self.parse_str(v.as_str()?),
            Value::Int(_) | Value::Float(_) => self.formats.iter().find_map(|f| match (f, v) {
                (Format::Unix, Value::Int(n)) => DateTime::from_timestamp(*n, 0),
                (Format::UnixMs, Value::Int(n)) => DateTime::from_timestamp_millis(*n),
                (Format::Unix, Value::Float(x)) => from_float(*x, 1.0),
                (Format::UnixMs, Value::Float(x)) => from_float(*x, 1e-3),
                _ => self.parse_one(f, &to_text(v)),
            }),
            _ => None,
        }
    }

    fn parse_one(&self, format: &Format, s: &str) -> Option<DateTime<Utc>> {
        match format {
            Format::Rfc3339 => DateTime::parse_from_rfc3339(s).ok().map(|d| d.to_utc()),
            Format::Unix => {
                let (secs, nanos) = parse_epoch(s.as_bytes(), 1_000_000_000)?;
                DateTime::from_timestamp(secs, nanos)
            }
            Format::UnixMs => {
                let (secs, nanos) = parse_epoch(s.as_bytes(), 1_000_000)?;
                DateTime::from_timestamp(secs, nanos)
            }
            Format::Rfc3164 => self.parse_rfc3164(s, Utc::now()),
            Format::Strftime {
                pattern,
                fast,
                has_offset,
            } => {
                if let Some((local, offset)) = fast.and_then(|f| f.parse(s.as_bytes())) {
                    return match offset {
                        Some(secs) => FixedOffset::east_opt(secs)
                            .and_then(|o| o.from_local_datetime(&local).single())
                            .map(|d| d.to_utc()),
                        None => self.timezone.to_utc(local),
                    };
                }
                if *has_offset {
                    return DateTime::parse_from_str(s, pattern)
                        .ok()
                        .map(|d| d.to_utc());
                }
                let local = match NaiveDateTime::parse_from_str(s, pattern) {
                    Ok(t) => t,
                    // A format with a date and no time of day means midnight.
                    Err(e) if e.kind() == ParseErrorKind::NotEnough => {
                        NaiveDate::parse_from_str(s, pattern).ok()?.into()
                    }
                    Err(_) => return None,
                };
                self.timezone.to_utc(local)
            }
        }
    }

    /// A syslog time: the year is the one, of last, this and next year, closest to `now` (a
    /// `Dec 31` line read on January 1st belongs to last year).
    fn parse_rfc3164(&self, s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (month, day, time) = parse_rfc3164(s.as_bytes())?;
        let year = self.timezone.year_of(now);
        (year - 1..=year + 1)
            .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
            .filter_map(|d| self.timezone.to_utc(d.and_time(time)))
            .min_by_key(|t| (*t - now).num_seconds().unsigned_abs())
    }
}

/// An epoch number in units of `unit` seconds.
fn from_float(x: f64, unit: f64) -> Option<DateTime<Utc>> {
    let secs = x * unit;
    if !secs.is_finite() || secs.abs() > 1e15 {
        return None;
    }
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9).round().min(999_999_999.0) as u32;
    DateTime::from_timestamp(whole as i64, nanos)
}

/// Compiles one format name or `strftime` pattern.
fn compile_format(f: &str) -> Result<Format, String> {
    match f {
        "rfc3339" => return Ok(Format::Rfc3339),
        "rfc3164" => return Ok(Format::Rfc3164),
        "unix" => return Ok(Format::Unix),
        "unix_ms" => return Ok(Format::UnixMs),
        "" => return Err("a timestamp format cannot be empty".into()),
        _ => {}
    }
    let mut has_offset = f.contains("%#z");
    for item in StrftimeItems::new(f) {
        match item {
            Item::Error => {
                return Err(format!(
                    "invalid timestamp format `{f}`: see chrono's strftime specifiers, or use `rfc3339`, `rfc3164`, `unix`, `unix_ms`"
                ))
            }
            Item::Fixed(
                Fixed::TimezoneOffset
                | Fixed::TimezoneOffsetColon
                | Fixed::TimezoneOffsetDoubleColon
                | Fixed::TimezoneOffsetTripleColon
                | Fixed::TimezoneOffsetColonZ
                | Fixed::TimezoneOffsetZ
                | Fixed::RFC2822
                | Fixed::RFC3339,
            ) => has_offset = true,
            _ => {}
        }
    }
    Ok(Format::Strftime {
        pattern: f.to_owned(),
        fast: FastFormat::detect(f),
        has_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(format: &str, tz: &str) -> TimestampParser {
        TimestampParser::new(Some(format), &[], tz).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn strftime_with_and_without_fast_path() {
        let t = p("%Y-%m-%dT%H:%M:%S%.3f", "UTC");
        assert_eq!(
            t.parse_str("2026-11-26T04:00:00.123"),
            Some(utc("2026-11-26T04:00:00.123Z"))
        );
        let slow = p("%d/%b/%Y:%H:%M:%S %z", "UTC");
        assert_eq!(
            slow.parse_str("26/Nov/2026:04:00:00 +0200"),
            Some(utc("2026-11-26T02:00:00Z"))
        );
        assert_eq!(
            p("%Y-%m-%d", "UTC").parse_str("2026-11-26"),
            Some(utc("2026-11-26T00:00:00Z"))
        );
        assert_eq!(t.parse_str("yesterday"), None);
    }

    #[test]
    fn timezones_apply_to_local_times_only() {
        let fixed = p("%Y-%m-%dT%H:%M:%S%z", "+05:00");
        assert_eq!(
            fixed.parse_str("2026-07-01T12:00:00+0100"),
            Some(utc("2026-07-01T11:00:00Z"))
        );
        let plus = p("%Y-%m-%dT%H:%M:%S", "-02:30");
        assert_eq!(
            plus.parse_str("2026-07-01T12:00:00"),
            Some(utc("2026-07-01T14:30:00Z"))
        );
    }

    #[test]
    fn named_formats() {
        let rfc = p("rfc3339", "UTC");
        assert_eq!(
            rfc.parse_str("2026-11-26T04:00:00.5+01:00"),
            Some(utc("2026-11-26T03:00:00.5Z"))
        );
        let unix = p("unix", "UTC");
        assert_eq!(
            unix.parse_str("1700000000.5"),
            Some(utc("2023-11-14T22:13:20.5Z"))
        );
        assert_eq!(
            unix.parse_value(&Value::Int(1_700_000_000)),
            Some(utc("2023-11-14T22:13:20Z"))
        );
        assert_eq!(
            unix.parse_value(&Value::Float(1.25)),
            Some(utc("1970-01-01T00:00:01.25Z"))
        );
        let ms = p("unix_ms", "UTC");
        assert_eq!(
            ms.parse_value(&Value::Int(1500)),
            Some(utc("1970-01-01T00:00:01.5Z"))
        );
        assert_eq!(ms.parse_str("1500"), Some(utc("1970-01-01T00:00:01.5Z")));
    }

    #[test]
    fn syslog_year_follows_the_clock() {
        let t = p("rfc3164", "UTC");
        let new_year = utc("2027-01-01T00:00:05Z");
        assert_eq!(
            t.parse_rfc3164("Dec 31 23:59:59", new_year),
            Some(utc("2026-12-31T23:59:59Z"))
        );
        let eve = utc("2026-12-31T23:59:59Z");
        assert_eq!(
            t.parse_rfc3164("Jan  1 00:00:01", eve),
            Some(utc("2027-01-01T00:00:01Z"))
        );
        assert_eq!(
            t.parse_rfc3164("Nov 26 04:00:00", utc("2026-11-26T05:00:00Z")),
            Some(utc("2026-11-26T04:00:00Z"))
        );
        // Feb 29 only exists in leap years: 2028 is the closest one to early 2028.
        assert_eq!(
            t.parse_rfc3164("Feb 29 10:00:00", utc("2028-03-01T00:00:00Z")),
            Some(utc("2028-02-29T10:00:00Z"))
        );
    }

    #[test]
    fn formats_are_tried_in_order() {
        let t = TimestampParser::new(None, &["unix".into(), "rfc3339".into()], "UTC").unwrap();
        assert_eq!(t.parse_str("12"), Some(utc("1970-01-01T00:00:12Z")));
        assert_eq!(
            t.parse_str("2026-11-26T04:00:00Z"),
            Some(utc("2026-11-26T04:00:00Z"))
        );
        let default = TimestampParser::new(None, &[], "UTC").unwrap();
        assert!(default.parse_str("2026-11-26T04:00:00Z").is_some());
    }

    #[test]
    fn config_errors_name_the_key() {
        let e = TimestampParser::new(Some("%Q"), &[], "UTC").unwrap_err();
        assert_eq!(e.path, vec!["format"]);
        let e = TimestampParser::new(None, &["rfc3339".into(), "%Y-%".into()], "UTC").unwrap_err();
        assert_eq!(e.path, vec!["formats", "1"]);
        let e = TimestampParser::new(None, &[], "Europe/Paris").unwrap_err();
        assert_eq!(e.path, vec!["timezone"]);
        assert!(
            e.message.contains("TZ environment variable"),
            "{}",
            e.message
        );
        let e = TimestampParser::new(Some("unix"), &["unix".into()], "UTC").unwrap_err();
        assert_eq!(e.path, vec!["formats"]);
        assert!(Timezone::parse("+25:00").is_err());
        assert_eq!(Timezone::parse("local"), Ok(Timezone::Local));
    }
}
