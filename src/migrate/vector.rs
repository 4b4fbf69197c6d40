//! Turns a Vector config (TOML, YAML or JSON, read into a [`Node`] tree) into skiff components.
//!
//! Vector and skiff share the model (named sources, transforms and sinks, each naming its
//! `inputs`), so names are kept. A `remap` may become several skiff transforms
//! ([`super::vector_remap`]); the last keeps the remap's name, so what reads from it still
//! does. A transform with no equivalent is left out and its readers read its inputs instead,
//! with a comment and a warning. Sinks are in [`super::vector_sinks`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use super::fluentbit_convert::tag_matches;
use super::ir::{Component, Ctx, Item, Place, Severity, Val};
use super::translate::{duration, vector_env};
use super::tree::{Kind, Node};
use super::vrl::Lit;
use super::MigrateError;

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

/// A string value in skiff syntax (Vector's `$VAR` forms become `${VAR}`).
pub fn text(node: &Node) -> Option<String> {
    match &node.kind {
        Kind::Str(s) => Some(vector_env(s)),
        _ => None,
    }
}

/// A list of strings (a single string counts as a list of one).
pub fn texts(node: &Node) -> Option<Vec<String>> {
    match &node.kind {
        Kind::Str(_) => text(node).map(|s| vec![s]),
        Kind::Seq(items) => items.iter().map(text).collect(),
        _ => None,
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

/// Converts the document into `ctx`.
pub fn convert(root: &Node, file: Arc<PathBuf>, ctx: &mut Ctx) -> Result<(), MigrateError> {
    globals(root, &file, ctx);
    let tables = ["sources", "transforms", "sinks"].map(|t| root.get(t));
    let mut comps: Vec<(usize, &str, &Node, usize)> = Vec::new();
    for (section, table) in tables.iter().enumerate() {
        let Some(table) = table else { continue };
        for e in table.entries() {
            if !matches!(e.value.kind, Kind::Map(_)) || e.value.get("type").and_then(text).is_none()
            {
                return Err(MigrateError::Malformed {
                    file: (*file).clone(),
                    line: e.line,
                    message: format!("component `{}` needs a table with a `type` string", e.key),
                });
            }
            comps.push((section, &e.key, &e.value, e.line));
        }
    }
    let mut g = Graph {
        names: HashMap::new(),
        heads: HashMap::new(),
        pending: HashMap::new(),
        inputs: BTreeMap::new(),
        kinds: HashMap::new(),
        file,
    };
    for (section, name, node, _) in &comps {
        let new = ctx.claim_name(name);
        g.names.insert(name.to_string(), new);
        g.kinds.insert(name.to_string(), *section);
        if *section > 0 {
            g.inputs.insert(
                name.to_string(),
                node.get("inputs").and_then(texts).unwrap_or_default(),
            );
        }
    }
    if let Some((cycle, line)) = find_cycle(&g.inputs, &comps) {
        return Err(MigrateError::Malformed {
            file: (*g.file).clone(),
            line,
            message: format!(
                "transforms read their own output through their inputs ({}); Vector refuses such a config",
                cycle.join(" -> ")
            ),
        });
    }
    for (section, name, node, line) in &comps {
        if *section == 0 {
            super::vector_sources::source(ctx, &mut g, name, node, *line);
        }
    }
    for (section, name, node, line) in &comps {
        if *section == 1 {
            g.resolve_transform(ctx, name, node, *line, &comps, &mut Vec::new());
        }
    }
    for (section, name, node, line) in &comps {
        if *section == 2 {
            let inputs = g.input_heads(ctx, name, *line, &comps);
            super::vector_sinks::sink(ctx, &mut g, (name, node, *line), inputs);
        }
    }
    // What nobody reads, in the config's order (not a hash map's).
    for (_, name, _, _) in &comps {
        if let Some(left) = g.pending.remove(*name) {
            ctx.doc.footer.extend(left);
        }
    }
    let mut rest: Vec<(String, Vec<String>)> = g.pending.into_iter().collect();
    rest.sort();
    ctx.doc.footer.extend(rest.into_iter().flat_map(|(_, c)| c));
    Ok(())
}

fn globals(root: &Node, file: &Arc<PathBuf>, ctx: &mut Ctx) {
    let mut keys = Keys::new(root, file.clone(), 1);
    keys.take_prefix("sources");
    keys.take_prefix("transforms");
    keys.take_prefix("sinks");
    for k in ["sources", "transforms", "sinks"] {
        keys.take(k);
    }
    if let Some((n, _)) = keys.take("data_dir") {
        if let Some(s) = text(n) {
            ctx.doc
                .globals
                .push(Item::Key("data_dir".into(), Val::interp(s)));
        }
    }
    if let Some((n, _)) = keys.take("api.enabled") {
        if let Kind::Bool(b) = n.kind {
            ctx.doc.api.push(Item::Key("enabled".into(), Val::Bool(b)));
        }
    }
    if let Some((n, line)) = keys.take("api.address") {
        if let Some(s) = text(n) {
            ctx.doc
                .api
                .push(Item::Key("address".into(), Val::interp(s)));
            let c = ctx.note(
                Severity::Note,
                &keys.place(line),
                "api",
                "skiff serves /health, /ready and /metrics (Prometheus); there is no GraphQL API",
            );
            ctx.doc.api.push(Item::Comment(c));
        }
    }
    let mut items = Vec::new();
    let notes: &[(&str, &str)] = &[
        ("api.playground", "skiff has no GraphQL playground"),
        (
            "acknowledgements",
            "skiff acknowledges every event end to end, always",
        ),
        (
            "healthchecks",
            "set `healthcheck` on each elasticsearch sink",
        ),
        (
            "expire_metrics_secs",
            "skiff's metrics are fixed per component",
        ),
    ];
    report_rest(ctx, &mut keys, &mut items, notes);
    ctx.doc.globals.extend(items);
}

/// The state of the graph conversion: names, what each Vector name now stands for, comments
/// waiting for the component that reads a left-out one.
pub struct Graph {
    /// Vector name → skiff name.
    pub names: HashMap<String, String>,
    /// Vector name → the skiff components that carry its output (empty: left out, no input).
    pub heads: HashMap<String, Vec<String>>,
    /// Vector name → comments for whoever reads it.
    pub pending: HashMap<String, Vec<String>>,
    inputs: BTreeMap<String, Vec<String>>,
    kinds: HashMap<String, usize>,
    pub file: Arc<PathBuf>,
}

impl Graph {
    /// The skiff heads feeding component `name`, resolving transforms first; the comments
    /// waiting on its inputs move to `pending[name]`.
    fn input_heads(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        line: usize,
        comps: &[(usize, &str, &Node, usize)],
    ) -> Vec<String> {
        let mut heads = Vec::new();
        let wanted = self.inputs.get(name).cloned().unwrap_or_default();
        for pattern in wanted {
            let matched = matched_inputs(&pattern, name, comps);
            if matched.is_empty()
                || matched
                    .iter()
                    .any(|m| self.kinds.get(m).is_none_or(|k| *k == 2))
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
                    if let Some((_, n, node, l)) = comps.iter().find(|c| c.1 == m) {
                        self.resolve_transform(ctx, n, node, *l, comps, &mut vec![name.to_owned()]);
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

    fn resolve_transform(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        node: &Node,
        line: usize,
        comps: &[(usize, &str, &Node, usize)],
        stack: &mut Vec<String>,
    ) {
        if self.heads.contains_key(name) || stack.iter().any(|s| s == name) {
            return;
        }
        stack.push(name.to_owned());
        let inputs = self.input_heads(ctx, name, line, comps);
        stack.pop();
        let mut keys = Keys::new(node, self.file.clone(), line);
        keys.take("inputs");
        let kind = keys
            .take("type")
            .and_then(|(n, _)| text(n))
            .unwrap_or_default();
        let place = keys.place(line);
        let result = match kind.as_str() {
            "remap" => super::vector_remap::remap(ctx, &mut keys),
            "filter" => super::vector_filter::filter(ctx, &mut keys),
            other => Err(vec![ctx.note(
                Severity::Warning,
                &place,
                &format!("[transforms.{name}] type = \"{other}\""),
                "has no skiff equivalent; events go on without it",
            )]),
        };
        let own = self
            .names
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_owned());
        let mut leading = self.pending.remove(name).unwrap_or_default();
        match result {
            Ok(specs) if !specs.is_empty() && !inputs.is_empty() => {
                let n = specs.len();
                let mut heads = inputs;
                for (i, mut spec) in specs.into_iter().enumerate() {
                    let cname = if i + 1 == n {
                        own.clone()
                    } else {
                        ctx.claim_name(&format!("{own}_{}", spec.name))
                    };
                    if i == 0 {
                        spec.leading.push(format!(
                            "From [transforms.{name}] {kind} ({}).",
                            ctx.place_text(&place)
                        ));
                    }
                    let mut c = Component::new(cname.clone(), spec.kind, heads);
                    leading.append(&mut spec.leading);
                    c.leading = std::mem::take(&mut leading);
                    c.items = spec.items;
                    if i + 1 == n {
                        report_rest(ctx, &mut keys, &mut c.items, COMMON_NOTES);
                    }
                    ctx.doc.transforms.push(c);
                    heads = vec![cname];
                }
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

/// The components an `inputs` entry of component `own` names: the entry itself, or, for a
/// pattern with `*`, every source and transform but `own` that it matches, in the order the
/// config declares them (so the output does not depend on a hash map's order).
fn matched_inputs(pattern: &str, own: &str, comps: &[(usize, &str, &Node, usize)]) -> Vec<String> {
    if !pattern.contains('*') {
        return vec![pattern.to_owned()];
    }
    let mut out: Vec<String> = Vec::new();
    for (section, n, _, _) in comps {
        if *section < 2 && *n != own && tag_matches(pattern, n) && !out.iter().any(|o| o == n) {
            out.push((*n).to_owned());
        }
    }
    out
}

/// A transform that reads its own output through its inputs: Vector refuses such a config,
/// and following it would never end.
fn find_cycle(
    inputs: &BTreeMap<String, Vec<String>>,
    comps: &[(usize, &str, &Node, usize)],
) -> Option<(Vec<String>, usize)> {
    fn visit(
        name: &str,
        inputs: &BTreeMap<String, Vec<String>>,
        comps: &[(usize, &str, &Node, usize)],
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
        for pattern in inputs.get(name).into_iter().flatten() {
            for m in matched_inputs(pattern, name, comps) {
                let is_transform = comps.iter().any(|c| c.0 == 1 && c.1 == m);
                if is_transform {
                    if let Some(cycle) = visit(&m, inputs, comps, path, done) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        done.push(name.to_owned());
        None
    }
    let mut done = Vec::new();
    for (section, name, _, line) in comps {
        if *section == 1 {
            if let Some(cycle) = visit(name, inputs, comps, &mut Vec::new(), &mut done) {
                return Some((cycle, *line));
            }
        }
    }
    None
}

/// A skiff field path from VRL path segments; `None` when a segment holds a dot or is empty.
pub fn field_path(segs: &[String]) -> Option<String> {
    if segs.is_empty() || segs.iter().any(|s| s.is_empty() || s.contains('.')) {
        return None;
    }
    Some(segs.join("."))
}

/// A literal as a skiff value (strings in skiff syntax).
pub fn lit_val(l: &Lit) -> Val {
    match l {
        Lit::Str(s) => Val::interp(vector_env(s)),
        Lit::Int(i) => Val::Int(*i),
        Lit::Float(f) => Val::Float(*f),
        Lit::Bool(b) => Val::Bool(*b),
    }
}

/// A duration given in seconds (or milliseconds with `ms = true`) as a skiff duration.
pub fn secs(node: &Node, ms: bool) -> Option<Val> {
    let n = match node.kind {
        Kind::Int(i) => i as f64,
        Kind::Float(f) => f,
        _ => return None,
    };
    Some(Val::text(&duration(if ms { n / 1000.0 } else { n })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_dots_in_a_segment_have_no_skiff_form() {
        assert_eq!(
            field_path(&["a".into(), "b".into()]).as_deref(),
            Some("a.b")
        );
        assert_eq!(field_path(&["a.b".into()]), None);
        assert_eq!(field_path(&[]), None);
    }

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
    fn what_nobody_reads_is_reported_in_declaration_order() {
        let mut text = String::from("[sources.a]\ntype = \"file\"\ninclude = [\"/a.log\"]\n");
        for i in 1..=6 {
            text.push_str(&format!("[sources.j{i}]\ntype = \"journald\"\n"));
        }
        text.push_str("[sinks.o]\ntype = \"console\"\ninputs = [\"a\"]\n");
        let toml = migrate(&text).unwrap().toml;
        let order: Vec<&str> = toml
            .lines()
            .filter_map(|l| l.strip_prefix("# skiff migrate: [sources."))
            .filter_map(|l| l.split(']').next())
            .filter(|n| n.starts_with('j'))
            .collect();
        assert_eq!(order, ["j1", "j2", "j3", "j4", "j5", "j6"]);
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
