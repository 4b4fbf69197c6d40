//! Reads Fluent Bit's YAML config format into the same [`Section`]s as the classic format, so
//! one converter serves both: `service`, `pipeline.inputs / filters / outputs`, `parsers`,
//! `multiline_parsers`, `env` (variables, like `@SET`) and `includes`.
//!
//! A plugin is written either `- name: tail` with its keys beside, or `- tail: { ... }`. A list
//! value stands for a repeated key (`add: [a 1, b 2]` is two `Add` lines); a table value (a
//! `processors` block) is kept as a complex property for the converter to report.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::section::{Prop, Section};
use crate::migrate::error::MigrateError;
use crate::migrate::files::{read_included, resolve};
use crate::migrate::ir::Place;
use crate::migrate::tree::{self, Entry, Kind, Node};

/// How deep `includes` may nest.
const MAX_INCLUDE_DEPTH: usize = 8;

struct YamlReader<'a> {
    file: Arc<PathBuf>,
    lines: Vec<&'a str>,
    vars: Vec<(String, String)>,
}

/// Reads the YAML config at `path` whose text is `text`, with the files it includes.
pub fn read(path: &Path, text: &str) -> Result<Vec<Section>, MigrateError> {
    let mut sections = Vec::new();
    let mut vars = Vec::new();
    read_into(path, text, &mut sections, &mut vars, 0)?;
    Ok(sections)
}

/// Reads a YAML parsers file: its `parsers` and `multiline_parsers`.
pub fn read_parsers(path: &Path, text: &str) -> Result<Vec<Section>, MigrateError> {
    let root = parse(path, text)?;
    let r = YamlReader {
        file: Arc::new(path.to_path_buf()),
        lines: text.lines().collect(),
        vars: Vec::new(),
    };
    let mut out = Vec::new();
    for (key, kind) in [
        ("parsers", "PARSER"),
        ("multiline_parsers", "MULTILINE_PARSER"),
    ] {
        if let Some(list) = root.get(key) {
            r.plugin_list(list, kind, &mut out)?;
        }
    }
    Ok(out)
}

fn parse(path: &Path, text: &str) -> Result<Node, MigrateError> {
    let root = tree::from_yaml(text).map_err(|e| MigrateError::Malformed {
        file: path.to_path_buf(),
        line: e.line,
        message: e.message,
    })?;
    match root.kind {
        Kind::Map(_) => Ok(root),
        Kind::Null => Ok(Node {
            kind: Kind::Map(Vec::new()),
            ..root
        }),
        _ => Err(MigrateError::Malformed {
            file: path.to_path_buf(),
            line: root.line,
            message: format!("expected a map of sections, found {}", root.type_name()),
        }),
    }
}

fn read_into(
    path: &Path,
    text: &str,
    sections: &mut Vec<Section>,
    vars: &mut Vec<(String, String)>,
    depth: usize,
) -> Result<(), MigrateError> {
    let root = parse(path, text)?;
    let mut r = YamlReader {
        file: Arc::new(path.to_path_buf()),
        lines: text.lines().collect(),
        vars: std::mem::take(vars),
    };
    let result = r.read_root(path, &root, sections, depth);
    *vars = r.vars;
    result
}

