//! Document ids.
//!
//! A deterministic id makes delivery effectively exactly-once: with `create` actions, a document
//! sent twice (after a retry, or after a restart that reads the file again from the last
//! checkpoint) is refused the second time with a 409, which the sink counts as delivered.
//!
//! The id is `<file identity as 16 hex digits>-<byte offset of the line in hex>`, for example
//! `9f86d081884c7d65-1a2b`. Both parts are stable: the file identity is a fingerprint kept in the
//! checkpoints (a renamed file keeps it), and a line's offset never changes. The id is readable
//! (the offset points at the line in the file) and short (at most 33 bytes). When a transform makes
//! several events from one line, the events after the first get `.1`, `.2`... appended, so that
//! they do not collide. Events with no origin (not read from a file) get no deterministic id.

use crate::event::{FieldPath, Fields, Value};

/// How the encoder chooses ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdStrategy {
    /// Take the id from this field when present.
    pub field: Option<FieldPath>,
    /// Otherwise, derive it from the file identity and offset.
    pub deterministic: bool,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes the deterministic id of the event at `offset` of file `file_id`; `repeat` is the number
/// of earlier events of the same batch with the same offset.
pub fn write_deterministic(out: &mut Vec<u8>, file_id: u64, offset: u64, repeat: u32) {
    let mut buf = [0u8; 16];
    for (i, b) in buf.iter_mut().enumerate() {
        *b = HEX[((file_id >> (60 - 4 * i)) & 0xf) as usize];
    }
    out.extend_from_slice(&buf);
    out.push(b'-');
    let digits = (64 - offset.leading_zeros()).div_ceil(4).max(1) as usize;
    for i in (0..digits).rev() {
        out.push(HEX[((offset >> (4 * i)) & 0xf) as usize]);
    }
    if repeat > 0 {
        out.push(b'.');
        out.extend_from_slice(itoa::Buffer::new().format(repeat).as_bytes());
    }
}

/// Writes the text of an id field (strings as they are, numbers in decimal); false when the field
/// is missing, empty or not a string or an integer.
pub fn write_field(out: &mut Vec<u8>, fields: &Fields, path: &FieldPath) -> bool {
    match fields.get_path(path) {
        Some(Value::Str(s)) if !s.is_empty() => out.extend_from_slice(s),
        Some(Value::Int(n)) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn id(file_id: u64, offset: u64, repeat: u32) -> String {
        let mut out = Vec::new();
        write_deterministic(&mut out, file_id, offset, repeat);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn deterministic_ids_are_fixed_text() {
        assert_eq!(
            id(0x9f86_d081_884c_7d65, 0x1a2b, 0),
            "9f86d081884c7d65-1a2b"
        );
        assert_eq!(id(1, 0, 0), "0000000000000001-0");
        assert_eq!(
            id(u64::MAX, u64::MAX, 2),
            "ffffffffffffffff-ffffffffffffffff.2"
        );
        assert_eq!(id(7, 16, 0), "0000000000000007-10");
    }

    #[test]
    fn ids_are_unique_per_offset_and_file() {
        let mut seen = std::collections::HashSet::new();
        for file in [1u64, 2, u64::MAX] {
            for offset in 0..2000u64 {
                assert!(seen.insert(id(file, offset, 0)));
            }
            assert!(seen.insert(id(file, 0, 1)));
        }
    }

    #[test]
    fn id_fields() {
        let mut f = Fields::default();
        let p = FieldPath::parse("req.id").unwrap();
        let mut out = Vec::new();
        assert!(!write_field(&mut out, &f, &p));
        f.insert_path(&p, Value::Int(42));
        assert!(write_field(&mut out, &f, &p));
        assert_eq!(out, b"42");
        out.clear();
        f.insert_path(&p, Value::Str(Bytes::from_static(b"abc")));
        assert!(write_field(&mut out, &f, &p));
        assert_eq!(out, b"abc");
        f.insert_path(&p, Value::Str(Bytes::new()));
        out.clear();
        assert!(!write_field(&mut out, &f, &p));
    }
}
