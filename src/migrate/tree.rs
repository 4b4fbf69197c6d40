//! A small positioned document tree that TOML and YAML inputs are both read into.
//!
//! The converters need one thing that plain `serde` values lose: the line of every key and
//! value, so that each warning can name the place in the user's file. TOML is read with
//! `toml_edit` (spans), YAML with `saphyr` (marked nodes); both become a [`Node`] tree. JSON, a
//! subset of YAML 1.2, goes through the YAML reader.
//!
//! Why saphyr for YAML: it is maintained, pure Rust, follows YAML 1.2 (where `on` / `off` stay
//! strings, as Fluent Bit reads them), and gives every node its position. `serde_yaml` is
//! unmaintained, and the values of its maintained forks (`serde_yaml_ng`, `serde_norway`) carry
//! no positions.

use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};
use toml_edit::{Document, Item, Value};

use crate::config::locate::position_of;

/// A value with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line of the value.
    pub line: usize,
    /// 1-based line of a string's first character of content: differs from `line` for TOML
    /// multi-line strings and YAML block scalars, whose text starts on the next line.
    pub body_line: usize,
    /// The value.
    pub kind: Kind,
}

/// What a [`Node`] holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A key of a map, with its line, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub line: usize,
    pub value: Node,
}

/// A document that cannot be read, with the line of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeError {
    pub line: usize,
    pub message: String,
}

impl Node {
    fn new(line: usize, kind: Kind) -> Node {
        Node {
            line,
            body_line: line,
            kind,
        }
    }

    /// The entries of a map (empty for anything else).
    pub fn entries(&self) -> &[Entry] {
        match &self.kind {
            Kind::Map(m) => m,
            _ => &[],
        }
    }

    /// The value of `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// A scalar as text (numbers and booleans as written in TOML); `None` for collections.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::Float(f) => Some(f.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            Kind::Null => Some(String::new()),
            Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    /// A short description of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a float",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a table",
        }
    }
}

/// Reads a TOML document.
pub fn from_toml(text: &str) -> Result<Node, TreeError> {
    let doc = Document::parse(text).map_err(|e| TreeError {
        line: e.span().map_or(1, |s| position_of(text, s.start).line),
        message: e.message().trim().to_owned(),
    })?;
    Ok(toml_table(text, doc.as_table(), 1))
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>, fallback: usize) -> usize {
    span.map_or(fallback, |s| position_of(text, s.start).line)
}

fn toml_table(text: &str, table: &toml_edit::Table, line: usize) -> Node {
    let line = line_of(text, table.span(), line);
    let entries = table
        .iter()
        .map(|(key, item)| {
            let key_line = line_of(text, table.key(key).and_then(|k| k.span()), line);
            Entry {
                key: key.to_owned(),
                line: key_line,
                value: toml_item(text, item, key_line),
            }
        })
        .collect();
    Node::new(line, Kind::Map(entries))
}

fn toml_item(text: &str, item: &Item, line: usize) -> Node {
    match item {
        Item::None => Node::new(line, Kind::Null),
        Item::Value(v) => toml_value(text, v, line),
        Item::Table(t) => toml_table(text, t, line),
        Item::ArrayOfTables(a) => {
            let line = line_of(text, a.span(), line);
            let items = a.iter().map(|t| toml_table(text, t, line)).collect();
            Node::new(line, Kind::Seq(items))
        }
    }
}

fn toml_value(text: &str, value: &Value, line: usize) -> Node {
    let span = value.span();
    let line = line_of(text, span.clone(), line);
    let kind = match value {
        Value::String(s) => Kind::Str(s.value().clone()),
        Value::Integer(i) => Kind::Int(*i.value()),
        Value::Float(f) => Kind::Float(*f.value()),
        Value::Boolean(b) => Kind::Bool(*b.value()),
        Value::Datetime(d) => Kind::Str(d.value().to_string()),
        Value::Array(a) => Kind::Seq(a.iter().map(|v| toml_value(text, v, line)).collect()),
        Value::InlineTable(t) => Kind::Map(
            t.iter()
                .map(|(key, v)| {
                    let key_line = line_of(text, t.key(key).and_then(|k| k.span()), line);
                    Entry {
                        key: key.to_owned(),
                        line: key_line,
                        value: toml_value(text, v, key_line),
                    }
                })
                .collect(),
        ),
    };
    let mut node = Node::new(line, kind);
    // A multi-line string whose opening quotes end the line starts on the next one.
    if let Some(raw) = span.and_then(|s| text.get(s)) {
        let body = raw
            .strip_prefix("'''")
            .or_else(|| raw.strip_prefix("\"\"\""));
        if body.is_some_and(|b| b.starts_with('\n') || b.starts_with("\r\n")) {
            node.body_line = line + 1;
        }
    }
    node
}

