//! Vector values read in skiff's terms: strings (with Vector's `$VAR` forms as skiff's
//! `${VAR}`), lists of strings, durations in seconds, VRL field paths and literals.

use super::vrl::Lit;
use crate::migrate::ir::Val;
use crate::migrate::translate::{duration, vector_env};
use crate::migrate::tree::{Kind, Node};

/// A string value in skiff syntax (Vector's `$VAR` forms become `${VAR}`).
pub fn text(node: &Node) -> Option<String> {
    match &node.kind {
        Kind::Str(s) => Some(vector_env(s)),
        _ => None,
    }
}

/// A list of strings (a single string counts as a list of one).
pub fn texts(node: &Node) -> Option<Vec<String>> {
    match &node.kind {
        Kind::Str(_) => text(node).map(|s| vec![s]),
        Kind::Seq(items) => items.iter().map(text).collect(),
        _ => None,
    }
}

/// A skiff field path from VRL path segments; `None` when a segment holds a dot or is empty.
pub fn field_path(segs: &[String]) -> Option<String> {
    if segs.is_empty() || segs.iter().any(|s| s.is_empty() || s.contains('.')) {
        return None;
    }
    Some(segs.join("."))
}

/// A literal as a skiff value (strings in skiff syntax).
pub fn lit_val(l: &Lit) -> Val {
    match l {
        Lit::Str(s) => Val::interp(vector_env(s)),
        Lit::Int(i) => Val::Int(*i),
        Lit::Float(f) => Val::Float(*f),
        Lit::Bool(b) => Val::Bool(*b),
    }
}

/// A duration given in seconds (or milliseconds with `ms = true`) as a skiff duration.
pub fn secs(node: &Node, ms: bool) -> Option<Val> {
    let n = match node.kind {
        Kind::Int(i) => i as f64,
        Kind::Float(f) => f,
        _ => return None,
    };
    Some(Val::text(&duration(if ms { n / 1000.0 } else { n })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_dots_in_a_segment_have_no_skiff_form() {
        assert_eq!(
            field_path(&["a".into(), "b".into()]).as_deref(),
            Some("a.b")
        );
        assert_eq!(field_path(&["a.b".into()]), None);
        assert_eq!(field_path(&[]), None);
    }
}
