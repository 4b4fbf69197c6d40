//! `remove_fields`: deletes fields, `fields = ["a", "b.c"]` (Fluent Bit's `modify Remove`,
//! Vector's `del(.a)`). Missing fields are left alone.

use serde::Deserialize;

use super::{Transform, TransformConfig};
use crate::config::{parse_table, FieldError};
use crate::event::{Batch, FieldPath};

/// `[transforms.NAME] type = "remove_fields"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRemoveFieldsConfig {
    /// Paths to delete.
    fields: Vec<String>,
}

/// A validated `remove_fields` transform.
#[derive(Debug, Clone)]
pub struct RemoveFieldsConfig {
    paths: Vec<FieldPath>,
}

impl RemoveFieldsConfig {
    /// Parses and checks the table.
    pub fn parse(table: toml::Table) -> Result<RemoveFieldsConfig, FieldError> {
        let raw: RawRemoveFieldsConfig = parse_table(table)?;
        if raw.fields.is_empty() {
            return Err(FieldError::new(
                &["fields"],
                "`fields` is empty: name at least one field",
            ));
        }
        let paths = raw
            .fields
            .iter()
            .enumerate()
            .map(|(i, p)| {
                FieldPath::parse(p).map_err(|e| FieldError::new(&["fields", &i.to_string()], e))
            })
            .collect::<Result<_, _>>()?;
        Ok(RemoveFieldsConfig { paths })
    }
}

impl TransformConfig for RemoveFieldsConfig {
    fn stateless(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "remove_fields"
    }

    fn build(&self, _name: &str) -> Box<dyn Transform> {
        Box::new(RemoveFields(self.clone()))
    }
}

/// The running transform.
pub struct RemoveFields(RemoveFieldsConfig);

impl Transform for RemoveFields {
    fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
        for ev in batch.events_mut() {
            for p in &self.0.paths {
                ev.fields.remove_path(p);
            }
        }
        out.push(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::testing::{json_lines, run_lines};

    #[test]
    fn golden_removal() {
        let mut t = RemoveFieldsConfig::parse(
            toml::from_str(r#"fields = ["file", "nested.x", "absent.y"]"#).unwrap(),
        )
        .unwrap()
        .build("remove_test");
        let out = run_lines(t.as_mut(), &["hi"]);
        assert_eq!(
            json_lines(&out),
            [r#"{"timestamp":"<read_at>","message":"hi"}"#]
        );
    }

    #[test]
    fn config_errors() {
        let err = |s: &str| RemoveFieldsConfig::parse(toml::from_str(s).unwrap()).unwrap_err();
        assert_eq!(err("fields = []").path, vec!["fields"]);
        assert_eq!(err("fields = [\"ok\", \".bad\"]").path, vec!["fields", "1"]);
    }
}
