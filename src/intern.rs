//! Field names and short texts fixed by the config (regex group names, `add_fields` constants),
//! shared for the life of the process.
//!
//! A key built from a `&'static` slice costs no reference counting when events are built and
//! dropped, where a key cut from a shared buffer costs an atomic increment and decrement per
//! event. Names enter a process-wide pool once (copied and leaked on purpose: they live as long as
//! the process, and a config reload finds them there instead of leaking them again). The pool is
//! bounded ([`POOL_MAX_KEYS`] entries of at most [`MAX_KEY_LEN`] bytes for names and
//! [`MAX_TEXT_LEN`] for config texts); past that, they are plain copies.
//!
//! Keys found in data (JSON, logfmt) go through a [`KeyCache`]: lines of one application write
//! their keys in the same order, so the key at position `i` is compared with the one the
//! previous line had there (a length check and a short `memcmp`, cheaper than the two atomic
//! operations it saves; hashing every key was measured slower than the counting). A cache sends
//! at most [`CACHE_MAX_MISSES`] keys to the pool, so ever-new keys fall back to slices.

use std::collections::HashSet;
use std::sync::Mutex;

use bytes::Bytes;

/// Longest name worth pooling.
pub const MAX_KEY_LEN: usize = 48;
/// Most names in the pool.
pub const POOL_MAX_KEYS: usize = 16_384;

static POOL: Mutex<Option<HashSet<&'static [u8]>>> = Mutex::new(None);

/// The pooled copy of `key`, or `None` when it is too long or the pool is full.
pub fn intern(key: &[u8]) -> Option<&'static [u8]> {
    if key.len() > MAX_KEY_LEN {
        return None;
    }
    pool(key)
}

/// The pooled copy of `text`, or `None` when the pool is full.
fn pool(key: &[u8]) -> Option<&'static [u8]> {
    // A poisoned lock only means another thread panicked while holding it; the set is intact.
    let mut guard = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let pool = guard.get_or_insert_with(HashSet::new);
    if let Some(k) = pool.get(key) {
        return Some(k);
    }
    if pool.len() >= POOL_MAX_KEYS {
        return None;
    }
    let leaked: &'static [u8] = Box::leak(key.to_vec().into_boxed_slice());
    pool.insert(leaked);
    Some(leaked)
}

/// Keys a [`KeyCache`] may send to the pool before it stops adding keys.
pub const CACHE_MAX_MISSES: u32 = 4_096;
/// Positions a [`KeyCache`] remembers.
const CACHE_POSITIONS: usize = 64;

/// The pooled keys of the previous line, by position.
#[derive(Debug, Default)]
pub struct KeyCache {
    previous: Vec<Bytes>,
    misses: u32,
}

impl Clone for KeyCache {
    /// A fresh cache: each parser instance learns its own keys.
    fn clone(&self) -> Self {
        KeyCache::default()
    }
}

impl KeyCache {
    /// `key`, found at position `pos` of an object, as a pooled `Bytes`; `None` when it is not
    /// worth pooling (use a slice of the line).
    #[inline]
    pub fn get(&mut self, pos: usize, key: &[u8]) -> Option<Bytes> {
        if let Some(k) = self.previous.get(pos) {
            if k.as_ref() == key {
                return Some(k.clone());
            }
        }
        if self.misses >= CACHE_MAX_MISSES || pos >= CACHE_POSITIONS {
            return None;
        }
        self.misses += 1;
        let k = Bytes::from_static(intern(key)?);
        if pos < self.previous.len() {
            self.previous[pos] = k.clone();
        } else if pos == self.previous.len() {
            self.previous.push(k.clone());
        }
        Some(k)
    }
}

/// Longest config text (an `add_fields` constant) worth pooling.
pub const MAX_TEXT_LEN: usize = 256;

/// A constant text from the config (an `add_fields` value) as `Bytes`: pooled when short, so
/// that setting it on every event costs no reference counting, else a copy.
pub fn config_text(text: &str) -> Bytes {
    if text.len() > MAX_TEXT_LEN {
        return Bytes::copy_from_slice(text.as_bytes());
    }
    match pool(text.as_bytes()) {
        Some(k) => Bytes::from_static(k),
        None => Bytes::copy_from_slice(text.as_bytes()),
    }
}

/// A config-time name as `Bytes`: pooled (no reference counting), or a copy.
pub fn key_bytes(key: &str) -> Bytes {
    match intern(key.as_bytes()) {
        Some(k) => Bytes::from_static(k),
        None => Bytes::copy_from_slice(key.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_name_same_storage() {
        let a = intern(b"intern_test_level").unwrap();
        let b = intern(b"intern_test_level").unwrap();
        assert_eq!(a.as_ptr(), b.as_ptr());
        assert_eq!(key_bytes("intern_test_level").as_ptr(), a.as_ptr());
        assert!(intern(&[b'x'; MAX_KEY_LEN + 1]).is_none());
        assert_eq!(
            key_bytes(&"y".repeat(MAX_KEY_LEN + 1)).len(),
            MAX_KEY_LEN + 1
        );
    }
}
