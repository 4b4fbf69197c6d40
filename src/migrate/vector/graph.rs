//! The component graph of a Vector config, converted component by component.
//!
//! Vector and skiff share the model (named sources, transforms and sinks, each naming its
//! `inputs`), so names are kept. A transform may become several skiff transforms in a row; the
//! last keeps the Vector name, so what reads from it still does. A transform with no
//! equivalent is left out and its readers read its inputs instead, with the comments about it
//! passed on to them. Transforms are resolved when first read, so the `inputs` of each
//! component name the skiff components that now carry its events.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use super::keys::{report_rest, Keys, COMMON_NOTES};
use super::transforms::transform;
use super::values::{text, texts};
use crate::migrate::error::MigrateError;
use crate::migrate::ir::{Component, Ctx, Item, Place, Severity, Spec};
use crate::migrate::tree::Node;
use crate::migrate::wildcard::tag_matches;

/// Which table a component is declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Sources,
    Transforms,
    Sinks,
}

/// A component as declared: its table, Vector name, keys and line.
#[derive(Debug, Clone, Copy)]
pub struct Comp<'a> {
    pub table: Table,
    pub name: &'a str,
    pub node: &'a Node,
    pub line: usize,
}

/// The state of the graph conversion: names, what each Vector name now stands for, comments
/// waiting for the component that reads a left-out one.
pub struct Graph<'a> {
    /// The components, in the order the config declares them.
    pub comps: Vec<Comp<'a>>,
    /// Vector name → skiff name.
    pub names: HashMap<String, String>,
    /// Vector name → the skiff components that carry its output (empty: left out, no input).
    pub heads: HashMap<String, Vec<String>>,
    /// Vector name → comments for whoever reads it.
    pub pending: HashMap<String, Vec<String>>,
    inputs: BTreeMap<String, Vec<String>>,
    tables: HashMap<String, Table>,
    pub file: Arc<PathBuf>,
}

