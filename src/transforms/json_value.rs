//! JSON text to [`Value`], without copying strings.
//!
//! The line is checked for UTF-8 once, with SIMD, so that `serde_json` reads it as text and does
//! not check each string again.
//! `serde_json` hands a visitor every string that has no escape as a slice of the input
//! (`visit_borrowed_str`); the seed here turns such a slice into a [`Bytes`] that shares the
//! input's buffer ([`Bytes::slice_ref`]), so a line's keys and values cost reference counts, not
//! copies. Strings with escapes arrive decoded in a scratch buffer and are copied. Numbers become
//! `Int` when they fit an `i64`, else `Float`; objects become [`Fields`] (a repeated key keeps its
//! last value, in its first position). Nesting is limited by `serde_json` (128 levels). The keys
//! of the top-level object go through a [`KeyCache`] when the caller has one.

use std::fmt;

use bytes::Bytes;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::event::{Fields, Value};
use crate::intern::KeyCache;

/// Parses one JSON document (surrounding whitespace allowed, nothing else).
pub fn parse(input: &Bytes) -> Result<Value, serde_json::Error> {
    parse_in(input, input, None)
}

/// Parses the JSON document `input`, a slice of `owner` that strings will share; top-level
/// keys are pooled through `keys`.
pub fn parse_in(
    owner: &Bytes,
    input: &[u8],
    keys: Option<&mut KeyCache>,
) -> Result<Value, serde_json::Error> {
    let seed = TopSeed { buf: owner, keys };
    // Checking the whole line at once (SIMD) lets serde_json skip checking every string.
    match simdutf8::basic::from_utf8(input) {
        Ok(text) => run(serde_json::Deserializer::from_str(text), seed),
        Err(_) => run(serde_json::Deserializer::from_slice(input), seed),
    }
}

fn run<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    seed: TopSeed<'_, '_>,
) -> Result<Value, serde_json::Error> {
    let value = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A slice of `buf` when `s` lies inside it (it does for borrowed strings), else a copy.
#[inline]
fn share(buf: &Bytes, s: &[u8]) -> Bytes {
    let start = buf.as_ptr() as usize;
    let at = s.as_ptr() as usize;
    if at >= start && at + s.len() <= start + buf.len() {
        buf.slice_ref(s)
    } else {
        Bytes::copy_from_slice(s)
    }
}

/// The top-level value: like [`ValueSeed`], with pooled keys when it is an object.
struct TopSeed<'a, 'k> {
    buf: &'a Bytes,
    keys: Option<&'k mut KeyCache>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self.keys {
            Some(keys) => d.deserialize_any(PooledTop {
                buf: self.buf,
                keys,
            }),
            None => d.deserialize_any(ValueSeed { buf: self.buf }),
        }
    }
}

/// Visits the top-level value with a key cache.
struct PooledTop<'a, 'k> {
    buf: &'a Bytes,
    keys: &'k mut KeyCache,
}

impl<'de> Visitor<'de> for PooledTop<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value, E> {
        Ok(Value::Str(share(self.buf, s.as_bytes())))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(Bytes::copy_from_slice(s.as_bytes())))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        ValueSeed { buf: self.buf }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let seed = ValueSeed { buf: self.buf };
        let mut fields = Fields::with_capacity(8);
        let mut pos = 0;
        while let Some(key) = map.next_key_seed(PooledKeySeed {
            buf: self.buf,
            keys: &mut *self.keys,
            pos,
        })? {
            pos += 1;
            let value = map.next_value_seed(seed)?;
            if fields.iter().any(|(k, _)| *k == key) {
                fields.insert(key, value);
            } else {
                fields.push_unchecked(key, value);
            }
        }
        Ok(Value::Object(fields))
    }
}

/// A top-level key: pooled by position, else shared or copied.
struct PooledKeySeed<'a, 'k> {
    buf: &'a Bytes,
    keys: &'k mut KeyCache,
    pos: usize,
}

