//! Splits each component's table into its `type`, its `inputs` and the rest, the part its
//! type's parser reads.
//!
//! A component whose `type` or `inputs` is wrong is reported and still kept, by name and with
//! whatever could be read of it, so that the graph is checked on every component of the file and
//! one mistake gives one error: those reading from a broken component get no "unknown input", and
//! a sink with broken `inputs` does not make every source "reach no sink".

use std::collections::BTreeMap;

use super::graph::Family;
use super::{parse_value, FieldError};

/// A component's table with `type` and `inputs` taken out.
pub struct Split {
    pub family: Family,
    pub name: String,
    /// `None` when `type` itself is wrong (already reported).
    pub kind: Option<String>,
    /// `None` when `inputs` is wrong (already reported): what the component reads is unknown.
    pub inputs: Option<Vec<String>>,
    pub rest: toml::Table,
}

/// Splits every component of one family; `kinds` are the family's type names, for messages.
pub fn split_family(
    family: Family,
    components: BTreeMap<String, toml::Table>,
    kinds: &[&str],
    errors: &mut Vec<FieldError>,
) -> Vec<Split> {
    components
        .into_iter()
        .map(|(name, table)| {
            let mut found = Vec::new();
            let split = split_component(family, name, table, kinds, &mut found);
            errors.extend(
                found
                    .into_iter()
                    .map(|e| e.within(&[family.table(), &split.name])),
            );
            split
        })
        .collect()
}

fn split_component(
    family: Family,
    name: String,
    mut rest: toml::Table,
    kinds: &[&str],
    errors: &mut Vec<FieldError>,
) -> Split {
    let expected = || format!("expected one of: {}", kinds.join(", "));
    let kind = match rest.remove("type") {
        Some(toml::Value::String(s)) => Some(s),
        Some(_) => {
            errors.push(FieldError::new(
                &["type"],
                format!("`type` must be a string in quotes, {}", expected()),
            ));
            None
        }
        None => {
            errors.push(FieldError::new(
                &[],
                format!("missing `type`: {}", expected()),
            ));
            None
        }
    };
    let inputs = match take_inputs(family, &mut rest) {
        Ok(inputs) => Some(inputs),
        Err(e) => {
            errors.push(e);
            // A source reads nothing, whatever its table says.
            (family == Family::Source).then(Vec::new)
        }
    };
    Split {
        family,
        name,
        kind,
        inputs,
        rest,
    }
}

/// Takes `inputs` out of a component's table.
fn take_inputs(family: Family, rest: &mut toml::Table) -> Result<Vec<String>, FieldError> {
    let needs_inputs = family != Family::Source;
    match rest.remove("inputs") {
        None if needs_inputs => Err(FieldError::new(
            &[],
            "missing `inputs`: name the components this one reads from",
        )),
        None => Ok(Vec::new()),
        Some(_) if !needs_inputs => Err(FieldError::new(
            &["inputs"],
            "a source reads no input: remove `inputs`",
        )),
        Some(v) => {
            let inputs: Vec<String> = parse_value(v).map_err(|e| e.within(&["inputs"]))?;
            if inputs.is_empty() {
                return Err(FieldError::new(
                    &["inputs"],
                    "`inputs` is empty: name at least one component",
                ));
            }
            Ok(inputs)
        }
    }
}