impl<'a> Graph<'a> {
    /// The graph of `comps`, with a skiff name claimed for each; an error when transforms read
    /// their own output (Vector refuses such a config, and following it would never end).
    pub fn new(
        ctx: &mut Ctx,
        comps: Vec<Comp<'a>>,
        file: Arc<PathBuf>,
    ) -> Result<Graph<'a>, MigrateError> {
        let mut g = Graph {
            comps,
            names: HashMap::new(),
            heads: HashMap::new(),
            pending: HashMap::new(),
            inputs: BTreeMap::new(),
            tables: HashMap::new(),
            file,
        };
        for c in &g.comps {
            let new = ctx.claim_name(c.name);
            g.names.insert(c.name.to_string(), new);
            g.tables.insert(c.name.to_string(), c.table);
            if c.table != Table::Sources {
                g.inputs.insert(
                    c.name.to_string(),
                    c.node.get("inputs").and_then(texts).unwrap_or_default(),
                );
            }
        }
        if let Some((cycle, line)) = g.find_cycle() {
            return Err(MigrateError::Malformed {
                file: (*g.file).clone(),
                line,
                message: format!(
                    "transforms read their own output through their inputs ({}); Vector refuses such a config",
                    cycle.join(" -> ")
                ),
            });
        }
        Ok(g)
    }

    /// The skiff name of Vector component `name`.
    pub fn own_name(&self, name: &str) -> String {
        self.names
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    }

    /// The components an `inputs` entry of component `own` names: the entry itself, or, for
    /// a pattern with `*`, every source and transform but `own` that it matches, in the order
    /// the config declares them (so the output does not depend on a hash map's order).
    fn matched_inputs(&self, pattern: &str, own: &str) -> Vec<String> {
        if !pattern.contains('*') {
            return vec![pattern.to_owned()];
        }
        let mut out: Vec<String> = Vec::new();
        for c in &self.comps {
            if c.table != Table::Sinks
                && c.name != own
                && tag_matches(pattern, c.name)
                && !out.iter().any(|o| o == c.name)
            {
                out.push(c.name.to_owned());
            }
        }
        out
    }

    /// A transform that reads its own output through its inputs: the names around the cycle,
    /// and the line of the transform where it was found.
    fn find_cycle(&self) -> Option<(Vec<String>, usize)> {
        let mut done = Vec::new();
        for c in &self.comps {
            if c.table == Table::Transforms {
                if let Some(cycle) = self.visit(c.name, &mut Vec::new(), &mut done) {
                    return Some((cycle, c.line));
                }
            }
        }
        None
    }

    /// Depth-first search for [`Graph::find_cycle`].
    fn visit(
        &self,
        name: &str,
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == name) {
            let mut cycle = path[at..].to_vec();
            cycle.push(name.to_owned());
            return Some(cycle);
        }
        if done.iter().any(|d| d == name) {
            return None;
        }
        path.push(name.to_owned());
        for pattern in self.inputs.get(name).into_iter().flatten() {
            for m in self.matched_inputs(pattern, name) {
                let is_transform = self
                    .comps
                    .iter()
                    .any(|c| c.table == Table::Transforms && c.name == m);
                if is_transform {
                    if let Some(cycle) = self.visit(&m, path, done) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        done.push(name.to_owned());
        None
    }

    /// The skiff heads feeding component `name`, resolving transforms first; the comments
    /// waiting on its inputs move to `pending[name]`.
    pub fn input_heads(&mut self, ctx: &mut Ctx, name: &str, line: usize) -> Vec<String> {
        let mut heads = Vec::new();
        let wanted = self.inputs.get(name).cloned().unwrap_or_default();
        for pattern in wanted {
            let matched = self.matched_inputs(&pattern, name);
            if matched.is_empty()
                || matched
                    .iter()
                    .any(|m| self.tables.get(m).is_none_or(|t| *t == Table::Sinks))
            {
                let c = ctx.note(
                    Severity::Warning,
                    &Place {
                        file: self.file.clone(),
                        line,
                    },
                    &format!("inputs `{pattern}`"),
                    "names no source or transform skiff can read from; left out",
                );
                self.pending.entry(name.to_owned()).or_default().push(c);
                continue;
            }
            for m in matched {
                if !self.heads.contains_key(&m) {
                    if let Some(c) = self.comps.iter().find(|c| c.name == m).copied() {
                        self.resolve_transform(ctx, c, &mut vec![name.to_owned()]);
                    }
                }
                heads.extend(self.heads.get(&m).cloned().unwrap_or_default());
                if let Some(p) = self.pending.remove(&m) {
                    self.pending.entry(name.to_owned()).or_default().extend(p);
                }
            }
        }
        heads.sort();
        heads.dedup();
        heads
    }

    /// Converts transform `c` (after what it reads), recording what carries its output.
    pub fn resolve_transform(&mut self, ctx: &mut Ctx, c: Comp, stack: &mut Vec<String>) {
        let name = c.name;
        if self.heads.contains_key(name) || stack.iter().any(|s| s == name) {
            return;
        }
        stack.push(name.to_owned());
        let inputs = self.input_heads(ctx, name, c.line);
        stack.pop();
        let mut keys = Keys::new(c.node, self.file.clone(), c.line);
        keys.take("inputs");
        let kind = keys
            .take("type")
            .and_then(|(n, _)| text(n))
            .unwrap_or_default();
        let place = keys.place(c.line);
        let result = transform(ctx, &mut keys, name, &kind);
        let mut leading = self.pending.remove(name).unwrap_or_default();
        match result {
            Ok(specs) if !specs.is_empty() && !inputs.is_empty() => {
                let origin = format!(
                    "From [transforms.{name}] {kind} ({}).",
                    ctx.place_text(&place)
                );
                let own = self.own_name(name);
                let chain = Chain {
                    own: &own,
                    origin,
                    leading,
                };
                let heads = chain.add(ctx, specs, inputs, &mut keys);
                self.heads.insert(name.to_owned(), heads);
            }
            Ok(specs) => {
                // Nothing to do (or nothing reads into it): events pass through.
                for s in specs {
                    leading.extend(s.leading);
                    leading.extend(s.items.into_iter().filter_map(|i| match i {
                        Item::Comment(c) => Some(c),
                        Item::Key(..) => None,
                    }));
                }
                self.pending.insert(name.to_owned(), leading);
                self.heads.insert(name.to_owned(), inputs);
            }
            Err(comments) => {
                leading.extend(comments);
                self.pending.insert(name.to_owned(), leading);
                self.heads.insert(name.to_owned(), inputs);
            }
        }
    }
}

/// The row of skiff transforms one Vector transform becomes.
struct Chain<'s> {
    /// The skiff name of the Vector transform, which the last of the row takes.
    own: &'s str,
    /// The comment naming where the transform comes from, before the first of the row.
    origin: String,
    /// Comments waiting for the first of the row.
    leading: Vec<String>,
}

