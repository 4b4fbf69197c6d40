//! The converted config before it is written out: skiff's components in pipeline order, each
//! with its keys and the comments that explain what changed, plus the notes for stderr.
//!
//! The converters build a [`Doc`] through a [`Ctx`], which also allocates unique component names
//! and records every [`Note`]: a setting skiff handles by design (a note), or one with no
//! equivalent (a warning, which makes the conversion incomplete). Each note becomes a comment
//! at its place in the output and a line on stderr naming the source file and line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A value in skiff's config.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A string, already in skiff's syntax: `${VAR}` is an environment variable, `$$` a `$`.
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<Val>),
    /// An inline table, in key order.
    Table(Vec<(String, Val)>),
}

impl Val {
    /// A string taken literally: `$` signs that skiff would interpolate are escaped.
    pub fn text(s: &str) -> Val {
        Val::Str(escape_dollars(s))
    }

    /// A string whose `${VAR}` references are meant for skiff's interpolation.
    pub fn interp(s: impl Into<String>) -> Val {
        Val::Str(s.into())
    }
}

/// Escapes `$` where skiff's interpolation would read it (`${` and `$$`).
pub fn escape_dollars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' && matches!(chars.peek(), Some('$' | '{')) {
            out.push('$');
        }
    }
    out
}

/// A line of a table: a key or a comment.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Key(String, Val),
    /// A comment line (without the `#`).
    Comment(String),
}

/// One `[sources|transforms|sinks.NAME]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: String,
    pub kind: String,
    pub inputs: Vec<String>,
    /// Comment lines before the table header: what was left out just before this component.
    pub leading: Vec<String>,
    /// Keys and comments after `type` and `inputs`.
    pub items: Vec<Item>,
}

impl Component {
    /// A component with no keys yet.
    pub fn new(name: String, kind: &str, inputs: Vec<String>) -> Component {
        Component {
            name,
            kind: kind.to_owned(),
            inputs,
            leading: Vec::new(),
            items: Vec::new(),
        }
    }

    /// Adds a key.
    pub fn set(&mut self, key: &str, value: Val) {
        self.items.push(Item::Key(key.to_owned(), value));
    }

    /// Adds a comment line.
    pub fn comment(&mut self, text: impl Into<String>) {
        self.items.push(Item::Comment(text.into()));
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Val> {
        self.items.iter().find_map(|i| match i {
            Item::Key(k, v) if k == key => Some(v),
            _ => None,
        })
    }
}

/// A component to create, before it has a unique name and inputs.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The wanted name (made unique when the component is created).
    pub name: String,
    pub kind: &'static str,
    pub items: Vec<Item>,
    /// Comments before the component's header.
    pub leading: Vec<String>,
}

impl Spec {
    pub fn new(name: impl Into<String>, kind: &'static str) -> Spec {
        Spec {
            name: name.into(),
            kind,
            items: Vec::new(),
            leading: Vec::new(),
        }
    }

    pub fn set(&mut self, key: &str, value: Val) {
        self.items.push(Item::Key(key.to_owned(), value));
    }

    pub fn comment(&mut self, text: impl Into<String>) {
        self.items.push(Item::Comment(text.into()));
    }
}

/// The whole converted config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    /// Comment lines at the top.
    pub header: Vec<String>,
    /// Top-level keys (`data_dir`, `shutdown_timeout`).
    pub globals: Vec<Item>,
    /// `[log]`.
    pub log: Vec<Item>,
    /// `[api]`.
    pub api: Vec<Item>,
    pub sources: Vec<Component>,
    pub transforms: Vec<Component>,
    pub sinks: Vec<Component>,
    /// Comments about things that have no component to sit in (an output that was left out).
    pub footer: Vec<String>,
}

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// skiff does the job differently or by design; nothing is lost.
    Note,
    /// Something was left out or behaves differently: the user must look.
    Warning,
}

/// A place in one of the input files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: Arc<PathBuf>,
    pub line: usize,
}

