//! Vector sources as skiff sources. skiff reads files only, so the `file` source is the one
//! converted (in [`file`](mod@file)); any other source is left out with a warning, and what reads it
//! reads nothing from it.
//!
//! To convert another source, write its converter (a [`Convert`]) and add it to [`SOURCES`].

pub mod file;

use super::graph::{Comp, Graph};
use super::keys::Keys;
use super::values::text;
use crate::migrate::ir::{Ctx, Severity};

/// Converts source `name` (skiff name `own`) from its keys, adding its components to `ctx`;
/// returns the skiff components that carry its events.
pub type Convert = fn(&mut Ctx, &mut Keys, &str, String) -> Vec<String>;

/// The sources skiff converts, by Vector type.
pub const SOURCES: &[(&str, Convert)] = &[("file", file::file)];

/// What to tell about sources that are left out, by Vector type.
const LEFT_OUT: &[(&str, &str)] = &[(
    "kubernetes_logs",
    "skiff reads files in a shared volume: use a file source on the pod's log files with parse_cri and the kubernetes transform; left out",
)];

/// Converts source `c`, recording what carries its output in `g.heads`.
pub fn source(ctx: &mut Ctx, g: &mut Graph, c: Comp) {
    let name = c.name;
    let mut keys = Keys::new(c.node, g.file.clone(), c.line);
    let kind = keys
        .take("type")
        .and_then(|(n, _)| text(n))
        .unwrap_or_default();
    let own = g.own_name(name);
    let Some(&(_, convert)) = SOURCES.iter().find(|(k, _)| *k == kind) else {
        let why = LEFT_OUT
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or("skiff reads files only; left out", |(_, why)| why);
        let note = ctx.note(
            Severity::Warning,
            &keys.place(c.line),
            &format!("[sources.{name}] type = \"{kind}\""),
            why,
        );
        g.pending.entry(name.to_owned()).or_default().push(note);
        g.heads.insert(name.to_owned(), Vec::new());
        return;
    };
    let heads = convert(ctx, &mut keys, name, own);
    g.heads.insert(name.to_owned(), heads);
}