impl YamlReader<'_> {
    fn err(&self, line: usize, message: impl Into<String>) -> MigrateError {
        MigrateError::Malformed {
            file: (*self.file).clone(),
            line,
            message: message.into(),
        }
    }

    fn place(&self, line: usize) -> Place {
        Place {
            file: self.file.clone(),
            line,
        }
    }

    fn read_root(
        &mut self,
        path: &Path,
        root: &Node,
        sections: &mut Vec<Section>,
        depth: usize,
    ) -> Result<(), MigrateError> {
        if let Some(env) = root.get("env") {
            for e in env.entries() {
                let value = self.scalar(&e.value)?;
                let value = self.substitute(&value);
                self.vars.push((e.key.clone(), value));
            }
        }
        for entry in root.entries() {
            match entry.key.as_str() {
                "env" => {}
                "includes" => self.includes(path, &entry.value, sections, depth)?,
                "pipeline" => {
                    for (key, kind) in [
                        ("inputs", "INPUT"),
                        ("filters", "FILTER"),
                        ("outputs", "OUTPUT"),
                    ] {
                        if let Some(list) = entry.value.get(key) {
                            self.plugin_list(list, kind, sections)?;
                        }
                    }
                    for e in entry.value.entries() {
                        if !matches!(e.key.as_str(), "inputs" | "filters" | "outputs") {
                            sections.push(self.section(
                                &e.key.to_ascii_uppercase(),
                                e.line,
                                &e.value,
                            )?);
                        }
                    }
                }
                "parsers" => self.plugin_list(&entry.value, "PARSER", sections)?,
                "multiline_parsers" => {
                    self.plugin_list(&entry.value, "MULTILINE_PARSER", sections)?
                }
                "service" => sections.push(self.section("SERVICE", entry.line, &entry.value)?),
                other => sections.push(self.section(
                    &other.to_ascii_uppercase(),
                    entry.line,
                    &entry.value,
                )?),
            }
        }
        Ok(())
    }

    fn includes(
        &mut self,
        path: &Path,
        list: &Node,
        sections: &mut Vec<Section>,
        depth: usize,
    ) -> Result<(), MigrateError> {
        let items: Vec<&Node> = match &list.kind {
            Kind::Seq(items) => items.iter().collect(),
            _ => vec![list],
        };
        for item in items {
            let name = self.scalar(item)?;
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(self.err(
                    item.line,
                    format!("`includes` nests deeper than {MAX_INCLUDE_DEPTH} files"),
                ));
            }
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let file = resolve(&dir, &name);
            if file == path {
                return Err(self.err(item.line, format!("`includes: {name}` includes itself")));
            }
            let text = read_included(&file, &self.place(item.line))?;
            read_into(&file, &text, sections, &mut self.vars, depth + 1)?;
        }
        Ok(())
    }

    /// A list of plugins (`- name: tail ...` or `- tail: {...}`).
    fn plugin_list(
        &self,
        list: &Node,
        kind: &str,
        out: &mut Vec<Section>,
    ) -> Result<(), MigrateError> {
        let Kind::Seq(items) = &list.kind else {
            return Err(self.err(
                list.line,
                format!(
                    "expected a list of {}s, found {}",
                    kind.to_ascii_lowercase(),
                    list.type_name()
                ),
            ));
        };
        for item in items {
            let entries = item.entries();
            let section = match entries {
                [only] if matches!(only.value.kind, Kind::Map(_)) && item.get("name").is_none() => {
                    let mut s = self.section(kind, item.line, &only.value)?;
                    s.props.insert(
                        0,
                        Prop {
                            key: "name".into(),
                            value: only.key.clone(),
                            complex: false,
                            place: self.place(only.line),
                        },
                    );
                    s
                }
                _ => self.section(kind, item.line, item)?,
            };
            out.push(section);
        }
        Ok(())
    }

    fn section(&self, kind: &str, line: usize, node: &Node) -> Result<Section, MigrateError> {
        if !matches!(node.kind, Kind::Map(_) | Kind::Null) {
            return Err(self.err(
                node.line,
                format!("expected a map of settings, found {}", node.type_name()),
            ));
        }
        let mut props = Vec::new();
        for e in node.entries() {
            self.props(e, &mut props)?;
        }
        let end = last_line(node).max(line);
        let raw = self
            .lines
            .get(line.saturating_sub(1)..end.min(self.lines.len()))
            .unwrap_or_default()
            .iter()
            .map(|l| l.trim_end().to_owned())
            .collect();
        Ok(Section {
            kind: kind.to_owned(),
            place: self.place(line),
            props,
            raw,
        })
    }

    fn props(&self, e: &Entry, out: &mut Vec<Prop>) -> Result<(), MigrateError> {
        let prop = |value: String, complex: bool, line: usize| Prop {
            key: e.key.clone(),
            value,
            complex,
            place: self.place(line),
        };
        match &e.value.kind {
            Kind::Seq(items) if items.iter().all(|i| i.scalar_text().is_some()) => {
                for i in items {
                    out.push(prop(self.substitute(&self.scalar(i)?), false, i.line));
                }
            }
            Kind::Seq(_) | Kind::Map(_) => {
                out.push(prop(format!("<{}>", e.value.type_name()), true, e.line))
            }
            _ => out.push(prop(
                self.substitute(&self.scalar(&e.value)?),
                false,
                e.line,
            )),
        }
        Ok(())
    }

    fn scalar(&self, node: &Node) -> Result<String, MigrateError> {
        node.scalar_text().ok_or_else(|| {
            self.err(
                node.line,
                format!("expected a single value, found {}", node.type_name()),
            )
        })
    }

    /// Replaces `${NAME}` of the `env` variables.
    fn substitute(&self, value: &str) -> String {
        let mut out = value.to_owned();
        for (k, v) in self.vars.iter().rev() {
            out = out.replace(&format!("${{{k}}}"), v);
        }
        out
    }
}