/// Something the user should know about the conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub severity: Severity,
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Everything the converters share: the document being built, the notes and the names in use.
#[derive(Debug)]
pub struct Ctx {
    pub doc: Doc,
    pub notes: Vec<Note>,
    names: HashSet<String>,
    main_file: PathBuf,
}

impl Ctx {
    /// A context for converting the file at `main_file`.
    pub fn new(main_file: &Path) -> Ctx {
        Ctx {
            doc: Doc::default(),
            notes: Vec::new(),
            names: HashSet::new(),
            main_file: main_file.to_owned(),
        }
    }

    /// Records a note at `place` and returns the comment line for the output:
    /// `skiff migrate: WHAT (line N): MESSAGE`.
    pub fn note(&mut self, severity: Severity, place: &Place, what: &str, message: &str) -> String {
        let message = one_line(message);
        let what = one_line(what);
        let text = if what.is_empty() {
            message.clone()
        } else {
            format!("{what}: {message}")
        };
        self.notes.push(Note {
            severity,
            file: (*place.file).clone(),
            line: place.line,
            message: text,
        });
        let at = self.place_text(place);
        if what.is_empty() {
            format!("skiff migrate: ({at}) {message}")
        } else {
            format!("skiff migrate: {what} ({at}): {message}")
        }
    }

    /// `line N` in the main file, `NAME line N` in another one (an include, a parsers file).
    pub fn place_text(&self, place: &Place) -> String {
        if *place.file == self.main_file {
            format!("line {}", place.line)
        } else {
            let name = place.file.file_name().map_or_else(
                || place.file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            format!("{name} line {}", place.line)
        }
    }

    /// A unique component name close to `wanted`: characters TOML keys cannot hold bare become
    /// `_`, and a taken name gets a numeric suffix.
    pub fn claim_name(&mut self, wanted: &str) -> String {
        let mut base: String = wanted
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if base.is_empty() {
            base.push_str("component");
        }
        let mut name = base.clone();
        let mut n = 2;
        while !self.names.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        name
    }

    /// Adds a transform built from `spec` reading `inputs`, with the comment lines `leading`
    /// before its own, and returns its unique name.
    pub fn add_transform(
        &mut self,
        spec: Spec,
        inputs: Vec<String>,
        mut leading: Vec<String>,
    ) -> String {
        let name = self.claim_name(&spec.name);
        let mut c = Component::new(name.clone(), spec.kind, inputs);
        c.items = spec.items;
        leading.extend(spec.leading);
        c.leading = leading;
        self.doc.transforms.push(c);
        name
    }
}

/// Comments must stay on one line: skiff interpolates `${VAR}` on every line that is not a
/// comment, so a newline inside one would turn the rest into config text.
fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_are_escaped_only_where_skiff_reads_them() {
        assert_eq!(escape_dollars("(.*)$"), "(.*)$");
        assert_eq!(escape_dollars("a${B}"), "a$${B}");
        assert_eq!(escape_dollars("$$"), "$$$");
        assert_eq!(escape_dollars("$$x"), "$$$x");
    }

    #[test]
    fn names_are_unique_and_bare() {
        let mut ctx = Ctx::new(Path::new("a.conf"));
        assert_eq!(ctx.claim_name("app.logs"), "app_logs");
        assert_eq!(ctx.claim_name("app.logs"), "app_logs_2");
        assert_eq!(ctx.claim_name(""), "component");
    }

    #[test]
    fn notes_name_other_files() {
        let mut ctx = Ctx::new(Path::new("/c/fluent-bit.conf"));
        let main = Place {
            file: Arc::new(PathBuf::from("/c/fluent-bit.conf")),
            line: 3,
        };
        let other = Place {
            file: Arc::new(PathBuf::from("/c/parsers.conf")),
            line: 7,
        };
        assert_eq!(
            ctx.note(Severity::Note, &main, "DB", "kept\nin data_dir"),
            "skiff migrate: DB (line 3): kept in data_dir"
        );
        assert_eq!(
            ctx.note(Severity::Warning, &other, "Decode_Field", "no"),
            "skiff migrate: Decode_Field (parsers.conf line 7): no"
        );
        assert_eq!(ctx.notes.len(), 2);
    }
}
