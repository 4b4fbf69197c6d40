//! Fluent Bit's `Time_Format` dialect, read as Fluent Bit reads it: its strptime (from OpenBSD,
//! with Fluent Bit's additions) plus `%L`, the fraction of a second that its parser handles
//! itself.
//!
//! A format is compiled once ([`FluentBitFormat::compile`], or [`check`] to only validate one,
//! as `skiff migrate` does); errors name the directive and where it is. Reading
//! (`super::strptime_scan`) follows Fluent Bit's rules:
//! - whitespace in the format skips any run of whitespace (also none);
//! - numbers take at most as many digits as their largest value has (`%d` 1-2, `%Y` 1-4) and
//!   are range-checked; names (`%b`, `%a`, `%p`, `%Z`) ignore case;
//! - `%L` takes 1 to 9 digits (a tenth to a nanosecond); more digits are left to what follows;
//! - `%z` takes `Z`, `UT`, `UTC`, `GMT`, `+hh:mm`, `+hhmm`, `+hh` and `EST`..`PDT`; `%Z` an
//!   abbreviation of `super::abbrev`; `%s` seconds since the epoch;
//! - text after the format is ignored (`%Y-%m-%dT%H:%M:%S.%L` reads Docker's `...Z`);
//! - the time carries its own offset when the format contains `%z`, `%Z`, `%SZ` or `%S.%LZ`
//!   (a literal `Z` then means UTC), else the configured zone applies (`Time_Offset`,
//!   `Time_Zone`), exactly the test Fluent Bit makes;
//! - day 31 of a 30-day month and second 60 roll over into the next day or minute.

use super::yearless::Missing;
use super::FormatError;

/// What a number directive sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Century,
    Day,
    Hour,
    Hour12,
    Yday,
    Minute,
    Month,
    Second,
    Year,
    Year2,
    /// Weekday 0-6 (Sunday first) or 1-7 (Monday first).
    Weekday,
    /// Week numbers and the two-digit ISO year: range-checked, then ignored.
    Ignored,
}

/// One step of a compiled format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    /// Skips any run of whitespace.
    Space,
    /// Skips one whitespace character if there is one (the padding of `%e`).
    OptionalSpace,
    Lit(u8),
    Num {
        field: Field,
        min: u32,
        max: u32,
    },
    WeekdayName,
    MonthName,
    AmPm,
    Epoch,
    /// `%G`: one character, then any digits.
    IsoYear,
    Offset,
    ZoneName,
    /// `%L`.
    Fraction,
}

/// A step, and whether the input must not be exhausted before it (Fluent Bit checks that
/// before every format character that is not whitespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Step {
    pub tok: Tok,
    pub guard: bool,
}

/// A compiled Fluent Bit `Time_Format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluentBitFormat {
    pub(super) steps: Vec<Step>,
    /// The time carries its offset (Fluent Bit's textual test on the format).
    pub(super) has_zone: bool,
    pub(super) missing: Missing,
}

/// Validates a Fluent Bit `Time_Format` the way skiff reads it.
pub fn check(format: &str) -> Result<(), FormatError> {
    FluentBitFormat::compile(format).map(|_| ())
}

/// What the directives of a format set, to know what it leaves out.
#[derive(Default)]
struct Sets {
    year: bool,
    /// Where the first month directive is, and its text.
    month: Option<(usize, String)>,
    /// Where the first day-of-month directive is, and its text.
    day: Option<(usize, String)>,
    yday: bool,
}

impl FluentBitFormat {
    /// Compiles a format.
    pub fn compile(format: &str) -> Result<FluentBitFormat, FormatError> {
        if format.is_empty() {
            return Err(FormatError {
                directive: String::new(),
                position: 0,
                message: "a timestamp format cannot be empty".into(),
            });
        }
        let mut c = Compiler {
            steps: Vec::new(),
            sets: Sets::default(),
            fraction: false,
        };
        c.directives(format, 0, true)?;
        let missing = missing(&c.sets)?;
        let has_zone = ["%z", "%Z", "%SZ", "%S.%LZ"]
            .iter()
            .any(|z| format.contains(z));
        Ok(FluentBitFormat {
            steps: c.steps,
            has_zone,
            missing,
        })
    }

    /// True when the time carries its own offset and the configured zone does not apply.
    pub fn has_zone(&self) -> bool {
        self.has_zone
    }

    /// What the format leaves out (filled by the rule of [`super::yearless`]).
    pub fn missing(&self) -> Missing {
        self.missing
    }
}