fn last_line(node: &Node) -> usize {
    match &node.kind {
        Kind::Seq(items) => items.iter().map(last_line).max().unwrap_or(node.line),
        Kind::Map(entries) => entries
            .iter()
            .map(|e| last_line(&e.value).max(e.line))
            .max()
            .unwrap_or(node.line),
        Kind::Str(s) => node.body_line + s.lines().count().saturating_sub(1),
        _ => node.line,
    }
}

#[cfg(test)]
mod tests {
    use super::super::section::FbConfig;
    use super::*;

    /// The sections of a main file (no parsers files), as a whole config.
    fn read(path: &Path, text: &str) -> Result<FbConfig, MigrateError> {
        Ok(FbConfig {
            sections: super::read(path, text)?,
            unread: Vec::new(),
        })
    }

    #[test]
    fn both_plugin_forms_become_sections() {
        let text = "service:\n  flush: 1\npipeline:\n  inputs:\n    - name: tail\n      path: /a.log\n  outputs:\n    - stdout:\n        match: '*'\n";
        let cfg = read(Path::new("/x/fb.yaml"), text).unwrap();
        let kinds: Vec<&str> = cfg.sections.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(kinds, ["SERVICE", "INPUT", "OUTPUT"]);
        assert_eq!(cfg.sections[0].get("Flush").unwrap().value, "1");
        assert_eq!(cfg.sections[1].place.line, 5);
        assert_eq!(cfg.sections[1].get("path").unwrap().place.line, 6);
        assert_eq!(cfg.sections[2].name(), "stdout");
        assert_eq!(cfg.sections[2].get("match").unwrap().value, "*");
        assert_eq!(
            cfg.sections[1].raw,
            ["    - name: tail", "      path: /a.log"]
        );
    }

    #[test]
    fn lists_repeat_keys_and_env_is_substituted() {
        let text = "env:\n  TAG: app\npipeline:\n  filters:\n    - name: modify\n      match: ${TAG}\n      add:\n        - a 1\n        - b 2\n      processors:\n        logs: []\n";
        let cfg = read(Path::new("fb.yaml"), text).unwrap();
        let f = &cfg.sections[0];
        assert_eq!(f.get("match").unwrap().value, "app");
        let adds: Vec<&str> = f
            .props
            .iter()
            .filter(|p| p.key == "add")
            .map(|p| p.value.as_str())
            .collect();
        assert_eq!(adds, ["a 1", "b 2"]);
        assert!(f.get("processors").unwrap().complex);
    }

    #[test]
    fn malformed_yaml_names_the_line() {
        let e = read(Path::new("fb.yaml"), "pipeline:\n  inputs: 3\n").unwrap_err();
        assert!(
            matches!(e, MigrateError::Malformed { line: 2, .. }),
            "{e:?}"
        );
        let e = read(Path::new("fb.yaml"), "a: [\n").unwrap_err();
        assert!(matches!(e, MigrateError::Malformed { .. }), "{e:?}");
    }
}