impl Chain<'_> {
    /// Adds `specs` in a row reading `heads`; returns the new heads (the last of the row).
    fn add(
        mut self,
        ctx: &mut Ctx,
        specs: Vec<Spec>,
        mut heads: Vec<String>,
        keys: &mut Keys,
    ) -> Vec<String> {
        let n = specs.len();
        for (i, mut spec) in specs.into_iter().enumerate() {
            let last = i + 1 == n;
            let cname = if last {
                self.own.to_owned()
            } else {
                ctx.claim_name(&format!("{}_{}", self.own, spec.name))
            };
            if i == 0 {
                spec.leading.push(std::mem::take(&mut self.origin));
            }
            let mut c = Component::new(cname.clone(), spec.kind, heads);
            self.leading.append(&mut spec.leading);
            c.leading = std::mem::take(&mut self.leading);
            c.items = spec.items;
            if last {
                report_rest(ctx, keys, &mut c.items, COMMON_NOTES);
            }
            ctx.doc.transforms.push(c);
            heads = vec![cname];
        }
        heads
    }
}

#[cfg(test)]
mod tests {
    use crate::migrate::error::MigrateError;

    fn migrate(text: &str) -> Result<crate::migrate::Migration, MigrateError> {
        crate::migrate::migrate_text(std::path::Path::new("vector.toml"), text, None)
    }

    #[test]
    fn a_wildcard_input_resolves_transforms_in_declaration_order() {
        let mut text = String::from("[sources.a]\ntype = \"file\"\ninclude = [\"/a.log\"]\n");
        text.push_str("[transforms.z]\ntype = \"remap\"\ninputs = [\"x*\"]\nsource = \".z = 1\"\n");
        for i in 1..=6 {
            text.push_str(&format!(
                "[transforms.x{i}]\ntype = \"remap\"\ninputs = [\"a\"]\nsource = \".f{i} = 1\"\n"
            ));
        }
        text.push_str("[sinks.o]\ntype = \"console\"\ninputs = [\"z\"]\n");
        let toml = migrate(&text).unwrap().toml;
        let order: Vec<&str> = toml
            .lines()
            .filter_map(|l| l.strip_prefix("[transforms."))
            .collect();
        assert_eq!(order, ["x1]", "x2]", "x3]", "x4]", "x5]", "x6]", "z]"]);
    }

    #[test]
    fn transforms_reading_each_other_are_refused() {
        let text = "[sources.a]\ntype = \"file\"\ninclude = [\"/a.log\"]\n\
            [transforms.p]\ntype = \"remap\"\ninputs = [\"q\"]\nsource = \".a = 1\"\n\
            [transforms.q]\ntype = \"remap\"\ninputs = [\"a\", \"p*\"]\nsource = \".b = 1\"\n\
            [sinks.o]\ntype = \"console\"\ninputs = [\"p\"]\n";
        match migrate(text) {
            Err(MigrateError::Malformed { line, message, .. }) => {
                assert_eq!(line, 4);
                assert!(message.contains("p -> q -> p"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
