//! The `timestamp = { .. }` option of the parsers, and what the `parse_timestamp` transform
//! shares with it: which field holds the time, how to read it ([`crate::time`]), and what
//! becomes of the field.
//!
//! `format`/`formats` are chrono `strftime` patterns by default, or Fluent Bit `Time_Format`s
//! with `dialect = "fluentbit"`, or the names `rfc3339`, `rfc3164`, `unix`, `unix_ms`.
//! `timezone` applies to times written without an offset: `UTC` (default), `local`, a fixed
//! offset (`+02:00`, Fluent Bit's `Time_Offset`) or an IANA name (`Europe/Paris`, Fluent
//! Bit's `Time_Zone`, Vector's `timezone`), read from the zoneinfo files at config load.
//! `keep`: `true` (default) replaces the field with the parsed time, `"original"` leaves the
//! text as it was (Fluent Bit's `Time_Keep On`), `false` removes it (`Time_Keep Off`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::codec::json::to_text;
use crate::config::FieldError;
use crate::event::{FieldPath, Fields, Value};
pub use crate::time::{Dialect, Now, TimestampParser, Timezone};

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
    /// How patterns are read: `chrono` (default) or `fluentbit`.
    #[serde(default)]
    pub dialect: Dialect,
    /// Zone of times written without an offset: `UTC` (default), `local`, an offset such as
    /// `+02:00`, or an IANA name such as `Europe/Paris`.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// What becomes of the field: `true` (default), `false` or `"original"`.
    #[serde(default)]
    pub keep: KeepSetting,
}

/// The default time field.
pub fn default_field() -> String {
    "timestamp".into()
}

/// The default timezone.
pub fn default_timezone() -> String {
    "UTC".into()
}

/// `keep` as written: a boolean or a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeepSetting {
    Bool(bool),
    Word(String),
}