/// Which of year and date the format leaves out, or why it cannot make a time.
fn missing(s: &Sets) -> Result<Missing, FormatError> {
    let whole = |message: &str| FormatError {
        directive: String::new(),
        position: 0,
        message: message.into(),
    };
    let date = (s.month.is_some() && s.day.is_some()) || s.yday;
    match (&s.month, &s.day) {
        (Some((at, text)), None) if !date => {
            return Err(error(
                *at,
                text,
                &format!("the format gives a month (`{text}` at character {at}) but no day of the month (`%d`)"),
            ))
        }
        (None, Some((at, text))) if !date => {
            return Err(error(
                *at,
                text,
                &format!("the format gives a day of the month (`{text}` at character {at}) but no month (`%m` or `%b`)"),
            ))
        }
        _ => {}
    }
    Ok(match (date, s.year) {
        (true, true) => Missing::Nothing,
        (true, false) => Missing::Year,
        (false, false) => Missing::Date,
        (false, true) => {
            return Err(whole(
                "the format gives a year but no month and day (`%m`/`%b` and `%d`, or `%j`)",
            ))
        }
    })
}

struct Compiler {
    steps: Vec<Step>,
    sets: Sets,
    fraction: bool,
}

/// Formats that a directive stands for, in the C locale.
fn expansion(c: u8) -> Option<&'static str> {
    Some(match c {
        b'c' => "%a %b %e %H:%M:%S %Y",
        b'D' | b'x' => "%m/%d/%y",
        b'F' => "%Y-%m-%d",
        b'R' => "%H:%M",
        b'r' => "%I:%M:%S %p",
        b'T' | b'X' => "%H:%M:%S",
        _ => return None,
    })
}

/// The modifiers (`E`, `O`) a conversion allows.
fn allows(c: u8, modifier: u8) -> bool {
    match modifier {
        b'E' => b"cCxXyY".contains(&c),
        _ => b"deHImMSUwWyu".contains(&c),
    }
}

impl Compiler {
    /// Compiles `format`; `base` is the character position of its start in the configured
    /// format (expansions report the directive that expanded).
    fn directives(&mut self, format: &str, base: usize, top: bool) -> Result<(), FormatError> {
        let b = format.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let at = if top { char_pos(format, i) } else { base };
            let c = b[i];
            if super::strptime_scan::is_space(c) {
                self.push(Tok::Space, false);
                i += 1;
                continue;
            }
            if c != b'%' {
                self.push(Tok::Lit(c), true);
                i += 1;
                continue;
            }
            let (conv, modifier, len) = match (b.get(i + 1), b.get(i + 2)) {
                (Some(&m @ (b'E' | b'O')), Some(&conv)) => (conv, Some(m), 3),
                (Some(&conv), _) => (conv, None, 2),
                (None, _) => return Err(error(at, "%", "the format ends with a lone `%`")),
            };
            let text = String::from_utf8_lossy(&b[i..(i + len).min(b.len())]).into_owned();
            if let Some(m) = modifier {
                if !allows(conv, m) {
                    return Err(error(at, &text, &format!("`{text}` (at character {at}) is not a valid directive: `%{}` takes no `{}` modifier", conv as char, m as char)));
                }
            }
            self.directive(conv, at, &text)?;
            i += len;
        }
        Ok(())
    }

    fn push(&mut self, tok: Tok, guard: bool) {
        self.steps.push(Step { tok, guard });
    }

    fn num(&mut self, field: Field, min: u32, max: u32) {
        self.push(Tok::Num { field, min, max }, true);
    }

    /// Compiles the directive `%conv` found at character `at`.
    fn directive(&mut self, conv: u8, at: usize, text: &str) -> Result<(), FormatError> {
        if let Some(expanded) = expansion(conv) {
            return self.directives(expanded, at, false);
        }
        match conv {
            b'%' => self.push(Tok::Lit(b'%'), true),
            b'a' | b'A' => self.push(Tok::WeekdayName, true),
            b'b' | b'B' | b'h' => {
                self.push(Tok::MonthName, true);
                self.sets.month.get_or_insert((at, text.to_owned()));
            }
            b'C' => self.num(Field::Century, 0, 99),
            b'd' | b'e' => {
                if conv == b'e' {
                    self.push(Tok::OptionalSpace, true);
                    self.push(
                        Tok::Num {
                            field: Field::Day,
                            min: 1,
                            max: 31,
                        },
                        false,
                    );
                } else {
                    self.num(Field::Day, 1, 31);
                }
                self.sets.day.get_or_insert((at, text.to_owned()));
            }
            b'H' | b'k' => self.num(Field::Hour, 0, 23),
            b'I' | b'l' => self.num(Field::Hour12, 1, 12),
            b'j' => {
                self.num(Field::Yday, 1, 366);
                self.sets.yday = true;
            }
            b'M' => self.num(Field::Minute, 0, 59),
            b'm' => {
                self.num(Field::Month, 1, 12);
                self.sets.month.get_or_insert((at, text.to_owned()));
            }
            b'p' => self.push(Tok::AmPm, true),
            b'S' => self.num(Field::Second, 0, 60),
            b's' => {
                self.push(Tok::Epoch, true);
                self.sets.year = true;
                self.sets.month.get_or_insert((at, text.to_owned()));
                self.sets.day.get_or_insert((at, text.to_owned()));
            }
            b'U' | b'W' | b'V' => self.num(Field::Ignored, 0, 53),
            b'w' => self.num(Field::Weekday, 0, 6),
            b'u' => self.num(Field::Weekday, 1, 7),
            b'g' => self.num(Field::Ignored, 0, 99),
            b'G' => self.push(Tok::IsoYear, true),
            b'Y' => {
                self.num(Field::Year, 0, 9999);
                self.sets.year = true;
            }
            b'y' => {
                self.num(Field::Year2, 0, 99);
                self.sets.year = true;
            }
            b'z' => self.push(Tok::Offset, true),
            b'Z' => self.push(Tok::ZoneName, true),
            b'n' | b't' => self.push(Tok::Space, true),
            b'L' if self.fraction => {
                return Err(error(
                    at,
                    text,
                    &format!("`%L` (at character {at}) may appear only once"),
                ));
            }
            b'L' => {
                self.fraction = true;
                self.push(Tok::Fraction, true);
            }
            _ => {
                return Err(error(at, text, &format!("`{text}` (at character {at}) is not a Fluent Bit time directive; see docs/time.md for the list")));
            }
        }
        Ok(())
    }
}

