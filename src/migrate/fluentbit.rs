//! Reads Fluent Bit's classic config format into [`FbConfig`]: `[SECTION]` headers followed by
//! indented `Key Value` lines, `@INCLUDE` (globs, relative to the main file's directory),
//! `@SET NAME=VALUE` variables, and the parsers files named by `[SERVICE] Parsers_File`
//! (relative to the main file's directory).
//!
//! The reader only checks syntax; what each section means is decided in
//! [`super::fluentbit_convert`]. `${NAME}` of an `@SET` variable is replaced here; any other
//! `${NAME}` stays in the value and becomes a skiff environment variable.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ir::Place;
use super::MigrateError;

/// How deep `@INCLUDE` may nest (a file including itself is caught before).
const MAX_INCLUDE_DEPTH: usize = 8;

/// One `Key Value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop {
    /// The key as written (Fluent Bit compares keys without case).
    pub key: String,
    /// The value, with `@SET` variables replaced.
    pub value: String,
    /// A YAML value that is a list or a table (a `processors` block): kept for the message.
    pub complex: bool,
    pub place: Place,
}

/// One section: `[INPUT]`, `[FILTER]`, `[OUTPUT]`, `[SERVICE]`, `[PARSER]`...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The section name in upper case (`INPUT`).
    pub kind: String,
    pub place: Place,
    pub props: Vec<Prop>,
    /// The section's text as written, for commenting it out when it has no equivalent.
    pub raw: Vec<String>,
}

impl Section {
    /// The first value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.key.eq_ignore_ascii_case(key))
    }

    /// The plugin or parser name (`Name`), lower-cased for plugins.
    pub fn name(&self) -> String {
        self.get("name")
            .map(|p| p.value.clone())
            .unwrap_or_default()
    }
}

/// A whole Fluent Bit configuration, from all its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FbConfig {
    pub sections: Vec<Section>,
    /// Parsers files that could not be read: where they are named, and the path tried.
    pub unread: Vec<(Place, String)>,
}

impl FbConfig {
    /// The sections of one kind, in order.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections.iter().filter(move |s| s.kind == kind)
    }
}

/// State shared while reading a file and what it includes.
struct Reader {
    base_dir: PathBuf,
    vars: Vec<(String, String)>,
    stack: Vec<PathBuf>,
    sections: Vec<Section>,
}

/// Reads the classic config at `path` whose text is `text`, with its includes and parsers
/// files.
pub fn read(path: &Path, text: &str) -> Result<FbConfig, MigrateError> {
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut r = Reader {
        base_dir,
        vars: Vec::new(),
        stack: vec![path.to_path_buf()],
        sections: Vec::new(),
    };
    r.read_text(Arc::new(path.to_path_buf()), text)?;
    let mut cfg = FbConfig {
        sections: r.sections,
        unread: Vec::new(),
    };
    read_parsers_files(&r.base_dir, &mut cfg)?;
    Ok(cfg)
}

/// Reads the parsers files named by `[SERVICE] Parsers_File` into `cfg`. A file that cannot be
/// read is recorded in `cfg.unread` (the config is often copied out of its container, and
/// Fluent Bit's image ships its own parsers file); a file that is malformed is an error.
pub fn read_parsers_files(base_dir: &Path, cfg: &mut FbConfig) -> Result<(), MigrateError> {
    let props: Vec<Prop> = cfg
        .sections
        .iter()
        .filter(|s| s.kind == "SERVICE")
        .flat_map(|s| s.props.iter())
        .filter(|p| p.key.eq_ignore_ascii_case("parsers_file"))
        .cloned()
        .collect();
    for prop in props {
        let file = resolve(base_dir, &prop.value);
        let Ok(text) = std::fs::read_to_string(&file) else {
            cfg.unread
                .push((prop.place.clone(), file.display().to_string()));
            continue;
        };
        let sections = if is_yaml_path(&file) {
            super::fluentbit_yaml::read_parsers(&file, &text)?
        } else {
            let mut r = Reader {
                base_dir: base_dir.to_owned(),
                vars: Vec::new(),
                stack: vec![file.clone()],
                sections: Vec::new(),
            };
            r.read_text(Arc::new(file), &text)?;
            r.sections
        };
        // A parsers file defines parsers; anything else in it (another Parsers_File) is ignored.
        cfg.sections.extend(
            sections
                .into_iter()
                .filter(|s| matches!(s.kind.as_str(), "PARSER" | "MULTILINE_PARSER")),
        );
    }
    Ok(())
}

/// The file a config names: `name` relative to `base_dir`, or, when that does not exist, the
/// file of the same name in `base_dir` (a path inside the container, such as
/// `/fluent-bit/etc/parsers.conf`, for a config copied out of its ConfigMap).
pub fn resolve(base_dir: &Path, name: &str) -> PathBuf {
    let direct = base_dir.join(name);
    if direct.exists() {
        return direct;
    }
    match Path::new(name).file_name() {
        Some(f) if base_dir.join(f).exists() => base_dir.join(f),
        _ => direct,
    }
}

/// Whether a file name says YAML.
pub fn is_yaml_path(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Reads a file named by the config, as an error at `place` when it cannot be read.
pub fn read_included(file: &Path, place: &Place) -> Result<String, MigrateError> {
    std::fs::read_to_string(file).map_err(|e| MigrateError::Malformed {
        file: (*place.file).clone(),
        line: place.line,
        message: format!("cannot read {}: {e}", file.display()),
    })
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
                let Some(name) = header.strip_suffix(']') else {
                    return Err(err(
                        line_no,
                        format!("section header `{line}` lacks its closing `]`"),
                    ));
                };
                let name = name.trim();
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(err(line_no, format!("invalid section name `{name}`")));
                }
                self.sections.push(Section {
                    kind: name.to_ascii_uppercase(),
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
    use super::*;

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
    fn includes_and_parsers_files_are_read_relative_to_the_main_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("inputs.conf"),
            "[INPUT]\n Name tail\n Path /x\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("parsers.conf"),
            "[PARSER]\n Name j\n Format json\n",
        )
        .unwrap();
        let main = dir.path().join("fluent-bit.conf");
        let text = "[SERVICE]\n Parsers_File parsers.conf\n@INCLUDE inputs.conf\n";
        let cfg = read(&main, text).unwrap();
        let kinds: Vec<&str> = cfg.sections.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(kinds, ["SERVICE", "INPUT", "PARSER"]);
        assert_eq!(*cfg.sections[2].place.file, dir.path().join("parsers.conf"));
    }

    #[test]
    fn a_parsers_file_named_by_its_container_path_is_found_beside_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("parsers.conf"),
            "[PARSER]\n Name j\n Format json\n",
        )
        .unwrap();
        let main = dir.path().join("fluent-bit.conf");
        let text = "[SERVICE]\n Parsers_File /fluent-bit/etc/parsers.conf\n Parsers_File /etc/custom.conf\n";
        let cfg = read(&main, text).unwrap();
        assert_eq!(cfg.of_kind("PARSER").count(), 1);
        assert_eq!(cfg.unread.len(), 1);
        assert_eq!(cfg.unread[0].0.line, 3);
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
