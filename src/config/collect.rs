//! Finds every error of a table, not only the first one its parser stops at.
//!
//! A parser (serde, or a component's own checks after it) stops at the first problem. To report
//! the others in the same run, the table is parsed again without the key at fault, as long as the
//! errors point at keys of the table. Taking a key out can make a new error that is only its
//! consequence (`missing field`, "set `pattern` or `patterns`"): an error about a key already
//! taken out ends the search without being reported, so every error reported is a real one.

use super::FieldError;

/// At most this many errors are collected from one table.
const MAX_ERRORS: usize = 20;

/// Parses `table` with `parse`, collecting every error found. Returns the value of the last
/// parse that succeeded (after keys at fault were taken out, so with their defaults), if any,
/// and the errors.
pub fn parse_collecting<T>(
    mut table: toml::Table,
    parse: impl Fn(toml::Table) -> Result<T, FieldError>,
) -> (Option<T>, Vec<FieldError>) {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut removed: Vec<Removed> = Vec::new();
    loop {
        let e = match parse(table.clone()) {
            Ok(value) => return (Some(value), errors),
            Err(e) => e,
        };
        if removed.iter().any(|r| r.explains(&e)) {
            return (None, errors);
        }
        let key = e.path.first().cloned();
        let unknown = e.message.starts_with("unknown field");
        errors.push(e);
        match key {
            Some(key) if errors.len() < MAX_ERRORS && table.remove(&key).is_some() => {
                removed.push(Removed { key, unknown });
            }
            _ => return (None, errors),
        }
    }
}

/// A key taken out of the table after an error.
struct Removed {
    key: String,
    /// It was an unknown key (likely a misspelling of a valid one).
    unknown: bool,
}

impl Removed {
    /// True when `e` may only follow from this key's removal: it is about the key, names it
    /// (not in a list of valid keys), or says that a key this one misspells is missing.
    fn explains(&self, e: &FieldError) -> bool {
        if e.path.first() == Some(&self.key) {
            return true;
        }
        if let Some(missing) = e
            .message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            return missing == self.key || (self.unknown && similar(missing, &self.key));
        }
        !e.message.starts_with("unknown field") && e.message.contains(&format!("`{}`", self.key))
    }
}

/// Two keys one small typo apart (at most two edits).
fn similar(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            row.push((prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1));
        }
        prev = row;
    }
    prev.last().is_some_and(|d| *d <= 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_table, ConfigDuration};
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        name: String,
        #[serde(default)]
        every: Option<ConfigDuration>,
        #[serde(default)]
        wait: Option<ConfigDuration>,
    }

    fn errors(text: &str) -> Vec<String> {
        let table: toml::Table = toml::from_str(text).unwrap();
        parse_collecting(table, parse_table::<T>)
            .1
            .into_iter()
            .map(|e| format!("{}: {}", e.path.join("."), e.message))
            .collect()
    }

    #[test]
    fn finds_every_bad_key() {
        let errs = errors("name = \"a\"\nevery = \"5 parsecs\"\nwait = \"forever\"\nnmae = 1\n");
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("every: invalid duration"), "{errs:?}");
        assert!(errs.iter().any(|e| e.starts_with("wait: invalid duration")));
        assert!(errs.iter().any(|e| e.starts_with("nmae: unknown field")));
    }

    #[test]
    fn a_consequence_of_taking_a_key_out_is_not_reported() {
        // Taking `name` out makes it missing: not reported, but `wait` was found before.
        let errs = errors("name = 5\nwait = \"forever\"\n");
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("name: expected a string"), "{errs:?}");
        assert!(errs[1].starts_with("wait: invalid duration"), "{errs:?}");
        // A misspelt required key is one mistake, not also a missing key.
        let errs = errors("nmae = \"a\"\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].starts_with("nmae: unknown field"), "{errs:?}");
    }

    #[test]
    fn similar_keys() {
        assert!(similar("include", "includ"));
        assert!(similar("name", "nmae"));
        assert!(!similar("include", "exclude_all"));
    }
}