fn error(at: usize, directive: &str, message: &str) -> FormatError {
    FormatError {
        directive: directive.to_owned(),
        position: at,
        message: message.to_owned(),
    }
}

/// The character position (from 1) of byte `i` of `s`.
fn char_pos(s: &str, i: usize) -> usize {
    s.get(..i).map_or(i, |p| p.chars().count()) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_the_stock_parsers_formats() {
        for f in [
            "%d/%b/%Y:%H:%M:%S %z",
            "%Y-%m-%dT%H:%M:%S.%L",
            "%Y-%m-%dT%H:%M:%S.%L%z",
            "%b %d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%SZ",
            "%d-%b-%Y::%H:%M:%S",
            "%Y-%m-%d %H:%M:%S,%L",
            "%a %b %d %H:%M:%S.%L %Y",
            "%m/%d/%Y %H:%M:%S:%L %z",
            "%s",
            "%c",
            "%D %T",
            "%j %H:%M",
            "%H:%M:%S",
        ] {
            assert!(check(f).is_ok(), "{f}: {:?}", check(f));
        }
    }

    #[test]
    fn knows_what_a_format_leaves_out() {
        let m = |f: &str| FluentBitFormat::compile(f).unwrap().missing();
        assert_eq!(m("%Y-%m-%d %H:%M:%S"), Missing::Nothing);
        assert_eq!(m("%F %T"), Missing::Nothing);
        assert_eq!(m("%s"), Missing::Nothing);
        assert_eq!(m("%b %d %H:%M:%S"), Missing::Year);
        assert_eq!(m("%j %H:%M"), Missing::Year);
        assert_eq!(m("%H:%M:%S"), Missing::Date);
        assert_eq!(m("%Y-%m-%d"), Missing::Nothing);
    }

    #[test]
    fn has_zone_is_fluent_bits_textual_test() {
        let z = |f: &str| FluentBitFormat::compile(f).unwrap().has_zone();
        assert!(z("%d/%b/%Y:%H:%M:%S %z"));
        assert!(z("%Y-%m-%d %H:%M:%S %Z"));
        assert!(z("%m/%d/%Y %H:%M:%SZ"));
        assert!(z("%m/%d/%Y %H:%M:%S.%LZ"));
        // Fluent Bit does not see these two as carrying a zone.
        assert!(!z("%m/%d/%Y %H:%M:%S,%LZ"));
        assert!(!z("%Y-%m-%dT%H:%M:%S.%L"));
    }

    #[test]
    fn errors_name_the_directive_and_its_place() {
        let e = FluentBitFormat::compile("%Y-%m-%d %Q").unwrap_err();
        assert_eq!((e.directive.as_str(), e.position), ("%Q", 10));
        assert!(
            e.message.contains("`%Q` (at character 10)"),
            "{}",
            e.message
        );
        let e = FluentBitFormat::compile("%Y-%m-%d %").unwrap_err();
        assert_eq!((e.directive.as_str(), e.position), ("%", 10));
        let e = FluentBitFormat::compile("%H:%M:%S.%L.%L").unwrap_err();
        assert_eq!((e.directive.as_str(), e.position), ("%L", 13));
        let e = FluentBitFormat::compile("%Ez %H").unwrap_err();
        assert_eq!(e.directive, "%Ez");
        assert!(FluentBitFormat::compile("%Ey %m %d").is_ok());
        assert!(FluentBitFormat::compile("%Od.%m %OH").is_ok());
        let e = FluentBitFormat::compile("%d %H:%M").unwrap_err();
        assert_eq!((e.directive.as_str(), e.position), ("%d", 1));
        let e = FluentBitFormat::compile("%Y %b %H").unwrap_err();
        assert_eq!((e.directive.as_str(), e.position), ("%b", 4));
        assert!(FluentBitFormat::compile("%Y %H:%M").is_err());
        assert!(FluentBitFormat::compile("").is_err());
        // Positions count characters, not bytes.
        let e = FluentBitFormat::compile("é %q").unwrap_err();
        assert_eq!(e.position, 3);
    }
}
