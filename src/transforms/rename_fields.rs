//! `rename_fields`: moves fields, `fields = { "old.path" = "new.path" }` (Fluent Bit's
//! `modify Rename`, Vector's `.new = del(.old)`).
//!
//! A missing source is left alone; an existing destination is replaced. Renames apply in key
//! order, each on the result of the previous one.

use serde::Deserialize;

use super::{Transform, TransformConfig};
use crate::config::{parse_table, FieldError};
use crate::event::{Batch, FieldPath};

/// `[transforms.NAME] type = "rename_fields"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRenameFieldsConfig {
    /// Old path → new path.
    fields: std::collections::BTreeMap<String, String>,
}

/// A validated `rename_fields` transform.
#[derive(Debug, Clone)]
pub struct RenameFieldsConfig {
    renames: Vec<(FieldPath, FieldPath)>,
}

impl RenameFieldsConfig {
    /// Parses and checks the table.
    pub fn parse(table: toml::Table) -> Result<RenameFieldsConfig, FieldError> {
        let raw: RawRenameFieldsConfig = parse_table(table)?;
        if raw.fields.is_empty() {
            return Err(FieldError::new(
                &["fields"],
                "`fields` is empty: name at least one field",
            ));
        }
        let renames = raw
            .fields
            .iter()
            .map(|(from, to)| {
                let at = |e: String| FieldError::new(&["fields", from], e);
                Ok((
                    FieldPath::parse(from).map_err(at)?,
                    FieldPath::parse(to).map_err(at)?,
                ))
            })
            .collect::<Result<_, FieldError>>()?;
        Ok(RenameFieldsConfig { renames })
    }
}

impl TransformConfig for RenameFieldsConfig {
    fn stateless(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "rename_fields"
    }

    fn build(&self, _name: &str) -> Box<dyn Transform> {
        Box::new(RenameFields(self.clone()))
    }
}

/// The running transform.
pub struct RenameFields(RenameFieldsConfig);

impl Transform for RenameFields {
    fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
        for ev in batch.events_mut() {
            for (from, to) in &self.0.renames {
                if let Some(v) = ev.fields.remove_path(from) {
                    ev.fields.insert_path(to, v);
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

    #[test]
    fn golden_renames() {
        let mut t = RenameFieldsConfig::parse(
            toml::from_str(
                r#"fields = { message = "log.text", file = "source.path", absent = "x" }"#,
            )
            .unwrap(),
        )
        .unwrap()
        .build("rename_test");
        let out = run_lines(t.as_mut(), &["hi"]);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"<read_at>","source":{"path":"/var/log/app/app.log"},"log":{"text":"hi"}}"#
            ]
        );
    }

    #[test]
    fn config_errors() {
        let err = |s: &str| RenameFieldsConfig::parse(toml::from_str(s).unwrap()).unwrap_err();
        assert_eq!(err("fields = {}").path, vec!["fields"]);
        assert_eq!(err("fields = { a = \"b..c\" }").path, vec!["fields", "a"]);
        assert_eq!(err("fields = { a = 1 }").path, vec!["fields", "a"]);
    }
}
