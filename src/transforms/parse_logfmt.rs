//! `parse_logfmt`: `key=value key2="quoted \"value\"" flag` lines become fields.
//!
//! Pairs are separated by spaces, tabs or other ASCII control characters. A value runs to the next space, or is double-quoted
//! with JSON-style escapes (`\"`, `\\`, `\n`, `\t`, `\uXXXX`...). A key without `=` is a flag:
//! `true`. `key=` is the empty string. A repeated key keeps its last value. Errors: a key that
//! is empty or holds a quote, an unterminated quote, a bad escape, text glued after a closing
//! quote. Values are slices of the line unless they had escapes. `types` converts values like
//! `parse_regex` does.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Deserialize;

use super::on_error::Reason;
use super::parser::{parse_own, Parse, ParserOptions, ParserTransform};
use super::types::FieldType;
use super::{Transform, TransformConfig};
use crate::config::FieldError;
use crate::event::{Fields, Value};

/// The options of `parse_logfmt` besides the common ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnOptions {
    /// Types of values by key: `int`, `float`, `bool`, `string` (default).
    #[serde(default)]
    types: BTreeMap<String, FieldType>,
}

/// A validated `parse_logfmt` transform.
#[derive(Debug, Clone)]
pub struct ParseLogfmtConfig {
    opts: ParserOptions,
    parser: LogfmtParser,
}

impl ParseLogfmtConfig {
    /// Parses and checks the table.
    pub fn parse(mut table: toml::Table) -> Result<ParseLogfmtConfig, FieldError> {
        let opts = ParserOptions::take_from(&mut table)?;
        let own: OwnOptions = parse_own(table)?;
        Ok(ParseLogfmtConfig {
            opts,
            parser: LogfmtParser::new(&own.types),
        })
    }
}

impl TransformConfig for ParseLogfmtConfig {
    fn stateless(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "parse_logfmt"
    }

    fn build(&self, name: &str) -> Box<dyn Transform> {
        Box::new(ParserTransform::new(
            name,
            self.parser.clone(),
            self.opts.clone(),
        ))
    }
}

/// The logfmt [`Parse`] implementation.
#[derive(Debug, Clone, Default)]
pub struct LogfmtParser {
    types: Vec<(Bytes, FieldType)>,
}

impl LogfmtParser {
    /// A parser converting the keys of `types`.
    pub fn new(types: &BTreeMap<String, FieldType>) -> LogfmtParser {
        LogfmtParser {
            types: types
                .iter()
                .map(|(k, t)| (Bytes::copy_from_slice(k.as_bytes()), *t))
                .collect(),
        }
    }

    fn type_of(&self, key: &[u8]) -> FieldType {
        self.types
            .iter()
            .find(|(k, _)| k.as_ref() == key)
            .map_or(FieldType::String, |(_, t)| *t)
    }
}

#[inline]
fn is_space(b: u8) -> bool {
    // Any ASCII control byte separates pairs, as in go-logfmt and Fluent Bit.
    b <= b' '
}

impl Parse for LogfmtParser {
    fn parse(
        &mut self,
        owner: &Bytes,
        b: &[u8],
        warning: &mut Option<Reason>,
    ) -> Result<Value, Reason> {
        let slice = |s: usize, e: usize| owner.slice_ref(&b[s..e]);
        let mut out = Fields::with_capacity(8);
        let mut i = 0;
        loop {
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            if i == b.len() {
                break;
            }
            let key_start = i;
            while i < b.len() && !is_space(b[i]) && b[i] != b'=' && b[i] != b'"' {
                i += 1;
            }
            if i == key_start {
                return Err(Cow::Borrowed(if b[i] == b'"' {
                    "quote where a key was expected"
                } else {
                    "empty key before `=`"
                }));
            }
            let key = slice(key_start, i);
            let value = match b.get(i) {
                None | Some(b' ' | b'\t') => Value::Bool(true),
                Some(b'"') => return Err(Cow::Borrowed("quote inside a key")),
                Some(_) => {
                    i += 1;
                    let (text, next) = if b.get(i) == Some(&b'"') {
                        quoted(owner, b, i)?
                    } else {
                        let start = i;
                        while i < b.len() && !is_space(b[i]) {
                            i += 1;
                        }
                        (slice(start, i), i)
                    };
                    i = next;
                    let ty = self.type_of(&key);
                    ty.convert(text).unwrap_or_else(|text| {
                        *warning = Some(Cow::Owned(format!(
                            "field `{}` is not {}",
                            String::from_utf8_lossy(&key),
                            match ty {
                                FieldType::Int => "an int",
                                other => other.name(),
                            }
                        )));
                        Value::Str(text)
                    })
                }
            };
            if out.iter().any(|(k, _)| *k == key) {
                out.insert(key, value);
            } else {
                out.push_unchecked(key, value);
            }
        }
        Ok(Value::Object(out))
    }
}

/// A quoted value starting at `b[open]` (the quote; `b` lies in `owner`): its text and the
/// index after it.
fn quoted(owner: &Bytes, b: &[u8], open: usize) -> Result<(Bytes, usize), Reason> {
    let start = open + 1;
    let mut i = start;
    let mut escaped = false;
    loop {
        match b.get(i) {
            None => return Err(Cow::Borrowed("unterminated quoted value")),
            Some(b'"') => break,
            Some(b'\\') => {
                escaped = true;
                i += 2;
            }
            Some(_) => i += 1,
        }
    }
    let end = i;
    if b.get(end + 1).is_some_and(|&c| !is_space(c)) {
        return Err(Cow::Borrowed("text right after a closing quote"));
    }
    let text = if escaped {
        unescape(&b[start..end])?
    } else {
        owner.slice_ref(&b[start..end])
    };
    Ok((text, end + 1))
}

