//! What both Fluent Bit readers produce and the converters read: the sections of a config
//! (`[INPUT]`, `[FILTER]`, `[OUTPUT]`, `[SERVICE]`, `[PARSER]`...) with their `Key Value`
//! properties, each with its place in the user's files.

use crate::migrate::ir::Place;

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