impl<'de> DeserializeSeed<'de> for PooledKeySeed<'_, '_> {
    type Value = Bytes;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Bytes, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for PooledKeySeed<'_, '_> {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Bytes, E> {
        Ok(match self.keys.get(self.pos, s.as_bytes()) {
            Some(k) => k,
            None => share(self.buf, s.as_bytes()),
        })
    }

    fn visit_str<E>(self, s: &str) -> Result<Bytes, E> {
        Ok(match self.keys.get(self.pos, s.as_bytes()) {
            Some(k) => k,
            None => Bytes::copy_from_slice(s.as_bytes()),
        })
    }
}

/// Deserializes any JSON value, sharing `buf` for unescaped strings.
#[derive(Clone, Copy)]
struct ValueSeed<'a> {
    buf: &'a Bytes,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value, E> {
        Ok(Value::Str(share(self.buf, s.as_bytes())))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(Bytes::copy_from_slice(s.as_bytes())))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Fields::with_capacity(8);
        while let Some(key) = map.next_key_seed(KeySeed { buf: self.buf })? {
            let value = map.next_value_seed(self)?;
            if fields.iter().any(|(k, _)| *k == key) {
                fields.insert(key, value);
            } else {
                fields.push_unchecked(key, value);
            }
        }
        Ok(Value::Object(fields))
    }
}

/// Deserializes an object key, sharing `buf` when it has no escape.
struct KeySeed<'a> {
    buf: &'a Bytes,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Bytes;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Bytes, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Bytes, E> {
        Ok(share(self.buf, s.as_bytes()))
    }

    fn visit_str<E>(self, s: &str) -> Result<Bytes, E> {
        Ok(Bytes::copy_from_slice(s.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn render(v: &Value) -> String {
        let mut out = Vec::new();
        crate::codec::json::write_value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn unescaped_strings_share_the_buffer() {
        let input = Bytes::from_static(br#"{"level":"INFO","msg":"a\"b","n":42,"f":1.5}"#);
        let Value::Object(f) = parse(&input).unwrap() else {
            panic!("not an object")
        };
        let Some(Value::Str(level)) = f.get("level") else {
            panic!("no level")
        };
        let inside = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
        assert!(
            inside.contains(&(level.as_ptr() as usize)),
            "level was copied"
        );
        assert_eq!(f.get("msg"), Some(&Value::from("a\"b")));
        assert_eq!(f.get("n"), Some(&Value::Int(42)));
        assert_eq!(f.get("f"), Some(&Value::Float(1.5)));
    }

    #[test]
    fn values_of_every_kind() {
        let input = Bytes::from_static(
            br#" {"a":[1,-2,18446744073709551615,null,true],"b":{"c":"\u00e9"},"a":"last"} "#,
        );
        let v = parse(&input).unwrap();
        assert_eq!(render(&v), r#"{"a":"last","b":{"c":"é"}}"#);
        let arr = parse(&Bytes::from_static(
            b"[1,-2,18446744073709551615,null,true]",
        ))
        .unwrap();
        assert_eq!(
            arr,
            Value::Array(vec![
                Value::Int(1),
                Value::Int(-2),
                Value::Float(u64::MAX as f64),
                Value::Null,
                Value::Bool(true)
            ])
        );
    }

    #[test]
    fn rejects_invalid_documents() {
        for bad in [&b""[..], b"{", b"{\"a\":1} x", b"{'a':1}", b"[1,]", b"nul"] {
            assert!(parse(&Bytes::copy_from_slice(bad)).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&Bytes::from(deep)).is_err(), "nesting is limited");
    }

    fn arb_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            // Quarters print and parse back exactly, whatever the float algorithm.
            any::<i32>().prop_map(|n| serde_json::Value::from(f64::from(n) / 4.0)),
            ".{0,12}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::btree_map("[a-z\"\\\\é]{0,6}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json(v in arb_json()) {
            let text = serde_json::to_string(&v).unwrap();
            let ours = parse(&Bytes::from(text.clone())).unwrap();
            let back: serde_json::Value = serde_json::from_str(&render(&ours)).unwrap();
            prop_assert_eq!(back, v);
        }

        #[test]
        fn pooled_keys_change_nothing(docs in prop::collection::vec(arb_json(), 1..6)) {
            let mut cache = KeyCache::default();
            for v in docs {
                let text = Bytes::from(serde_json::to_string(&v).unwrap());
                let pooled = parse_in(&text, &text, Some(&mut cache)).unwrap();
                prop_assert_eq!(pooled, parse(&text).unwrap());
            }
        }

        #[test]
        fn never_panics(s in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&Bytes::from(s));
        }
    }
}
