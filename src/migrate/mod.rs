//! `skiff migrate`: converts a Fluent Bit or Vector config into a skiff config.
//!
//! Users arrive with a working config, often in a ConfigMap. This module reads it, maps every
//! setting it can onto skiff's schema, and writes skiff TOML in which each setting that skiff
//! handles differently, or cannot express, is explained by a comment at its place. Nothing is
//! dropped silently: each such setting is also a [`Note`] (file and line) for stderr, and a
//! [`Severity::Warning`] among them means the conversion is incomplete.
//!
//! Layout: two wings over a shared core. This file detects the format and runs one wing.
//! - [`fluentbit`]: Fluent Bit's classic and YAML formats read into sections, then converted
//!   (`inputs/`, `filters/`, `outputs/`: one converter per plugin, listed in a table);
//! - [`vector`]: a Vector config converted component by component (`sources/`,
//!   `transforms/`, `sinks/`, each with its table), with its VRL reader ([`vector::vrl`]);
//! - shared by both: [`tree`] (TOML / YAML / JSON read into one positioned tree), [`ir`] (the
//!   converted document and the notes), [`emit`] (writes it as TOML), [`translate`] (value
//!   rules: sizes, durations, time formats, regexes, variables), [`files`] (files a config
//!   names), [`wildcard`] (`*` patterns over names) and [`error`].
//!
//! The wings never import each other, and within each the files depend one way: readers,
//! then converters of single components, then the wiring of the graph.

pub mod emit;
pub mod error;
pub mod files;
pub mod fluentbit;
pub mod ir;
pub mod manifest;
pub mod translate;
pub mod tree;
pub mod vector;
pub mod wildcard;

use std::path::Path;
use std::sync::Arc;

pub use error::MigrateError;
pub use ir::{Note, Severity};

/// The tool a config comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    FluentBit,
    Vector,
}

impl std::str::FromStr for Tool {
    type Err = String;
    fn from_str(s: &str) -> Result<Tool, String> {
        match s.to_ascii_lowercase().as_str() {
            "fluent-bit" | "fluentbit" | "fluent_bit" => Ok(Tool::FluentBit),
            "vector" => Ok(Tool::Vector),
            other => Err(format!(
                "unknown format `{other}`: expected fluent-bit or vector"
            )),
        }
    }
}

/// The result of a conversion.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The skiff config, as TOML.
    pub toml: String,
    /// What the user should know, in the order found.
    pub notes: Vec<Note>,
    /// Every output was left out: the config has no sink, and skiff will not run it.
    pub ships_nowhere: bool,
}

impl Migration {
    /// Whether everything was converted (no warning) and the result ships somewhere.
    pub fn complete(&self) -> bool {
        !self.ships_nowhere && self.notes.iter().all(|n| n.severity == Severity::Note)
    }
}

/// Converts the config file at `path`.
pub fn migrate_file(path: &Path, from: Option<Tool>) -> Result<Migration, MigrateError> {
    let text = std::fs::read_to_string(path).map_err(|error| MigrateError::Read {
        path: path.to_owned(),
        error,
    })?;
    migrate_text(path, &text, from)
}

/// The syntax of a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    FluentBitClassic,
    FluentBitYaml,
    VectorToml,
    VectorYaml,
}

