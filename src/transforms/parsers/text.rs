//! Fluent Bit's `logfmt` and `ltsv` formats, read by its rules (`flb_parser_logfmt.c`,
//! `flb_parser_ltsv.c`), which are more lenient than skiff's own `parse_logfmt`.
//!
//! logfmt: a key is a run of bytes above space other than `=` and `"`; anything else between
//! pairs is skipped. `key=value`, `key="quoted \"value\""` (escapes `\" \' \\ \/ \n \b \t \f \r
//! \uXXXX`), `key=""` (empty text); a bare `key` and `key=` are `true`. Reading stops at a line
//! break right after a pair. A text with no key does not parse.
//!
//! LTSV: `label:value` pairs separated by tabs; a label is `[0-9A-Za-z_.-]+`, a value runs to
//! the next tab or line break. Reading stops at the first pair that is not one, or at a line
//! break. Values are slices of the line unless they had escapes.

use bytes::Bytes;

use crate::event::{Fields, Value};

/// A logfmt key or bare value byte.
fn ident(b: u8) -> bool {
    b > b' ' && b != b'=' && b != b'"'
}

/// Reads logfmt; `None` when there is no key.
pub fn logfmt(owner: &Bytes, b: &[u8]) -> Option<Fields> {
    let slice = |s: usize, e: usize| owner.slice_ref(&b[s..e]);
    let mut out = Fields::with_capacity(8);
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && !ident(b[i]) {
            i += 1;
        }
        let key_start = i;
        while i < b.len() && ident(b[i]) {
            i += 1;
        }
        if i == key_start {
            break;
        }
        let key = slice(key_start, i);
        let value = if i < b.len() && b[i] == b'=' {
            i += 1;
            if i < b.len() && b[i] == b'"' {
                i += 1;
                let start = i;
                let mut escaped = false;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        escaped = true;
                        i += 1;
                    }
                    i += 1;
                }
                let end = i.min(b.len());
                i = (i + 1).min(b.len());
                if escaped {
                    Value::Str(Bytes::from(unescape(&b[start..end])))
                } else {
                    Value::Str(slice(start, end))
                }
            } else {
                let start = i;
                while i < b.len() && ident(b[i]) {
                    i += 1;
                }
                if i == start {
                    Value::Bool(true)
                } else {
                    Value::Str(slice(start, i))
                }
            }
        } else {
            Value::Bool(true)
        };
        out.insert(key, value);
        // A line break right after a pair ends the record.
        if i < b.len() && (b[i] == b'\n' || b[i] == b'\r') {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Fluent Bit's unescaping of a quoted logfmt value.
fn unescape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        let decoded = match c {
            b'n' => b'\n',
            b'b' => b'\x08',
            b't' => b'\t',
            b'f' => b'\x0C',
            b'r' => b'\r',
            b'u' => {
                let hex = b.get(i..i + 4).and_then(|h| std::str::from_utf8(h).ok());
                let ch = hex
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32);
                if let Some(ch) = ch {
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    i += 4;
                } else {
                    out.push(b'u');
                }
                continue;
            }
            other => other,
        };
        out.push(decoded);
    }
    out
}

/// An LTSV label byte.
fn label(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// An LTSV value byte.
fn field(b: u8) -> bool {
    !matches!(b, 0 | b'\t' | b'\n' | b'\r')
}

/// Reads LTSV; `None` when there is no pair.
pub fn ltsv(owner: &Bytes, b: &[u8]) -> Option<Fields> {
    let slice = |s: usize, e: usize| owner.slice_ref(&b[s..e]);
    let mut out = Fields::with_capacity(8);
    let mut i = 0;
    while i < b.len() {
        let label_start = i;
        while i < b.len() && label(b[i]) {
            i += 1;
        }
        if i == b.len() || b[i] != b':' {
            break;
        }
        let label_end = i;
        i += 1;
        let value_start = i;
        while i < b.len() && field(b[i]) {
            i += 1;
        }
        if label_end > label_start {
            out.insert(
                slice(label_start, label_end),
                Value::Str(slice(value_start, i)),
            );
        }
        if i < b.len() && b[i] == b'\t' {
            i += 1;
        }
        if i < b.len() && (b[i] == b'\r' || b[i] == b'\n') {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lf(s: &str) -> Option<Vec<(String, Value)>> {
        let owner = Bytes::copy_from_slice(s.as_bytes());
        logfmt(&owner, &owner).map(|f| {
            f.iter()
                .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.clone()))
                .collect()
        })
    }

    #[test]
    fn logfmt_by_fluent_bit_rules() {
        assert_eq!(
            lf(r#"a=1 b="x \"y\"" c= d e="" ,junk f=é"#).unwrap(),
            [
                ("a".to_owned(), Value::from("1")),
                ("b".to_owned(), Value::from("x \"y\"")),
                ("c".to_owned(), Value::Bool(true)),
                ("d".to_owned(), Value::Bool(true)),
                ("e".to_owned(), Value::from("")),
                (",junk".to_owned(), Value::Bool(true)),
                ("f".to_owned(), Value::from("é")),
            ]
        );
        assert_eq!(lf("a=1\nb=2").unwrap().len(), 1);
        assert_eq!(lf("  "), None);
        assert_eq!(lf(r#"a="\u00e9\n""#).unwrap()[0].1, Value::from("é\n"));
        assert_eq!(lf(r#"a="open"#).unwrap()[0].1, Value::from("open"));
    }

    #[test]
    fn ltsv_by_fluent_bit_rules() {
        let owner = Bytes::from_static(b"host:127.0.0.1\tident:-\tmsg:a b:c\tbad label:x\tz:1");
        let f = ltsv(&owner, &owner).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(f.get("msg"), Some(&Value::from("a b:c")));
        let owner = Bytes::from_static(b"nolabel");
        assert!(ltsv(&owner, &owner).is_none());
    }

    proptest! {
        #[test]
        fn never_panic(s in "\\PC{0,40}|[a=\" \\\\\t:\n]{0,20}") {
            let owner = Bytes::copy_from_slice(s.as_bytes());
            let _ = logfmt(&owner, &owner);
            let _ = ltsv(&owner, &owner);
        }
    }
}