impl<'de> Deserialize<'de> for KeepSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeepSetting, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = KeepSetting;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true, false or \"original\"")
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<KeepSetting, E> {
                Ok(KeepSetting::Bool(b))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<KeepSetting, E> {
                Ok(KeepSetting::Word(s.to_owned()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Default for KeepSetting {
    fn default() -> KeepSetting {
        KeepSetting::Bool(true)
    }
}

/// What becomes of the time field once read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Replaced by the parsed time (a timestamp value).
    Parsed,
    /// Left as it was written.
    Original,
    /// Removed.
    Remove,
}

impl KeepSetting {
    /// The setting's meaning, or an error naming the words allowed.
    pub fn resolve(&self) -> Result<Keep, FieldError> {
        match self {
            KeepSetting::Bool(true) => Ok(Keep::Parsed),
            KeepSetting::Bool(false) => Ok(Keep::Remove),
            KeepSetting::Word(w) if w == "original" => Ok(Keep::Original),
            KeepSetting::Word(w) => Err(FieldError::new(
                &["keep"],
                format!("invalid value `{w}`: expected true (the parsed time replaces the field), false (the field is removed) or \"original\" (the text is kept as written)"),
            )),
        }
    }
}

/// A compiled `timestamp` option: where the time is, how to read it, what to do with the field.
#[derive(Debug, Clone)]
pub struct TimestampRule {
    /// Where the time is.
    pub field: FieldPath,
    /// How to read it.
    pub parser: TimestampParser,
    /// What becomes of the field.
    pub keep: Keep,
}

impl TimestampRule {
    /// Says why the time field of `fields` did not parse: the field, its value (cut at 100
    /// characters) and the formats tried. Built only when a warning is logged.
    pub fn describe_failure(&self, fields: &Fields) -> String {
        let mut text = fields
            .get_path(&self.field)
            .map(to_text)
            .unwrap_or_default();
        if let Some((cut, _)) = text.char_indices().nth(100) {
            text.truncate(cut);
            text.push_str("...");
        }
        let formats: Vec<String> = self
            .parser
            .format_names()
            .iter()
            .map(|f| format!("`{f}`"))
            .collect();
        format!(
            "timestamp field `{}` = {text:?} does not match the format {}",
            self.field,
            formats.join(" or ")
        )
    }
}

impl TimestampConfig {
    /// Compiles the option; errors name the key at fault.
    pub fn compile(&self) -> Result<TimestampRule, FieldError> {
        let field = FieldPath::parse(&self.field).map_err(|e| FieldError::new(&["field"], e))?;
        let keep = self.keep.resolve()?;
        let parser = TimestampParser::build(
            self.format.as_deref(),
            &self.formats,
            self.dialect,
            &self.timezone,
        )?;
        Ok(TimestampRule {
            field,
            parser,
            keep,
        })
    }
}

/// What [`TimestampRule::apply`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The fields hold no time field.
    Absent,
    /// The time, read; the field was kept, replaced or removed as configured.
    Time(DateTime<Utc>),
    /// The field does not parse; it is left as it was.
    Unreadable,
}

impl TimestampRule {
    /// Reads the time field of `fields` and applies `keep`.
    pub fn apply(&self, fields: &mut Fields) -> Applied {
        self.apply_at(fields, Now::System)
    }

    /// [`Self::apply`] with `now` as the current time (for formats without a year or date).
    pub fn apply_at(&self, fields: &mut Fields, now: Now) -> Applied {
        let Some(raw) = fields.get_path(&self.field) else {
            return Applied::Absent;
        };
        let Some(ts) = self.parser.parse_value_at(raw, now) else {
            return Applied::Unreadable;
        };
        match self.keep {
            Keep::Parsed => fields.insert_path(&self.field, Value::Timestamp(ts)),
            Keep::Original => {}
            Keep::Remove => {
                fields.remove_path(&self.field);
            }
        }
        Applied::Time(ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_field_the_value_and_the_formats() {
        let rule = rule("field = \"time\"\nformats = [\"%d/%b/%Y\", \"rfc3339\"]").unwrap();
        let mut fields = Fields::default();
        fields.insert_path(&rule.field, Value::from("yesterday"));
        assert_eq!(
            rule.describe_failure(&fields),
            "timestamp field `time` = \"yesterday\" does not match the format `%d/%b/%Y` or `rfc3339`"
        );
    }

    fn rule(toml_text: &str) -> Result<TimestampRule, FieldError> {
        toml::from_str::<TimestampConfig>(toml_text)
            .unwrap()
            .compile()
    }

    fn fields(time: &str) -> Fields {
        let mut f = Fields::default();
        f.insert("time".into(), Value::Str(time.to_owned().into()));
        f
    }

    #[test]
    fn keep_parsed_original_or_remove() {
        let base =
            "field = \"time\"\nformat = \"%Y-%m-%dT%H:%M:%S.%L%z\"\ndialect = \"fluentbit\"\n";
        let text = "2026-11-26T04:00:00.5+01:00";
        let want = DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        for (keep, kept) in [
            ("", Some(Value::Timestamp(want))),
            ("keep = true", Some(Value::Timestamp(want))),
            (
                "keep = \"original\"",
                Some(Value::Str(text.to_owned().into())),
            ),
            ("keep = false", None),
        ] {
            let r = rule(&format!("{base}{keep}")).unwrap();
            let mut f = fields(text);
            assert_eq!(r.apply(&mut f), Applied::Time(want), "{keep}");
            assert_eq!(f.get("time").cloned(), kept, "{keep}");
        }
        let r = rule(base).unwrap();
        let mut f = fields("yesterday");
        assert_eq!(r.apply(&mut f), Applied::Unreadable);
        assert_eq!(f.get("time").cloned(), Some(Value::Str("yesterday".into())));
        assert_eq!(r.apply(&mut Fields::default()), Applied::Absent);
    }

    #[test]
    fn config_errors_name_the_key() {
        let e = rule("keep = \"yes\"").unwrap_err();
        assert_eq!(e.path, vec!["keep"]);
        assert!(e.message.contains("\"original\""), "{}", e.message);
        let e = toml::from_str::<TimestampConfig>("dialect = \"strftime\"").unwrap_err();
        assert!(e.to_string().contains("chrono"), "{e}");
        let e = toml::from_str::<TimestampConfig>("keep = 3").unwrap_err();
        assert!(e.to_string().contains("true, false or \"original\""), "{e}");
        let e = rule("format = \"%b %d %H:%M:%S.%L\"").unwrap_err();
        assert_eq!(e.path, vec!["format"]);
        assert!(
            e.message.contains("dialect = \\\"fluentbit\\\"")
                || e.message.contains("dialect = \"fluentbit\""),
            "{}",
            e.message
        );
        let e = rule("timezone = \"Mars/Olympus_Mons\"").unwrap_err();
        assert_eq!(e.path, vec!["timezone"]);
    }
}
