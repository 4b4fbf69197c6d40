//! `add_fields`: sets fields to constants or templates (Vector's `.kubernetes.pod_name =
//! "${POD_NAME}"`, Fluent Bit's `record_modifier` / `modify Add`).
//!
//! `fields = { "kubernetes.pod_name" = "${POD_NAME}", env = "prod", copy = "{{ level }}-x",
//! retries = 3 }`: keys are dotted paths (a nested TOML table means the same as dotted keys);
//! string values may hold `{{ field.path }}` templates rendered per event against the event as it
//! came in; integers, floats, booleans and arrays are typed values. `${ENV}` was already replaced
//! at config load. `overwrite = false` leaves existing fields alone. Fields are added in key
//! order.

use serde::Deserialize;

use super::template::Template;
use super::{Transform, TransformConfig};
use crate::config::{parse_table, FieldError};
use crate::event::{Batch, FieldPath, Fields, Value};
use crate::intern;

/// `[transforms.NAME] type = "add_fields"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAddFieldsConfig {
    /// Field path → value or template.
    fields: toml::Table,
    /// Replace fields that already exist (default true).
    #[serde(default = "default_true")]
    overwrite: bool,
}

fn default_true() -> bool {
    true
}

/// What one field is set to.
#[derive(Debug, Clone, PartialEq)]
enum NewValue {
    Constant(Value),
    Template(Template),
}

/// A validated `add_fields` transform.
#[derive(Debug, Clone)]
pub struct AddFieldsConfig {
    fields: Vec<(FieldPath, NewValue)>,
    overwrite: bool,
}

impl AddFieldsConfig {
    /// Parses and checks the table, compiling templates.
    pub fn parse(table: toml::Table) -> Result<AddFieldsConfig, FieldError> {
        let raw: RawAddFieldsConfig = parse_table(table)?;
        let mut fields = Vec::new();
        flatten(&raw.fields, "", &mut fields).map_err(|e| e.within(&["fields"]))?;
        if fields.is_empty() {
            return Err(FieldError::new(
                &["fields"],
                "`fields` is empty: name at least one field",
            ));
        }
        Ok(AddFieldsConfig {
            fields,
            overwrite: raw.overwrite,
        })
    }
}

/// Turns a (possibly nested) TOML table into (path, value) pairs.
fn flatten(
    table: &toml::Table,
    prefix: &str,
    out: &mut Vec<(FieldPath, NewValue)>,
) -> Result<(), FieldError> {
    for (key, value) in table {
        let path_text = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if let toml::Value::Table(inner) = value {
            flatten(inner, &path_text, out).map_err(|e| e.within(&[key]))?;
            continue;
        }
        let path = FieldPath::parse(&path_text).map_err(|e| FieldError::new(&[key], e))?;
        let new = match value {
            toml::Value::String(s) => {
                let t = Template::parse(s).map_err(|e| FieldError::new(&[key], e))?;
                if t.has_fields() {
                    NewValue::Template(t)
                } else {
                    NewValue::Constant(Value::Str(intern::config_text(s)))
                }
            }
            other => NewValue::Constant(constant(other).map_err(|e| FieldError::new(&[key], e))?),
        };
        out.push((path, new));
    }
    Ok(())
}

/// A TOML value as an event value.
fn constant(v: &toml::Value) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::from(s.as_str()),
        toml::Value::Integer(n) => Value::Int(*n),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Array(items) => {
            Value::Array(items.iter().map(constant).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(t) => {
            let mut fields = Fields::with_capacity(t.len());
            for (k, v) in t {
                fields.insert(bytes::Bytes::copy_from_slice(k.as_bytes()), constant(v)?);
            }
            Value::Object(fields)
        }
        // A TOML date is kept as the text it was written as.
        toml::Value::Datetime(d) => Value::from(d.to_string()),
    })
}

impl TransformConfig for AddFieldsConfig {
    fn stateless(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "add_fields"
    }

    fn build(&self, _name: &str) -> Box<dyn Transform> {
        Box::new(AddFields {
            has_templates: self
                .fields
                .iter()
                .any(|(_, v)| matches!(v, NewValue::Template(_))),
            config: self.clone(),
            rendered: Vec::new(),
        })
    }
}

