//! Reads Fluent Bit's classic config format into [`Section`]s: `[SECTION]` headers followed by
//! indented `Key Value` lines, `@INCLUDE` (globs, relative to the main file's directory) and
//! `@SET NAME=VALUE` variables. Parsers files are read by [`super::read`], with this reader for
//! the classic ones.
//!
//! The reader only checks syntax; what each section means is decided by the converters.
//! `${NAME}` of an `@SET` variable is replaced here; any other `${NAME}` stays in the value and
//! becomes a skiff environment variable.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::section::{Prop, Section};
use crate::migrate::error::MigrateError;
use crate::migrate::files::{read_included, resolve};
use crate::migrate::ir::Place;

/// How deep `@INCLUDE` may nest (a file including itself is caught before).
const MAX_INCLUDE_DEPTH: usize = 8;

/// State shared while reading a file and what it includes.
struct Reader {
    base_dir: PathBuf,
    vars: Vec<(String, String)>,
    stack: Vec<PathBuf>,
    sections: Vec<Section>,
}

/// Reads the classic file at `path` whose text is `text`, with the files it includes (found
/// relative to `base_dir`, the main config's directory).
pub fn read(base_dir: &Path, path: &Path, text: &str) -> Result<Vec<Section>, MigrateError> {
    let mut r = Reader {
        base_dir: base_dir.to_owned(),
        vars: Vec::new(),
        stack: vec![path.to_path_buf()],
        sections: Vec::new(),
    };
    r.read_text(Arc::new(path.to_path_buf()), text)?;
    Ok(r.sections)
}

/// The upper-cased name of a `[NAME]` header (`header` is the text after the `[`).
fn section_name(header: &str, line: &str) -> Result<String, String> {
    let Some(name) = header.strip_suffix(']') else {
        return Err(format!("section header `{line}` lacks its closing `]`"));
    };
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("invalid section name `{name}`"));
    }
    Ok(name.to_ascii_uppercase())
}

impl Reader {
    fn read_text(&mut self, file: Arc<PathBuf>, text: &str) -> Result<(), MigrateError> {
        let err = |line: usize, message: String| MigrateError::Malformed {
            file: (*file).clone(),
            line,
            message,
        };
        for (idx, raw_line) in text.lines().enumerate() {
            let line_no = idx + 1;
            let line = raw_line.trim();
            let place = Place {
                file: file.clone(),
                line: line_no,
            };
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(header) = line.strip_prefix('[') {
                let kind = section_name(header, line).map_err(|m| err(line_no, m))?;
                self.sections.push(Section {
                    kind,
                    place,
                    props: Vec::new(),
                    raw: vec![raw_line.trim_end().to_owned()],
                });
                continue;
            }
            if let Some(command) = line.strip_prefix('@') {
                self.command(command, &place)?;
                continue;
            }
            let (key, value) = match line.split_once(|c: char| c.is_whitespace()) {
                Some((k, v)) => (k, v.trim()),
                None => (line, ""),
            };
            if value.is_empty() {
                return Err(err(line_no, format!("`{key}` has no value")));
            }
            let value = self.substitute(value);
            let Some(section) = self.sections.last_mut() else {
                return Err(err(line_no, format!("`{key}` is outside of any [SECTION]")));
            };
            section.raw.push(raw_line.trim_end().to_owned());
            section.props.push(Prop {
                key: key.to_owned(),
                value,
                complex: false,
                place,
            });
        }
        Ok(())
    }

    /// `@INCLUDE file` or `@SET NAME=VALUE`.
    fn command(&mut self, command: &str, place: &Place) -> Result<(), MigrateError> {
        let err = |message: String| MigrateError::Malformed {
            file: (*place.file).clone(),
            line: place.line,
            message,
        };
        let (name, arg) = command
            .split_once(char::is_whitespace)
            .map_or((command, ""), |(n, a)| (n, a.trim()));
        match name.to_ascii_uppercase().as_str() {
            "SET" => {
                let Some((k, v)) = arg.split_once('=') else {
                    return Err(err(format!("`@SET {arg}`: expected NAME=VALUE")));
                };
                let value = self.substitute(v.trim());
                self.vars.push((k.trim().to_owned(), value));
                Ok(())
            }
            "INCLUDE" => {
                if arg.is_empty() {
                    return Err(err("`@INCLUDE` needs a file name".into()));
                }
                self.include(arg, place)
            }
            other => Err(err(format!(
                "unknown command `@{other}`: expected @INCLUDE or @SET"
            ))),
        }
    }

