//! Fluent Bit `[FILTER]`s as skiff transforms, one file per family: [`fields`] (`modify`,
//! `record_modifier`, `nest`), [`grep`], [`parse`] (`parser`, `multiline`) and [`kubernetes`].
//! A filter with no equivalent is left out whole, with a comment and a warning: half a filter
//! would change records silently.
//!
//! To convert another filter, write its converter (a [`Convert`]) and add it to [`FILTERS`].

pub mod fields;
pub mod grep;
pub mod kubernetes;
pub mod parse;

use crate::migrate::fluentbit::props::{left_out, report_rest, what, Props};
use crate::migrate::fluentbit::section::Section;
use crate::migrate::ir::{Ctx, Spec};

/// Converts a filter's properties into the transforms that do its job, in order, named after
/// the `&str` given; it gets the `[PARSER]`s defined. `Err` holds the comment lines when the
/// filter has no equivalent.
pub type Convert = fn(&mut Ctx, &mut Props, &str, &[&Section]) -> Result<Vec<Spec>, Vec<String>>;

/// The filters skiff converts, by plugin name.
pub const FILTERS: &[(&str, Convert)] = &[
    ("modify", fields::modify),
    ("record_modifier", fields::record_modifier),
    ("nest", fields::nest),
    ("grep", grep::grep),
    ("parser", parse::parser),
    ("kubernetes", kubernetes::kubernetes),
    ("multiline", parse::multiline),
];

/// Converts a `[FILTER]` into the transforms that do its job, in order; `Err` holds the
/// comment lines when it has no equivalent.
pub fn filter(ctx: &mut Ctx, s: &Section, parsers: &[&Section]) -> Result<Vec<Spec>, Vec<String>> {
    let plugin = s.name().to_ascii_lowercase();
    let mut p = Props::new(s);
    p.take("name");
    p.take("match");
    p.take("match_regex");
    let alias = p.take("alias").map(|a| a.value.clone());
    let name = alias.unwrap_or_else(|| plugin.clone());
    let Some(&(_, convert)) = FILTERS.iter().find(|(n, _)| *n == plugin) else {
        return Err(left_out(
            ctx,
            s,
            "has no skiff equivalent; records go on without it",
        ));
    };
    let mut specs = convert(ctx, &mut p, &name, parsers)?;
    let origin = format!("From {} ({}).", what(s), ctx.place_text(&s.place));
    if let Some(first) = specs.first_mut() {
        first.leading.insert(0, origin);
    }
    if let Some(last) = specs.last_mut() {
        report_rest(ctx, &mut p, &mut last.items);
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::fluentbit::section::Prop;
    use crate::migrate::ir::{Item, Place, Severity, Val};
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    fn section(lines: &[(&str, &str)]) -> Section {
        let file = Arc::new(PathBuf::from("f.conf"));
        Section {
            kind: "FILTER".into(),
            place: Place {
                file: file.clone(),
                line: 1,
            },
            props: lines
                .iter()
                .enumerate()
                .map(|(i, (k, v))| Prop {
                    key: (*k).into(),
                    value: (*v).into(),
                    complex: false,
                    place: Place {
                        file: file.clone(),
                        line: i + 2,
                    },
                })
                .collect(),
            raw: vec!["[FILTER]".into()],
        }
    }

    #[test]
    fn modify_rules_keep_their_order_in_runs() {
        let s = section(&[
            ("Name", "modify"),
            ("Match", "*"),
            ("Set", "a 1"),
            ("Set", "b two words"),
            ("Rename", "c d"),
            ("Add", "e 5"),
            ("Remove", "f"),
        ]);
        let mut ctx = Ctx::new(Path::new("f.conf"));
        let specs = filter(&mut ctx, &s, &[]).unwrap();
        let kinds: Vec<&str> = specs.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            ["add_fields", "rename_fields", "add_fields", "remove_fields"]
        );
        assert!(ctx.notes.is_empty(), "{:?}", ctx.notes);
    }

    #[test]
    fn grep_and_of_excludes_keeps_when_any_differs() {
        let s = section(&[
            ("Name", "grep"),
            ("Logical_Op", "and"),
            ("Exclude", "a x"),
            ("Exclude", "b y"),
        ]);
        let mut ctx = Ctx::new(Path::new("f.conf"));
        let spec = filter(&mut ctx, &s, &[]).unwrap().remove(0);
        assert!(spec
            .items
            .contains(&Item::Key("match".into(), Val::text("any"))));
    }

    #[test]
    fn unknown_filters_are_left_out_with_a_warning() {
        let s = section(&[("Name", "lua"), ("script", "x.lua")]);
        let mut ctx = Ctx::new(Path::new("f.conf"));
        let lines = filter(&mut ctx, &s, &[]).unwrap_err();
        assert!(lines[0].contains("[FILTER] lua (line 1)"), "{lines:?}");
        assert_eq!(ctx.notes[0].severity, Severity::Warning);
    }
}