/// Decodes JSON-style escapes.
fn unescape(s: &[u8]) -> Result<Bytes, Reason> {
    let bad = || Cow::Borrowed("invalid escape in quoted value");
    let mut out = BytesMut::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let Some(off) = memchr::memchr(b'\\', &s[i..]) else {
            out.put_slice(&s[i..]);
            break;
        };
        out.put_slice(&s[i..i + off]);
        i += off + 1;
        let c = *s.get(i).ok_or_else(bad)?;
        i += 1;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'u' => {
                let (ch, used) = unicode_escape(&s[i..]).ok_or_else(bad)?;
                i += used;
                ch
            }
            _ => return Err(bad()),
        };
        let mut buf = [0u8; 4];
        out.put_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    Ok(out.freeze())
}

/// `XXXX` after `\u`, with a surrogate pair `\uD83D\uDE00` as one character; a lone surrogate
/// decodes to U+FFFD.
fn unicode_escape(s: &[u8]) -> Option<(char, usize)> {
    let hex = |b: &[u8]| -> Option<u32> {
        let t = std::str::from_utf8(b.get(..4)?).ok()?;
        u32::from_str_radix(t, 16)
            .ok()
            .filter(|_| t.bytes().all(|c| c.is_ascii_hexdigit()))
    };
    let hi = hex(s)?;
    if (0xD800..0xDC00).contains(&hi) && s.get(4..6) == Some(b"\\u") {
        if let Some(lo) = hex(&s[6..]).filter(|lo| (0xDC00..0xE000).contains(lo)) {
            let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            return Some((char::from_u32(c)?, 10));
        }
    }
    Some((char::from_u32(hi).unwrap_or('\u{FFFD}'), 4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::testing::{json_lines, run_lines};
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<Value, Reason> {
        let b = Bytes::copy_from_slice(s.as_bytes());
        LogfmtParser::default().parse(&b, &b, &mut None)
    }

    #[test]
    fn golden_lines() {
        let mut t = ParseLogfmtConfig::parse(
            toml::from_str("types = { latency_ms = \"int\", ok = \"bool\" }").unwrap(),
        )
        .unwrap()
        .build("parse_logfmt_test");
        let out = run_lines(
            t.as_mut(),
            &[
                r#"level=info msg="request \"handled\"" latency_ms=42 ok=true cached"#,
                r#"level=warn msg= path=/a=b  tab	x=é"#,
                r#"msg="unterminated"#,
                r#"latency_ms=fast"#,
            ],
        );
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"<read_at>","level":"info","msg":"request \"handled\"","latency_ms":42,"ok":true,"cached":true,"file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"<read_at>","level":"warn","msg":"","path":"/a=b","tab":true,"x":"é","file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"<read_at>","message":"msg=\"unterminated","file":"/var/log/app/app.log","_skiff_error":"unterminated quoted value"}"#,
                r#"{"timestamp":"<read_at>","latency_ms":"fast","file":"/var/log/app/app.log","_skiff_error":"field `latency_ms` is not an int"}"#,
            ]
        );
    }

    #[test]
    fn escapes_and_errors() {
        let v = parse(r#"a="\u00e9\ud83d\ude00\n\/" b="\ud800""#).unwrap();
        let Value::Object(f) = v else { panic!() };
        assert_eq!(f.get("a"), Some(&Value::from("é😀\n/")));
        assert_eq!(f.get("b"), Some(&Value::from("\u{FFFD}")));
        for bad in [
            "=x",
            r#""a"=b"#,
            r#"a"b=c"#,
            r#"a="x"y"#,
            r#"a="\q""#,
            r#"a="\u12""#,
            r#"a="x\"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse("  ").unwrap(), Value::Object(Fields::default()));
        let Value::Object(f) = parse("a=1 a=2").unwrap() else {
            panic!()
        };
        assert_eq!(f.len(), 1);
        assert_eq!(f.get("a"), Some(&Value::from("2")));
    }

    /// Writes pairs as logfmt, quoting what needs it.
    fn encode(pairs: &[(String, Option<String>)]) -> String {
        let mut out = Vec::new();
        for (k, v) in pairs {
            out.push(match v {
                None => k.clone(),
                Some(v)
                    if v.is_empty() || v.bytes().any(|c| c <= b' ' || c == b'"' || c == b'\\') =>
                {
                    format!("{k}={}", serde_json::to_string(v).unwrap())
                }
                Some(v) => format!("{k}={v}"),
            });
        }
        out.join(" ")
    }

    proptest! {
        #[test]
        fn round_trip(pairs in prop::collection::btree_map(
            "[a-zA-Z_][a-zA-Z0-9_.-]{0,8}",
            prop::option::of(".{0,16}"),
            0..8,
        )) {
            let pairs: Vec<_> = pairs.into_iter().collect();
            let Value::Object(f) = parse(&encode(&pairs)).unwrap() else { panic!() };
            prop_assert_eq!(f.len(), pairs.len());
            for (k, v) in &pairs {
                let expected = match v {
                    None => Value::Bool(true),
                    Some(v) => Value::from(v.as_str()),
                };
                prop_assert_eq!(f.get(k), Some(&expected));
            }
        }

        #[test]
        fn never_panics(s in ".{0,64}") {
            let _ = parse(&s);
        }
    }
}
