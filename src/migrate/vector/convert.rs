//! Turns a Vector config (TOML, YAML or JSON, read into a [`Node`] tree) into skiff
//! components: the globals, then the sources, the transforms (each after what it reads) and
//! the sinks, in the order the config declares them.

use std::path::PathBuf;
use std::sync::Arc;

use super::globals::globals;
use super::graph::{Comp, Graph, Table};
use super::sinks::sink;
use super::sources::source;
use super::transforms::remap::check_programs;
use super::values::text;
use crate::migrate::error::MigrateError;
use crate::migrate::ir::Ctx;
use crate::migrate::tree::{Kind, Node};

/// Converts the document read from `file` into `ctx`.
pub fn convert(root: &Node, file: Arc<PathBuf>, ctx: &mut Ctx) -> Result<(), MigrateError> {
    check_programs(root, &file)?;
    globals(root, &file, ctx);
    let comps = components(root, &file)?;
    let mut g = Graph::new(ctx, comps, file)?;
    let comps = g.comps.clone();
    for c in comps.iter().filter(|c| c.table == Table::Sources) {
        source(ctx, &mut g, *c);
    }
    for c in comps.iter().filter(|c| c.table == Table::Transforms) {
        g.resolve_transform(ctx, *c, &mut Vec::new());
    }
    for c in comps.iter().filter(|c| c.table == Table::Sinks) {
        let inputs = g.input_heads(ctx, c.name, c.line);
        sink(ctx, &mut g, *c, inputs);
    }
    // What nobody reads, in the config's order (not a hash map's).
    for c in &comps {
        if let Some(left) = g.pending.remove(c.name) {
            ctx.doc.footer.extend(left);
        }
    }
    let mut rest: Vec<(String, Vec<String>)> = g.pending.into_iter().collect();
    rest.sort();
    ctx.doc.footer.extend(rest.into_iter().flat_map(|(_, c)| c));
    Ok(())
}

/// The components of the three tables, in order; each must be a table with a `type`.
fn components<'a>(root: &'a Node, file: &Arc<PathBuf>) -> Result<Vec<Comp<'a>>, MigrateError> {
    let tables = [
        ("sources", Table::Sources),
        ("transforms", Table::Transforms),
        ("sinks", Table::Sinks),
    ];
    let mut comps = Vec::new();
    for (key, table) in tables {
        let Some(node) = root.get(key) else { continue };
        for e in node.entries() {
            if !matches!(e.value.kind, Kind::Map(_)) || e.value.get("type").and_then(text).is_none()
            {
                return Err(MigrateError::Malformed {
                    file: (**file).clone(),
                    line: e.line,
                    message: format!("component `{}` needs a table with a `type` string", e.key),
                });
            }
            comps.push(Comp {
                table,
                name: &e.key,
                node: &e.value,
                line: e.line,
            });
        }
    }
    Ok(comps)
}

#[cfg(test)]
mod tests {
    use crate::migrate::error::MigrateError;

    fn migrate(text: &str) -> Result<crate::migrate::Migration, MigrateError> {
        crate::migrate::migrate_text(std::path::Path::new("vector.toml"), text, None)
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
}