    fn include(&mut self, pattern: &str, place: &Place) -> Result<(), MigrateError> {
        let err = |message: String| MigrateError::Malformed {
            file: (*place.file).clone(),
            line: place.line,
            message,
        };
        if self.stack.len() > MAX_INCLUDE_DEPTH {
            return Err(err(format!(
                "`@INCLUDE` nests deeper than {MAX_INCLUDE_DEPTH} files"
            )));
        }
        let full = self.base_dir.join(pattern);
        let mut files: Vec<PathBuf> = if pattern.contains(['*', '?', '[']) {
            let matches = glob::glob(&full.to_string_lossy())
                .map_err(|e| err(format!("invalid `@INCLUDE` pattern `{pattern}`: {e}")))?;
            matches.filter_map(Result::ok).collect()
        } else {
            vec![resolve(&self.base_dir, pattern)]
        };
        files.sort();
        for file in files {
            if self.stack.contains(&file) {
                return Err(err(format!("`@INCLUDE {pattern}` includes itself")));
            }
            let text = read_included(&file, place)?;
            self.stack.push(file.clone());
            self.read_text(Arc::new(file), &text)?;
            self.stack.pop();
        }
        Ok(())
    }

    /// Replaces `${NAME}` of the `@SET` variables known so far.
    fn substitute(&self, value: &str) -> String {
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let body = &rest[start + 2..];
            let Some(end) = body.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &body[..end];
            match self.vars.iter().rev().find(|(k, _)| k == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&rest[start..start + 3 + end]),
            }
            rest = &body[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::section::FbConfig;
    use super::*;

    /// The sections of a main file (no parsers files), as a whole config.
    fn read(path: &Path, text: &str) -> Result<FbConfig, MigrateError> {
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(FbConfig {
            sections: super::read(&base_dir, path, text)?,
            unread: Vec::new(),
        })
    }

    fn read_str(text: &str) -> Result<FbConfig, MigrateError> {
        read(Path::new("/nonexistent/fluent-bit.conf"), text)
    }

    #[test]
    fn sections_and_props_keep_their_lines() {
        let cfg = read_str(
            "# c\n[INPUT]\n    Name tail\n    Path  /a/*.log, /b.log\n\n[OUTPUT]\n  Name es\n",
        )
        .unwrap();
        assert_eq!(cfg.sections.len(), 2);
        let input = &cfg.sections[0];
        assert_eq!((input.kind.as_str(), input.place.line), ("INPUT", 2));
        assert_eq!(input.get("PATH").unwrap().value, "/a/*.log, /b.log");
        assert_eq!(input.get("path").unwrap().place.line, 4);
        assert_eq!(input.raw[0], "[INPUT]");
    }

    #[test]
    fn set_variables_are_replaced_and_env_kept() {
        let cfg = read_str("@SET host=es.local\n[OUTPUT]\n Host ${host}\n Port ${PORT}\n").unwrap();
        let out = &cfg.sections[0];
        assert_eq!(out.get("host").unwrap().value, "es.local");
        assert_eq!(out.get("port").unwrap().value, "${PORT}");
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line() {
        for (text, line) in [
            ("[INPUT\n", 1),
            ("Name tail\n", 1),
            ("[INPUT]\n Name\n", 2),
            ("[INPUT]\n@FOO x\n", 2),
            ("[IN PUT]\n", 1),
            ("\n\n@INCLUDE missing.conf\n", 3),
        ] {
            match read_str(text) {
                Err(MigrateError::Malformed { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_include_cycle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("a.conf");
        std::fs::write(&main, "@INCLUDE a.conf\n").unwrap();
        let e = read(&main, "@INCLUDE a.conf\n").unwrap_err();
        assert!(e.to_string().contains("includes itself"), "{e}");
    }
}
