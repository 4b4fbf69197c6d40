//! Reading times from text: the engine behind the parsers' `timestamp = { .. }` option and the
//! `parse_timestamp` transform, and what `skiff migrate` checks Fluent Bit and Vector time
//! settings with. docs/time.md is the user's reference.
//!
//! A [`TimestampParser`] holds formats tried in order and a zone:
//! - formats are named (`rfc3339`, `rfc3164` for syslog's `Nov 26 04:00:00`, `unix` for epoch
//!   seconds with an optional fraction, `unix_ms`), or patterns in one of two dialects
//!   ([`Dialect`]): chrono's `strftime`, as Vector reads them ([`chrono_format`]), or Fluent
//!   Bit's `Time_Format`, as Fluent Bit reads them ([`strptime`]: `%L`, `%z` taking `Z`, text
//!   after the format ignored);
//! - the zone ([`zone::Timezone`]) applies to times written without an offset: `UTC`, a fixed
//!   offset, an IANA name read from the zoneinfo files, or `local`;
//! - a format without a year or a date takes them from the clock by the rule of [`yearless`]:
//!   never more than an hour in the future.
//!
//! Everything is compiled at config load: formats, and zone files read once. Layout: [`fast`]
//! (hand-written readers of the fixed-width shapes), [`chrono_format`], [`strptime`] and
//! `strptime_scan` (the Fluent Bit dialect), `abbrev` (zone abbreviations), [`zone`],
//! `tzif` and `posix_tz` (zoneinfo files and TZ rules), [`yearless`].

mod abbrev;
pub mod chrono_format;
pub mod fast;
mod posix_tz;
pub mod strptime;
mod strptime_scan;
mod tzif;
pub mod yearless;
pub mod zone;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use thiserror::Error;

use crate::codec::json::to_text;
use crate::config::FieldError;
use crate::event::Value;
pub use chrono_format::ChronoFormat;
use fast::{parse_epoch, parse_rfc3164};
pub use strptime::{check as check_fluentbit_format, FluentBitFormat};
pub use yearless::Now;
use yearless::{Fill, Missing};
pub use zone::{parse_offset, Timezone};

/// How format patterns are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// chrono's `strftime`, as Vector's `parse_timestamp` reads it (the default).
    #[default]
    Chrono,
    /// Fluent Bit's `Time_Format`, as Fluent Bit's parsers read it.
    Fluentbit,
}

/// A format that cannot be read, with the directive at fault and its place.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct FormatError {
    /// The directive at fault (`%Q`), or empty when the format as a whole is.
    pub directive: String,
    /// Where it starts, in characters from 1 (0 for the whole format).
    pub position: usize,
    /// The whole explanation.
    pub message: String,
}

/// One compiled format.
#[derive(Debug, Clone)]
enum Format {
    Rfc3339,
    Rfc3164,
    Unix,
    UnixMs,
    Chrono(ChronoFormat),
    FluentBit(FluentBitFormat),
}

/// Reads times in a list of formats and a zone.
#[derive(Debug, Clone)]
pub struct TimestampParser {
    formats: Vec<Format>,
    /// The formats as the config wrote them, for messages.
    names: Vec<String>,
    timezone: Timezone,
}

impl TimestampParser {
    /// Compiles chrono formats: `format` or `formats` (not both; `rfc3339` when neither), read
    /// in `timezone`.
    pub fn new(
        format: Option<&str>,
        formats: &[String],
        timezone: &str,
    ) -> Result<TimestampParser, FieldError> {
        TimestampParser::build(format, formats, Dialect::Chrono, timezone)
    }

    /// Compiles formats of `dialect`; errors carry the path of the key at fault.
    pub fn build(
        format: Option<&str>,
        formats: &[String],
        dialect: Dialect,
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
        let names = list.iter().map(|(_, f)| (*f).to_owned()).collect();
        let formats = list
            .into_iter()
            .map(|(path, f)| {
                compile_format(f, dialect).map_err(|e| FieldError {
                    path,
                    message: e.message,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(TimestampParser {
            formats,
            names,
            timezone,
        })
    }

    /// The formats, as the config wrote them.
    pub fn format_names(&self) -> &[String] {
        &self.names
    }

    /// The zone times without an offset are read in.
    pub fn timezone(&self) -> &Timezone {
        &self.timezone
    }

    /// Reads a string in the first format that fits.
    #[inline]
    pub fn parse_str(&self, s: &str) -> Option<DateTime<Utc>> {
        self.parse_str_at(s, Now::System)
    }

    /// Reads a string, with `now` as the current time for formats that leave parts out.
    pub fn parse_str_at(&self, s: &str, now: Now) -> Option<DateTime<Utc>> {
        self.formats.iter().find_map(|f| self.parse_one(f, s, now))
    }

    /// Reads a value: a string, an epoch number (`unix`, `unix_ms`), or a timestamp as it is.
    pub fn parse_value(&self, v: &Value) -> Option<DateTime<Utc>> {
        self.parse_value_at(v, Now::System)
    }

    /// [`Self::parse_value`] with `now` as the current time.
    pub fn parse_value_at(&self, v: &Value, now: Now) -> Option<DateTime<Utc>> {
        match v {
            Value::Timestamp(t) => Some(*t),
            Value::Str(_) => self.parse_str_at(v.as_str()?, now),
            Value::Int(_) | Value::Float(_) => self.formats.iter().find_map(|f| match (f, v) {
                (Format::Unix, Value::Int(n)) => DateTime::from_timestamp(*n, 0),
                (Format::UnixMs, Value::Int(n)) => DateTime::from_timestamp_millis(*n),
                (Format::Unix, Value::Float(x)) => from_float(*x, 1.0),
                (Format::UnixMs, Value::Float(x)) => from_float(*x, 1e-3),
                _ => self.parse_one(f, &to_text(v), now),
            }),
            _ => None,
        }
    }

    fn parse_one(&self, format: &Format, s: &str, now: Now) -> Option<DateTime<Utc>> {
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
            Format::Rfc3164 => {
                let (month, day, time) = parse_rfc3164(s.as_bytes())?;
                yearless::resolve(Missing::Year, now, &self.timezone, |fill| {
                    let Fill::Year(y) = fill else { return None };
                    let date = NaiveDate::from_ymd_opt(y, month, day)?;
                    self.timezone.to_utc(date.and_time(time))
                })
            }
            Format::Chrono(f) => f.read(s, &self.timezone, now),
            Format::FluentBit(f) => f.read(s.as_bytes(), &self.timezone, now),
        }
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

/// Compiles one format name or pattern.
fn compile_format(f: &str, dialect: Dialect) -> Result<Format, FormatError> {
    match f {
        "rfc3339" => return Ok(Format::Rfc3339),
        "rfc3164" => return Ok(Format::Rfc3164),
        "unix" => return Ok(Format::Unix),
        "unix_ms" => return Ok(Format::UnixMs),
        "" => {
            return Err(FormatError {
                directive: String::new(),
                position: 0,
                message: "a timestamp format cannot be empty".into(),
            })
        }
        _ => {}
    }
    match dialect {
        Dialect::Chrono => ChronoFormat::compile(f).map(Format::Chrono),
        Dialect::Fluentbit => FluentBitFormat::compile(f).map(Format::FluentBit),
    }
}

#[cfg(test)]
mod tests;
