//! A Vector `remap` transform as a row of skiff transforms, one per run of statements (see
//! [`builder`]). The program is the `source` string or the `file` it names; malformed VRL is
//! refused before any conversion ([`check_programs`]), with its line in the user's file.

pub mod builder;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use builder::Builder;

use crate::migrate::error::MigrateError;
use crate::migrate::files::resolve;
use crate::migrate::ir::{Ctx, Item, Place, Severity, Spec};
use crate::migrate::tree::{Kind, Node};
use crate::migrate::vector::keys::Keys;
use crate::migrate::vector::values::text;
use crate::migrate::vector::vrl;

/// Options skiff needs no setting for, with the reason.
const NOTES: &[(&str, &str)] = &[
    ("drop_on_abort", "skiff programs have no abort"),
    ("metric_tag_values", "skiff handles logs only"),
];

/// Where a program's text comes from: the `source` string or the `file` it names.
pub fn program_text(keys_node: &Node, config_dir: &Path) -> Option<(String, usize)> {
    if let Some(n) = keys_node.get("source") {
        if let Kind::Str(s) = &n.kind {
            return Some((s.clone(), n.body_line));
        }
    }
    let file = keys_node.get("file").and_then(|n| match &n.kind {
        Kind::Str(s) => Some(s.clone()),
        _ => None,
    })?;
    std::fs::read_to_string(resolve(config_dir, &file))
        .ok()
        .map(|t| (t, 1))
}

/// Refuses malformed VRL before converting, with the line in the file.
pub fn check_programs(root: &Node, path: &Path) -> Result<(), MigrateError> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let Some(transforms) = root.get("transforms") else {
        return Ok(());
    };
    for e in transforms.entries() {
        let is_remap =
            matches!(e.value.get("type").map(|t| &t.kind), Some(Kind::Str(t)) if t == "remap");
        if !is_remap {
            continue;
        }
        if let Some((src, line)) = program_text(&e.value, &dir) {
            if let Err(err) = vrl::program(&src) {
                return Err(MigrateError::Malformed {
                    file: path.to_owned(),
                    line: line + err.line,
                    message: format!("[transforms.{}] VRL: {}", e.key, err.message),
                });
            }
        }
    }
    Ok(())
}

/// The program of a remap, as its keys give it: the text, the line of its first line, and the
/// file it is in.
fn program(keys: &mut Keys) -> Option<(String, usize, Arc<PathBuf>)> {
    let dir = keys
        .file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let source = keys.take("source");
    let file = keys.take("file");
    match (source, file) {
        (Some((n, _)), _) => match &n.kind {
            Kind::Str(s) => Some((s.clone(), n.body_line, keys.file.clone())),
            _ => None,
        },
        (None, Some((n, _))) => text(n).and_then(|f| {
            let path = resolve(&dir, &f);
            std::fs::read_to_string(&path)
                .ok()
                .map(|t| (t, 1, Arc::new(path)))
        }),
        (None, None) => None,
    }
}

/// Converts a remap; `Err` holds the comment lines when nothing of it could be kept.
pub fn remap(ctx: &mut Ctx, keys: &mut Keys) -> Result<Vec<Spec>, Vec<String>> {
    let place = keys.place(keys.line);
    let Some((src, body_line, file)) = program(keys) else {
        return Err(vec![ctx.note(Severity::Warning, &place, "remap", "has no program skiff can read (source, or a file next to the config); events go on without it")]);
    };
    let drop_on_error = keys
        .take("drop_on_error")
        .is_some_and(|(n, _)| n.kind == Kind::Bool(true));
    let timezone = keys.take("timezone").and_then(|(n, _)| text(n));
    let mut notes = Vec::new();
    for (key, why) in NOTES {
        if let Some((_, line)) = keys.take(key) {
            notes.push(ctx.note(Severity::Note, &keys.place(line), key, why));
        }
    }
    let ops = match vrl::program(&src) {
        Ok(ops) => ops,
        // Malformed programs were refused before conversion; be safe anyway.
        Err(e) => {
            return Err(vec![ctx.note(
                Severity::Warning,
                &place,
                "remap",
                &e.message,
            )])
        }
    };
    let at = |line: usize| Place {
        file: file.clone(),
        line: body_line + line,
    };
    let mut b = Builder {
        specs: Vec::new(),
        pending: notes,
        on_error_drop: drop_on_error,
        timezone,
    };
    for op in ops {
        b.op(ctx, op, &at);
    }
    if !b.pending.is_empty() {
        match b.specs.last_mut() {
            Some(last) => last.items.extend(b.pending.drain(..).map(Item::Comment)),
            None => return Err(b.pending),
        }
    }
    Ok(b.specs)
}
