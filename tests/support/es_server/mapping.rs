//! Dynamic mapping for the test Elasticsearch server.
//!
//! A document's source is checked in one streaming pass straight from its JSON
//! text, without building a `serde_json::Value`: benchmarks push hundreds of
//! megabytes through here, and allocating a tree per document made the test
//! server slower than the shipper it measures.
//!
//! The rules follow Elasticsearch's dynamic mapping closely enough to reject
//! what a log shipper meets in production: the first document that sets a
//! field fixes its type (`long`, `float`, `boolean`, `text`, `date` when a
//! string looks like a date, `object`); later documents must fit it, with
//! Elasticsearch's coercions (numeric strings into numbers, numbers and
//! booleans into text, `"true"`/`"false"` into booleans).

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::store::EsError;

/// A quick multiply-rotate hasher for the server's maps: field paths and
/// document ids are hashed millions of times in benchmarks, where SipHash's
/// flooding resistance buys nothing.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        // Fold the well-mixed high bits into the low ones the table indexes by.
        self.0 ^ (self.0 >> 29)
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

/// Field types a dynamic mapping can settle on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldType {
    Long,
    Float,
    Boolean,
    Text,
    Date,
    Object,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Long => "long",
            FieldType::Float => "float",
            FieldType::Boolean => "boolean",
            FieldType::Text => "text",
            FieldType::Date => "date",
            FieldType::Object => "object",
        }
    }
}

const METADATA_FIELDS: &[&str] = &[
    "_id",
    "_index",
    "_source",
    "_routing",
    "_version",
    "_seq_no",
    "_primary_term",
    "_ignored",
    "_ignored_source",
    "_field_names",
    "_doc_count",
    "_tier",
    "_nested_path",
    "_data_stream_timestamp",
    "_feature",
];

/// What a successful check found out about a document.
pub(crate) struct Checked {
    /// Fields the document adds to the mapping.
    pub new_fields: Vec<(String, FieldType)>,
    /// Whether it has a non-null top-level `@timestamp`.
    pub has_timestamp: bool,
}

/// Parses `raw` as a JSON object and checks it against `mapping`. Nothing is
/// added to the mapping here; the caller adds `new_fields` once the document
/// is accepted.
pub(crate) fn check_source(
    mapping: &FastMap<String, FieldType>,
    limit: usize,
    raw: &str,
    id: &str,
    error_type: &str,
) -> Result<Checked, EsError> {
    let mut walker = Walker {
        mapping,
        pending: FastMap::default(),
        path: String::new(),
        raw,
        id,
        error_type,
        error: None,
        has_timestamp: false,
    };
    let mut de = serde_json::Deserializer::from_str(raw);
    let parsed = TopSeed(&mut walker)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Err(e) = parsed {
        return Err(walker.error.take().unwrap_or_else(|| {
            EsError::new(
                400,
                error_type,
                format!("[{}:{}] failed to parse: {}", e.line(), e.column(), e),
            )
        }));
    }
    let new = walker.pending.len();
    if new > 0 && mapping.len() + new > limit {
        let msg = format!(
            "Limit of total fields [{limit}] has been exceeded while adding new fields [{new}]"
        );
        return Err(EsError::new(
            400,
            error_type,
            format!("[1:{}] failed to parse: {msg}", raw.len()),
        )
        .caused_by("illegal_argument_exception", msg));
    }
    Ok(Checked {
        new_fields: walker.pending.into_iter().collect(),
        has_timestamp: walker.has_timestamp,
    })
}

struct Walker<'a> {
    mapping: &'a FastMap<String, FieldType>,
    pending: FastMap<String, FieldType>,
    /// Dotted path of the field being visited.
    path: String,
    raw: &'a str,
    id: &'a str,
    error_type: &'a str,
    /// The mapping error that stopped the walk, if any.
    error: Option<EsError>,
    has_timestamp: bool,
}

/// A concrete JSON value, borrowed.
enum Scalar<'s> {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'s str),
}

impl Scalar<'_> {
    fn preview(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Str(s) => s.to_string(),
        }
    }
}

