//! Maps a TOML path (`sinks.out.batch.max_bytes`) back to a line and column of the config file.
//!
//! Errors are found on typed values, where positions are gone; this module re-reads the text with
//! a span-keeping parser and walks the path as far as it exists, so an error points at the key
//! itself, or at the nearest enclosing table when the key is missing.

use toml_edit::{Document, Item, Value};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Turns a byte offset into a line and column.
pub fn position_of(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Position { line, column }
}

/// Finds the position of the deepest existing element of `path` in `text`.
pub fn locate(text: &str, path: &[String]) -> Option<Position> {
    let doc = Document::parse(text).ok()?;
    let mut node = Node::Item(doc.as_item());
    let mut span = None;
    for seg in path {
        let Some((next, found)) = node.child(seg) else {
            break;
        };
        span = found.or(span);
        node = next;
    }
    span.map(|s| position_of(text, s.start))
}

/// A place in the document: tables hold items, inline tables and arrays hold values, arrays
/// of tables hold tables.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    Value(&'a Value),
    Table(&'a toml_edit::Table),
}

impl<'a> Node<'a> {
    /// The child named `seg` and the span that best points at it (its key, else its value).
    fn child(self, seg: &str) -> Option<(Node<'a>, Option<std::ops::Range<usize>>)> {
        let value = match self {
            Node::Item(Item::Table(t)) => {
                let item = t.get(seg)?;
                let span = t.key(seg).and_then(|k| k.span()).or_else(|| item.span());
                return Some((Node::Item(item), span));
            }
            Node::Item(Item::Value(v)) | Node::Value(v) => v,
            Node::Item(Item::ArrayOfTables(a)) => {
                // `[[x.y]]` sections: the element's span is its whole section.
                let t = a.get(seg.parse::<usize>().ok()?)?;
                return Some((Node::Table(t), t.span()));
            }
            Node::Table(t) => {
                let item = t.get(seg)?;
                let span = t.key(seg).and_then(|k| k.span()).or_else(|| item.span());
                return Some((Node::Item(item), span));
            }
            Node::Item(_) => return None,
        };
        match value {
            Value::InlineTable(t) => {
                let v = t.get(seg)?;
                let span = t.key(seg).and_then(|k| k.span()).or_else(|| v.span());
                Some((Node::Value(v), span))
            }
            Value::Array(a) => {
                let v = a.get(seg.parse::<usize>().ok()?)?;
                Some((Node::Value(v), v.span()))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn finds_nested_keys() {
        let text =
            "data_dir = \"/x\"\n\n[sinks.out]\ntype = \"console\"\nbatch = { max_bytes = \"x\" }\n";
        assert_eq!(
            locate(text, &path("data_dir")),
            Some(Position { line: 1, column: 1 })
        );
        assert_eq!(
            locate(text, &path("sinks.out.type")),
            Some(Position { line: 4, column: 1 })
        );
        assert_eq!(
            locate(text, &path("sinks.out.batch.max_bytes")),
            Some(Position {
                line: 5,
                column: 11
            })
        );
    }

    #[test]
    fn missing_key_points_at_parent() {
        let text = "[sources.a]\ntype = \"file\"\n";
        assert_eq!(
            locate(text, &path("sources.a.include")),
            Some(Position {
                line: 1,
                column: 10
            })
        );
    }

    #[test]
    fn finds_keys_in_arrays_of_tables() {
        let text = "[t.m]\nx = 1\n[[t.m.list]]\na = 1\n[[t.m.list]]\na = 2\nb = 3\n";
        assert_eq!(
            locate(text, &path("t.m.list.1.b")),
            Some(Position { line: 7, column: 1 })
        );
        assert_eq!(
            locate(text, &path("t.m.list.0.a")),
            Some(Position { line: 4, column: 1 })
        );
    }

    #[test]
    fn positions_count_characters() {
        assert_eq!(position_of("é\nab", 4), Position { line: 2, column: 2 });
    }
}