/// Converts config `text`, read from `path` (files it includes are read relative to it).
pub fn migrate_text(
    path: &Path,
    text: &str,
    from: Option<Tool>,
) -> Result<Migration, MigrateError> {
    let syntax =
        detect(path, text, from).ok_or_else(|| MigrateError::UnknownFormat(path.to_owned()))?;
    let mut ctx = ir::Ctx::new(path);
    let file = Arc::new(path.to_path_buf());
    let tool = match syntax {
        Syntax::FluentBitClassic => {
            let cfg = fluentbit::read_classic(path, text)?;
            fluentbit::convert(&cfg, &mut ctx);
            "Fluent Bit"
        }
        Syntax::FluentBitYaml => {
            let cfg = fluentbit::read_yaml(path, text)?;
            fluentbit::convert(&cfg, &mut ctx);
            "Fluent Bit"
        }
        Syntax::VectorToml | Syntax::VectorYaml => {
            let root = if syntax == Syntax::VectorToml {
                tree::from_toml(text)
            } else {
                tree::from_yaml(text)
            }
            .map_err(|e| MigrateError::Malformed {
                file: path.to_owned(),
                line: e.line,
                message: e.message,
            })?;
            vector::convert(&root, file.clone(), &mut ctx)?;
            "Vector"
        }
    };
    if ctx.doc.sources.is_empty() {
        return Err(MigrateError::NoSource {
            file: path.to_owned(),
            notes: ctx.notes,
        });
    }
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    ctx.doc.header = vec![
        format!("skiff config converted from {tool} config {name} by `skiff migrate`."),
        "Comments starting with \"skiff migrate:\" explain settings that skiff handles".into(),
        "differently or could not convert: review them before use.".into(),
    ];
    let ships_nowhere = ctx.doc.sinks.is_empty();
    if ships_nowhere {
        // The old agent shipped somewhere; this config would read every line and ship none.
        // skiff refuses to start it (a source must reach a sink): say so at the top.
        let place = ir::Place {
            file: file.clone(),
            line: 1,
        };
        let line = ctx.note(
            Severity::Warning,
            &place,
            "",
            &format!("error: every output of this {tool} config was left out, so the converted config ships nowhere: skiff validate and skiff run refuse it until you add a sink (or a blackhole sink, to discard on purpose)"),
        );
        ctx.doc.header.push(String::new());
        ctx.doc.header.push(line);
    }
    // Notes in file order: the main file first, then included files by name.
    let mut notes = ctx.notes;
    notes.sort_by(|a, b| (a.file != path, &a.file, a.line).cmp(&(b.file != path, &b.file, b.line)));
    Ok(Migration {
        toml: emit::emit(&ctx.doc),
        notes,
        ships_nowhere,
    })
}

fn detect(path: &Path, text: &str, from: Option<Tool>) -> Option<Syntax> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let yaml_ext = matches!(ext.as_str(), "yaml" | "yml" | "json");
    let classic = looks_classic(text);
    match from {
        Some(Tool::FluentBit) if yaml_ext || (!classic && ext != "conf" && looks_yaml(text)) => {
            Some(Syntax::FluentBitYaml)
        }
        Some(Tool::FluentBit) => Some(Syntax::FluentBitClassic),
        Some(Tool::Vector) if yaml_ext => Some(Syntax::VectorYaml),
        Some(Tool::Vector) => Some(Syntax::VectorToml),
        None if ext == "conf" || classic => Some(Syntax::FluentBitClassic),
        None if ext == "toml" => Some(Syntax::VectorToml),
        None if yaml_ext => {
            // A YAML file that does not parse is reported, with its line, by the Vector reader.
            let Ok(root) = tree::from_yaml(text) else {
                return Some(Syntax::VectorYaml);
            };
            let has = |k: &str| root.get(k).is_some();
            if has("pipeline") || has("service") || has("parsers") || has("includes") {
                Some(Syntax::FluentBitYaml)
            } else {
                Some(Syntax::VectorYaml)
            }
        }
        None => {
            let root = tree::from_toml(text).ok()?;
            (root.get("sources").is_some() || root.get("sinks").is_some())
                .then_some(Syntax::VectorToml)
        }
    }
}

/// Whether the text has a Fluent Bit `[SECTION]` header or `@INCLUDE` / `@SET` line.
fn looks_classic(text: &str) -> bool {
    text.lines().map(str::trim).any(|l| {
        let upper = l.to_ascii_uppercase();
        matches!(
            upper.as_str(),
            "[SERVICE]" | "[INPUT]" | "[FILTER]" | "[OUTPUT]" | "[PARSER]" | "[MULTILINE_PARSER]"
        ) || upper.starts_with("@INCLUDE")
            || upper.starts_with("@SET")
    })
}

fn looks_yaml(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("pipeline:") || l.starts_with("service:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected() {
        let d = |p: &str, t: &str| detect(Path::new(p), t, None);
        assert_eq!(d("a.conf", ""), Some(Syntax::FluentBitClassic));
        assert_eq!(
            d("cm", "[INPUT]\n Name tail\n"),
            Some(Syntax::FluentBitClassic)
        );
        assert_eq!(d("v.toml", ""), Some(Syntax::VectorToml));
        assert_eq!(
            d("x", "[sources.a]\ntype = \"file\"\n"),
            Some(Syntax::VectorToml)
        );
        assert_eq!(
            d("f.yaml", "pipeline:\n  inputs: []\n"),
            Some(Syntax::FluentBitYaml)
        );
        assert_eq!(d("v.yaml", "sources: {}\n"), Some(Syntax::VectorYaml));
        assert_eq!(d("x", "hello"), None);
        assert_eq!(
            detect(Path::new("x"), "pipeline:\n", Some(Tool::FluentBit)),
            Some(Syntax::FluentBitYaml)
        );
    }
}