/// Reads the first document of a YAML (or JSON) text; an empty text is an empty map.
pub fn from_yaml(text: &str) -> Result<Node, TreeError> {
    let docs = MarkedYamlOwned::load_from_str(text).map_err(|e| TreeError {
        line: e.marker().line().max(1),
        message: e.info().to_owned(),
    })?;
    match docs.into_iter().next() {
        None => Ok(Node::new(1, Kind::Map(Vec::new()))),
        Some(doc) => yaml_node(text, &doc, 0),
    }
}

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

fn yaml_node(text: &str, node: &MarkedYamlOwned, depth: usize) -> Result<Node, TreeError> {
    let line = node.span.start.line().max(1);
    if depth > MAX_DEPTH {
        return Err(TreeError {
            line,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    let kind = match &node.data {
        YamlDataOwned::Value(s) => match s {
            ScalarOwned::Null => Kind::Null,
            ScalarOwned::Boolean(b) => Kind::Bool(*b),
            ScalarOwned::Integer(i) => Kind::Int(*i),
            ScalarOwned::FloatingPoint(f) => Kind::Float(f.into_inner()),
            ScalarOwned::String(s) => Kind::Str(s.clone()),
        },
        YamlDataOwned::Representation(s, _, _) => Kind::Str(s.clone()),
        YamlDataOwned::Sequence(items) => Kind::Seq(
            items
                .iter()
                .map(|n| yaml_node(text, n, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        YamlDataOwned::Mapping(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (k, v) in map {
                let key = yaml_node(text, k, depth + 1)?;
                let Some(key_text) = key.scalar_text() else {
                    return Err(TreeError {
                        line: key.line,
                        message: "a map key must be a plain value".into(),
                    });
                };
                entries.push(Entry {
                    key: key_text,
                    line: key.line,
                    value: yaml_node(text, v, depth + 1)?,
                });
            }
            Kind::Map(entries)
        }
        YamlDataOwned::Tagged(_, inner) => return yaml_node(text, inner, depth + 1),
        YamlDataOwned::Alias(_) => {
            return Err(TreeError {
                line,
                message: "YAML aliases (`*name`) are not supported: write the value out".into(),
            })
        }
        YamlDataOwned::BadValue => {
            return Err(TreeError {
                line,
                message: "a value that cannot be read".into(),
            })
        }
    };
    let mut out = Node::new(line, kind);
    // A block scalar (`|` or `>`) starts on the line after its indicator.
    let indicator = text
        .lines()
        .nth(line - 1)
        .and_then(|l| l.get(node.span.start.col().min(l.len())..))
        .map(str::trim_start);
    if matches!(out.kind, Kind::Str(_))
        && indicator.is_some_and(|s| s.starts_with('|') || s.starts_with('>'))
    {
        out.body_line = line + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_keeps_lines_of_keys_and_multiline_bodies() {
        let text = "a = 1\n[t]\nb = \"x\"\nsrc = '''\nline one\n'''\nenc.codec = \"json\"\n";
        let doc = from_toml(text).unwrap();
        let t = doc.get("t").unwrap();
        assert_eq!(t.line, 2);
        let b = &t.entries()[0];
        assert_eq!((b.key.as_str(), b.line), ("b", 3));
        let src = t.get("src").unwrap();
        assert_eq!((src.line, src.body_line), (4, 5));
        assert_eq!(
            t.get("enc").unwrap().get("codec").unwrap().kind,
            Kind::Str("json".into())
        );
    }

    #[test]
    fn toml_error_names_the_line() {
        let e = from_toml("a = 1\nb = \n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn yaml_keeps_lines_and_block_bodies() {
        let text = "sources:\n  app:\n    type: file\n    source: |\n      . = 1\n";
        let doc = from_yaml(text).unwrap();
        let app = doc.get("sources").unwrap().get("app").unwrap();
        assert_eq!(app.entries()[0].line, 3);
        let src = app.get("source").unwrap();
        assert_eq!(src.body_line, 5);
        assert_eq!(src.kind, Kind::Str(". = 1\n".into()));
    }

    #[test]
    fn yaml_error_names_the_line() {
        let e = from_yaml("a: 1\nb: [\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
    }

    #[test]
    fn json_is_read_as_yaml() {
        let doc = from_yaml("{\"sinks\": {\"out\": {\"type\": \"console\"}}}").unwrap();
        assert!(doc.get("sinks").unwrap().get("out").is_some());
    }
}
