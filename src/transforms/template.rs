//! Text templates with field references: `"{{ level }}-x"`, `"{{ kubernetes.pod_name }}"`.
//!
//! Parsed once at config load into literal parts and field paths. Rendering writes strings as they
//! are, numbers and booleans as JSON, timestamps in RFC 3339; a missing or null field renders
//! empty. A template that is a single field holding a string renders without copying.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::json::{write_timestamp, write_value};
use crate::event::{FieldPath, Fields, Value};

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(Bytes),
    Field(FieldPath),
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; `{{` must be closed by `}}` around a field path.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(Bytes::copy_from_slice(
                    &rest.as_bytes()[..open],
                )));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("unclosed `{{{{` in template `{text}`"))?;
            let path = after[..close].trim();
            let path = FieldPath::parse(path).map_err(|e| format!("in template `{text}`: {e}"))?;
            parts.push(Part::Field(path));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(Bytes::copy_from_slice(rest.as_bytes())));
        }
        Ok(Template { parts })
    }

    /// True when the template refers to at least one field.
    pub fn has_fields(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Field(_)))
    }

    /// Renders the template against `fields`.
    pub fn render(&self, fields: &Fields) -> Bytes {
        match self.parts.as_slice() {
            [] => Bytes::new(),
            [Part::Literal(b)] => b.clone(),
            [Part::Field(p)] => match fields.get_path(p) {
                Some(Value::Str(b)) => b.clone(),
                other => {
                    let mut out = BytesMut::new();
                    render_value(&mut out, other);
                    out.freeze()
                }
            },
            parts => {
                let mut out = BytesMut::with_capacity(64);
                for part in parts {
                    match part {
                        Part::Literal(b) => out.put_slice(b),
                        Part::Field(p) => render_value(&mut out, fields.get_path(p)),
                    }
                }
                out.freeze()
            }
        }
    }
}

/// Writes a value as template text.
fn render_value(out: &mut BytesMut, v: Option<&Value>) {
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Str(b)) => out.put_slice(b),
        Some(Value::Timestamp(t)) => {
            let mut buf = Vec::with_capacity(26);
            write_timestamp(&mut buf, t);
            out.put_slice(buf.get(1..buf.len() - 1).unwrap_or_default());
        }
        Some(other) => {
            let mut buf = Vec::new();
            write_value(&mut buf, other);
            out.put_slice(&buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        let mut f = Fields::default();
        f.insert(Bytes::from_static(b"level"), Value::from("INFO"));
        f.insert(Bytes::from_static(b"n"), Value::Int(7));
        f.insert(Bytes::from_static(b"nothing"), Value::Null);
        f.insert_path(&FieldPath::parse("k.pod").unwrap(), Value::from("web-1"));
        f.insert(
            Bytes::from_static(b"t"),
            Value::Timestamp(chrono::DateTime::from_timestamp(0, 0).unwrap()),
        );
        f
    }

    fn render(t: &str) -> String {
        let b = Template::parse(t).unwrap().render(&fields());
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn renders_fields_and_literals() {
        assert_eq!(render("{{ level }}-x"), "INFO-x");
        assert_eq!(render("{{k.pod}}/{{ n }}"), "web-1/7");
        assert_eq!(render("[{{ missing }}][{{ nothing }}]"), "[][]");
        assert_eq!(render("{{ t }}"), "1970-01-01T00:00:00.000Z");
        assert_eq!(render("plain } { text"), "plain } { text");
        assert_eq!(render(""), "");
        assert_eq!(render("{{ k }}"), r#"{"pod":"web-1"}"#);
    }

    #[test]
    fn a_lone_string_field_is_not_copied() {
        let f = fields();
        let Some(Value::Str(level)) = f.get("level") else {
            panic!()
        };
        let out = Template::parse("{{level}}").unwrap().render(&f);
        assert_eq!(out.as_ptr(), level.as_ptr());
    }

    #[test]
    fn rejects_bad_templates() {
        assert!(Template::parse("{{ level").is_err());
        assert!(Template::parse("{{ }}").is_err());
        assert!(Template::parse("{{ a..b }}").is_err());
        assert!(!Template::parse("x").unwrap().has_fields());
    }
}