impl Walker<'_> {
    fn lookup(&self, path: &str) -> Option<FieldType> {
        self.mapping
            .get(path)
            .or_else(|| self.pending.get(path))
            .copied()
    }

    fn leaf(&self) -> &str {
        self.path.rsplit('.').next().unwrap_or("")
    }

    fn fail<E: de::Error>(&mut self, err: EsError) -> E {
        self.error = Some(err);
        E::custom("mapping error")
    }

    /// The current path must be (or become) an object.
    fn enter_object<E: de::Error>(&mut self, upto: usize) -> Result<(), E> {
        match self.lookup(&self.path[..upto]) {
            None => {
                self.pending
                    .insert(self.path[..upto].to_string(), FieldType::Object);
                Ok(())
            }
            Some(FieldType::Object) => Ok(()),
            Some(t) => {
                let (path, leaf) = {
                    let p = &self.path[..upto];
                    (
                        p.to_string(),
                        p.rsplit('.').next().unwrap_or("").to_string(),
                    )
                };
                let err = self.field_error(&path, &leaf, t, "{...}", false);
                Err(self.fail(err))
            }
        }
    }

    fn scalar<E: de::Error>(&mut self, v: Scalar<'_>) -> Result<(), E> {
        match self.lookup(&self.path) {
            None => {
                let t = infer(&v);
                self.pending.insert(self.path.clone(), t);
                Ok(())
            }
            Some(FieldType::Object) => {
                let err = EsError::new(
                    400,
                    self.error_type,
                    format!(
                        "[1:{}] object mapping for [{}] tried to parse field [{}] as object, but found a concrete value",
                        column_of(self.raw, self.leaf()),
                        self.path,
                        self.leaf()
                    ),
                );
                Err(self.fail(err))
            }
            Some(t) if accepts(t, &v) => Ok(()),
            Some(t) => {
                let numeric_string =
                    matches!(v, Scalar::Str(_)) && matches!(t, FieldType::Long | FieldType::Float);
                let (path, leaf) = (self.path.clone(), self.leaf().to_string());
                let err = self.field_error(&path, &leaf, t, &v.preview(), numeric_string);
                Err(self.fail(err))
            }
        }
    }

    fn field_error(
        &self,
        path: &str,
        leaf: &str,
        t: FieldType,
        preview: &str,
        number_format: bool,
    ) -> EsError {
        let err = EsError::new(
            400,
            self.error_type,
            format!(
                "[1:{}] failed to parse field [{path}] of type [{}] in document with id '{}'. Preview of field's value: '{preview}'",
                column_of(self.raw, leaf),
                t.name(),
                self.id
            ),
        );
        if number_format {
            err.caused_by(
                "number_format_exception",
                format!("For input string: \"{preview}\""),
            )
        } else if t == FieldType::Date {
            err.caused_by(
                "illegal_argument_exception",
                format!("failed to parse date field [{preview}] with format [strict_date_optional_time||epoch_millis]"),
            )
        } else {
            err
        }
    }
}

/// The document itself: must be an object.
struct TopSeed<'w, 'a>(&'w mut Walker<'a>);

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(ObjectVisitor {
            w: self.0,
            top: true,
        })
    }
}

struct ObjectVisitor<'w, 'a> {
    w: &'w mut Walker<'a>,
    top: bool,
}

impl<'de> Visitor<'de> for ObjectVisitor<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let w = self.w;
        loop {
            let base = w.path.len();
            if !w.path.is_empty() {
                w.path.push('.');
            }
            let start = w.path.len();
            if map.next_key_seed(KeySeed(&mut w.path))?.is_none() {
                w.path.truncate(base);
                return Ok(());
            }
            let key = &w.path[start..];
            if key.trim().is_empty() || key.split('.').any(str::is_empty) {
                let err = EsError::new(
                    400,
                    w.error_type,
                    format!(
                        "[1:{}] failed to parse: field name cannot contain only whitespace or be empty: ['{}']",
                        column_of(w.raw, key),
                        w.path
                    ),
                );
                return Err(w.fail(err));
            }
            if self.top && METADATA_FIELDS.contains(&key) {
                let err = EsError::new(
                    400,
                    w.error_type,
                    format!(
                        "[1:{}] Field [{key}] is a metadata field and cannot be added inside a document. Use the index API request parameters.",
                        column_of(w.raw, key)
                    ),
                );
                return Err(w.fail(err));
            }
            let is_timestamp = self.top && key == "@timestamp";
            // A dotted key `a.b` is the field `b` inside the object `a`.
            let dots: Vec<usize> = w.path[start..]
                .match_indices('.')
                .map(|(i, _)| start + i)
                .collect();
            for dot in dots {
                w.enter_object(dot)?;
            }
            let non_null = map.next_value_seed(ValueSeed(&mut *w))?;
            if is_timestamp && non_null {
                w.has_timestamp = true;
            }
            w.path.truncate(base);
        }
    }
}

/// Appends an object key to the path buffer, borrowed or not, without
/// allocating.
struct KeySeed<'p>(&'p mut String);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
}

/// A field value at the walker's current path; yields whether it was
/// non-null.
struct ValueSeed<'w, 'a>(&'w mut Walker<'a>);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.0.scalar(Scalar::Bool(v)).map(|()| true)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.0.scalar(Scalar::Int(v.into())).map(|()| true)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.0.scalar(Scalar::Int(v.into())).map(|()| true)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.0.scalar(Scalar::Float(v)).map(|()| true)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        self.0.scalar(Scalar::Str(v)).map(|()| true)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let w = self.0;
        let mut any = false;
        while let Some(non_null) = seq.next_element_seed(ValueSeed(&mut *w))? {
            any |= non_null;
        }
        Ok(any)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        let w = self.0;
        let len = w.path.len();
        w.enter_object(len)?;
        ObjectVisitor { w, top: false }.visit_map(map)?;
        Ok(true)
    }
}

fn infer(v: &Scalar<'_>) -> FieldType {
    match v {
        Scalar::Bool(_) => FieldType::Boolean,
        Scalar::Int(_) => FieldType::Long,
        Scalar::Float(_) => FieldType::Float,
        Scalar::Str(s) if detect_date(s) => FieldType::Date,
        Scalar::Str(_) => FieldType::Text,
    }
}