/// The running transform.
pub struct AddFields {
    config: AddFieldsConfig,
    has_templates: bool,
    /// Reused buffer of rendered values, one per field.
    rendered: Vec<Value>,
}

impl Transform for AddFields {
    fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
        let overwrite = self.config.overwrite;
        for ev in batch.events_mut() {
            if self.has_templates {
                // Templates see the event as it came in, whatever the order of the fields.
                self.rendered.clear();
                self.rendered
                    .extend(self.config.fields.iter().map(|(_, v)| match v {
                        NewValue::Constant(c) => c.clone(),
                        NewValue::Template(t) => Value::Str(t.render(&ev.fields)),
                    }));
                for ((path, _), value) in self.config.fields.iter().zip(self.rendered.drain(..)) {
                    if overwrite || ev.fields.get_path(path).is_none() {
                        ev.fields.insert_path(path, value);
                    }
                }
            } else {
                for (path, v) in &self.config.fields {
                    if let NewValue::Constant(c) = v {
                        if overwrite || ev.fields.get_path(path).is_none() {
                            ev.fields.insert_path(path, c.clone());
                        }
                    }
                }
            }
        }
        out.push(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::testing::{json_lines, run_lines};

    fn build(s: &str) -> Box<dyn Transform> {
        AddFieldsConfig::parse(toml::from_str(s).unwrap())
            .unwrap()
            .build("add_fields_test")
    }

    #[test]
    fn golden_constants_templates_and_nesting() {
        let mut t = build(
            r#"
fields = { "kubernetes.pod_name" = "web-1", "kubernetes.namespace" = "prod", env = "prod", copy = "{{ message }}-x", retries = 3, ratio = 0.5, on = true, tags = ["a", 1] }
"#,
        );
        let out = run_lines(t.as_mut(), &["hello"]);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"<read_at>","message":"hello","file":"/var/log/app/app.log","copy":"hello-x","env":"prod","kubernetes":{"namespace":"prod","pod_name":"web-1"},"on":true,"ratio":0.5,"retries":3,"tags":["a",1]}"#
            ]
        );
    }

    #[test]
    fn dotted_toml_keys_mean_the_same() {
        let a = AddFieldsConfig::parse(
            toml::from_str("fields = { \"k.a\" = \"x\", \"k.b\" = \"y\" }").unwrap(),
        )
        .unwrap();
        let b = AddFieldsConfig::parse(toml::from_str("[fields.k]\na = \"x\"\nb = \"y\"").unwrap())
            .unwrap();
        assert_eq!(a.fields, b.fields);
    }

    #[test]
    fn overwrite_false_keeps_existing_values() {
        let mut t = build(
            "fields = { message = \"replaced\", extra = \"{{ message }}!\" }\noverwrite = false",
        );
        let out = run_lines(t.as_mut(), &["kept"]);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"<read_at>","message":"kept","file":"/var/log/app/app.log","extra":"kept!"}"#
            ]
        );
        let mut t = build("fields = { message = \"replaced\", before = \"{{ message }}\" }");
        let out = run_lines(t.as_mut(), &["original"]);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"<read_at>","message":"replaced","file":"/var/log/app/app.log","before":"original"}"#
            ]
        );
    }

    #[test]
    fn config_errors_name_the_key() {
        let err = |s: &str| AddFieldsConfig::parse(toml::from_str(s).unwrap()).unwrap_err();
        assert_eq!(err("fields = {}").path, vec!["fields"]);
        assert_eq!(
            err("fields = { \"a..b\" = 1 }").path,
            vec!["fields", "a..b"]
        );
        assert_eq!(err("fields = { a = \"{{ x\" }").path, vec!["fields", "a"]);
        assert_eq!(err("[fields.k]\nb = \"{{\"").path, vec!["fields", "k", "b"]);
        assert_eq!(
            err("fields = { a = 1 }\noverwrite = 1").path,
            vec!["overwrite"]
        );
    }
}
