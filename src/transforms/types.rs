//! Typed values for text parsers: `types = { latency_ms = "int", ok = "bool" }`.
//!
//! Regex captures and logfmt values are text; a parser converts the fields named in `types` as it
//! builds the event, from the bytes it already holds (no intermediate `String`). A value that does
//! not convert stays text and the event is marked with `_skiff_error`.

use bytes::Bytes;
use serde::Deserialize;

use crate::event::Value;

/// The type a text value is converted to.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// A 64-bit signed integer (`-12`, `+7`).
    Int,
    /// A 64-bit float (`1.5`, `-2e3`, `7`).
    Float,
    /// `true`/`false` (any case), `1`/`0`.
    Bool,
    /// Text, as captured (the default).
    #[default]
    String,
}

impl FieldType {
    /// Converts `text` (a slice of the line, valid UTF-8) to this type; `Err` keeps the text.
    #[inline]
    pub fn convert(self, text: Bytes) -> Result<Value, Bytes> {
        match self {
            FieldType::String => Ok(Value::Str(text)),
            FieldType::Int => parse_int(&text).map(Value::Int).ok_or(text),
            FieldType::Float => std::str::from_utf8(&text)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|f| f.is_finite())
                .map(Value::Float)
                .ok_or(text),
            FieldType::Bool => parse_bool(&text).map(Value::Bool).ok_or(text),
        }
    }

    /// The type's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Int => "int",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::String => "string",
        }
    }
}

/// Parses a decimal integer with an optional sign, without allocating.
fn parse_int(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        n = if neg {
            n.checked_mul(10)?.checked_sub(d)?
        } else {
            n.checked_mul(10)?.checked_add(d)?
        };
    }
    Some(n)
}

fn parse_bool(b: &[u8]) -> Option<bool> {
    if b.eq_ignore_ascii_case(b"true") || b == b"1" {
        Some(true)
    } else if b.eq_ignore_ascii_case(b"false") || b == b"0" {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn conv(t: FieldType, s: &'static str) -> Result<Value, Bytes> {
        t.convert(Bytes::from_static(s.as_bytes()))
    }

    #[test]
    fn converts_each_type() {
        assert_eq!(conv(FieldType::Int, "42"), Ok(Value::Int(42)));
        assert_eq!(
            conv(FieldType::Int, "-9223372036854775808"),
            Ok(Value::Int(i64::MIN))
        );
        assert!(conv(FieldType::Int, "9223372036854775808").is_err());
        assert!(conv(FieldType::Int, "4x").is_err());
        assert!(conv(FieldType::Int, "-").is_err());
        assert_eq!(conv(FieldType::Float, "0.25"), Ok(Value::Float(0.25)));
        assert!(conv(FieldType::Float, "inf").is_err());
        assert_eq!(conv(FieldType::Bool, "TRUE"), Ok(Value::Bool(true)));
        assert_eq!(conv(FieldType::Bool, "0"), Ok(Value::Bool(false)));
        assert!(conv(FieldType::Bool, "yes").is_err());
        assert_eq!(conv(FieldType::String, "x"), Ok(Value::from("x")));
    }

    proptest! {
        #[test]
        fn int_matches_std(s in "[+-]?[0-9]{0,21}|.{0,8}") {
            let ours = parse_int(s.as_bytes());
            let std = s.parse::<i64>().ok();
            prop_assert_eq!(ours, std);
        }
    }
}