/// Whether a concrete value fits a field of type `t`.
fn accepts(t: FieldType, v: &Scalar<'_>) -> bool {
    const LONG_RANGE: f64 = 9.223_372_036_854_775e18;
    match (t, v) {
        (FieldType::Long, Scalar::Int(i)) => i64::try_from(*i).is_ok(),
        (FieldType::Long, Scalar::Float(f)) => f.abs() < LONG_RANGE,
        (FieldType::Long, Scalar::Str(s)) => s
            .parse::<f64>()
            .is_ok_and(|f| f.is_finite() && f.abs() < LONG_RANGE),
        (FieldType::Float, Scalar::Int(_) | Scalar::Float(_)) => true,
        (FieldType::Float, Scalar::Str(s)) => s.parse::<f64>().is_ok_and(f64::is_finite),
        (FieldType::Boolean, Scalar::Bool(_)) => true,
        (FieldType::Boolean, Scalar::Str(s)) => *s == "true" || *s == "false" || s.is_empty(),
        (FieldType::Text, _) => true,
        (FieldType::Date, Scalar::Int(_) | Scalar::Float(_)) => true,
        (FieldType::Date, Scalar::Str(s)) => {
            parse_date(s) || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        }
        _ => false,
    }
}

/// Dynamic date detection: `strict_date_optional_time` with at least a full
/// date, or `yyyy/MM/dd[ HH:mm:ss[ Z]]`.
fn detect_date(s: &str) -> bool {
    s.len() >= 10 && parse_date(s)
}

/// A small parser for the date formats Elasticsearch accepts by default:
/// `yyyy[-MM[-dd['T'HH[:mm[:ss[.fraction]]][zone]]]]`, zone being `Z` or
/// `±HH[:]mm` / `±HH`, and `yyyy/MM/dd[ HH:mm:ss[ zone]]`. A space between
/// date and time (`2024-01-01 10:00:00`) is refused, as in Elasticsearch.
fn parse_date(s: &str) -> bool {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    if !c.num(4, 0, 9999) {
        return false;
    }
    if c.eat(b'/') {
        let date = c.num(2, 1, 12) && c.eat(b'/') && c.num(2, 1, 31);
        if !date {
            return false;
        }
        if c.done() {
            return true;
        }
        let time = c.eat(b' ')
            && c.num(2, 0, 23)
            && c.eat(b':')
            && c.num(2, 0, 59)
            && c.eat(b':')
            && c.num(2, 0, 59);
        c.eat(b' ');
        return time && c.zone();
    }
    for (lo, hi) in [(1, 12), (1, 31)] {
        if c.done() {
            return true;
        }
        if !(c.eat(b'-') && c.num(2, lo, hi)) {
            return false;
        }
    }
    if c.done() {
        return true;
    }
    if !(c.eat(b'T') && c.num(2, 0, 23)) {
        return false;
    }
    for hi in [59, 60] {
        if !c.eat(b':') {
            return c.zone();
        }
        if !c.num(2, 0, hi) {
            return false;
        }
    }
    if c.eat(b'.') || c.eat(b',') {
        let start = c.i;
        while c.b.get(c.i).is_some_and(u8::is_ascii_digit) {
            c.i += 1;
        }
        if c.i == start || c.i - start > 9 {
            return false;
        }
    }
    c.zone()
}

struct Cursor<'s> {
    b: &'s [u8],
    i: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
    fn eat(&mut self, ch: u8) -> bool {
        let hit = self.b.get(self.i) == Some(&ch);
        self.i += usize::from(hit);
        hit
    }
    /// Exactly `n` digits with a value in `lo..=hi`.
    fn num(&mut self, n: usize, lo: u32, hi: u32) -> bool {
        let Some(digits) = self.b.get(self.i..self.i + n) else {
            return false;
        };
        if !digits.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let v = digits
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        self.i += n;
        (lo..=hi).contains(&v)
    }
    /// An optional zone (`Z`, `±HH`, `±HH:mm`, `±HHmm`) ending the input.
    fn zone(&mut self) -> bool {
        if self.done() {
            return true;
        }
        if self.eat(b'Z') {
            return self.done();
        }
        if !(self.eat(b'+') || self.eat(b'-')) || !self.num(2, 0, 18) {
            return false;
        }
        self.eat(b':');
        self.done() || (self.num(2, 0, 59) && self.done())
    }
}

/// Best-effort 1-based column of a field's value in the source line, for
/// error messages shaped like Elasticsearch's `[1:COL]`.
pub(crate) fn column_of(raw: &str, key: &str) -> usize {
    let quoted = format!("\"{key}\"");
    match raw.find(&quoted) {
        Some(at) => {
            let rest = &raw[at + quoted.len()..];
            let skip = rest.len() - rest.trim_start_matches([' ', ':', '\t']).len();
            raw[..at + quoted.len() + skip].chars().count() + 1
        }
        None => 1,
    }
}
