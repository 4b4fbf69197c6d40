//! The keys of a Vector component, flattened to dotted paths and tracked as they are used,
//! so that every key nobody converted is reported: as a note when skiff does its job by design,
//! as a warning otherwise.

use std::path::PathBuf;
use std::sync::Arc;

use crate::migrate::ir::{Ctx, Item, Place, Severity};
use crate::migrate::tree::{Kind, Node};

/// The keys of a component, flattened to dotted paths (`encoding.codec`), tracking which were
/// used so the rest can be reported.
pub struct Keys<'a> {
    items: Vec<(String, &'a Node, usize)>,
    used: Vec<bool>,
    pub file: Arc<PathBuf>,
    /// The component's own line.
    pub line: usize,
}

impl<'a> Keys<'a> {
    /// The keys of `node`, a component declared at `line` of `file`.
    pub fn new(node: &'a Node, file: Arc<PathBuf>, line: usize) -> Keys<'a> {
        let mut items = Vec::new();
        flatten("", node, &mut items);
        Keys {
            used: vec![false; items.len()],
            items,
            file,
            line,
        }
    }

    pub fn place(&self, line: usize) -> Place {
        Place {
            file: self.file.clone(),
            line,
        }
    }

    /// The value at `key` and its line, marked used.
    pub fn take(&mut self, key: &str) -> Option<(&'a Node, usize)> {
        let i = self
            .items
            .iter()
            .enumerate()
            .position(|(i, (k, _, _))| !self.used[i] && k == key)?;
        self.used[i] = true;
        Some((self.items[i].1, self.items[i].2))
    }

    /// Whether `key` is present and unused (it stays unused).
    pub fn has(&self, key: &str) -> bool {
        self.items
            .iter()
            .enumerate()
            .any(|(i, (k, _, _))| !self.used[i] && k == key)
    }

    /// Every unused key under `prefix.`, with the rest of its path, marked used.
    pub fn take_prefix(&mut self, prefix: &str) -> Vec<(String, &'a Node, usize)> {
        let dotted = format!("{prefix}.");
        let mut out = Vec::new();
        for (i, (k, n, l)) in self.items.iter().enumerate() {
            if !self.used[i] {
                if let Some(rest) = k.strip_prefix(&dotted) {
                    self.used[i] = true;
                    out.push((rest.to_owned(), *n, *l));
                }
            }
        }
        out
    }

    /// The keys nobody took.
    pub fn rest(&mut self) -> Vec<(String, &'a Node, usize)> {
        let out = self
            .items
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.used[*i])
            .map(|(_, x)| x.clone())
            .collect();
        self.used.fill(true);
        out
    }
}

fn flatten<'a>(prefix: &str, node: &'a Node, out: &mut Vec<(String, &'a Node, usize)>) {
    for e in node.entries() {
        let key = if prefix.is_empty() {
            e.key.clone()
        } else {
            format!("{prefix}.{}", e.key)
        };
        match &e.value.kind {
            Kind::Map(m) if !m.is_empty() => flatten(&key, &e.value, out),
            _ => out.push((key, &e.value, e.line)),
        }
    }
}

/// Reports every unused key: those in `notes` as notes, the others as warnings.
pub fn report_rest(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>, notes: &[(&str, &str)]) {
    for (k, node, line) in keys.rest() {
        let place = keys.place(line);
        let value = node
            .scalar_text()
            .unwrap_or_else(|| format!("<{}>", node.type_name()));
        let known = notes
            .iter()
            .find(|(prefix, _)| k == *prefix || k.starts_with(&format!("{prefix}.")));
        let comment = match known {
            Some((_, why)) => ctx.note(Severity::Note, &place, &k, why),
            None => ctx.note(
                Severity::Warning,
                &place,
                &format!("{k} = {value}"),
                "has no skiff equivalent; left out",
            ),
        };
        items.push(Item::Comment(comment));
    }
}

/// Keys every Vector component may have that skiff does by design.
pub const COMMON_NOTES: &[(&str, &str)] = &[
    (
        "buffer",
        "skiff keeps no buffer of its own: the log file is the buffer",
    ),
    (
        "acknowledgements",
        "skiff acknowledges every event end to end, always",
    ),
    ("graph", "skiff has no graph display options"),
];
