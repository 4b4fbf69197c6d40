//! A Vector `remap` transform as a row of skiff transforms, one per run of statements:
//! a parse statement becomes `parse_json` / `parse_regex` / `parse_logfmt` (a
//! `parse_timestamp!` of a field it produced folds into its `timestamp` option), consecutive
//! assignments one `add_fields`, renames one `rename_fields`, deletions one `remove_fields`.
//! Statements outside the subset are commented out in place, with a warning.

use std::path::Path;

use super::ir::{Ctx, Item, Place, Severity, Spec, Val};
use super::tree::{Kind, Node};
use super::vector::{field_path, lit_val, text, Keys};
use super::vrl::{self, Lit, Op, ParseKind, SetValue};

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
    std::fs::read_to_string(super::fluentbit::resolve(config_dir, &file))
        .ok()
        .map(|t| (t, 1))
}

/// Converts a remap; `Err` holds the comment lines when nothing of it could be kept.
pub fn remap(ctx: &mut Ctx, keys: &mut Keys) -> Result<Vec<Spec>, Vec<String>> {
    let dir = keys
        .file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let source = keys.take("source");
    let file = keys.take("file");
    let place = keys.place(keys.line);
    let program = match (source, file) {
        (Some((n, _)), _) => match &n.kind {
            Kind::Str(s) => Some((s.clone(), n.body_line, keys.file.clone())),
            _ => None,
        },
        (None, Some((n, _))) => text(n).and_then(|f| {
            let path = super::fluentbit::resolve(&dir, &f);
            std::fs::read_to_string(&path)
                .ok()
                .map(|t| (t, 1, std::sync::Arc::new(path)))
        }),
        (None, None) => None,
    };
    let Some((src, body_line, file)) = program else {
        return Err(vec![ctx.note(Severity::Warning, &place, "remap", "has no program skiff can read (source, or a file next to the config); events go on without it")]);
    };
    let drop_on_error = keys
        .take("drop_on_error")
        .is_some_and(|(n, _)| n.kind == Kind::Bool(true));
    let timezone = keys.take("timezone").and_then(|(n, _)| text(n));
    let mut notes = Vec::new();
    for (key, why) in [
        ("drop_on_abort", "skiff programs have no abort"),
        ("metric_tag_values", "skiff handles logs only"),
    ] {
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

struct Builder {
    specs: Vec<Spec>,
    /// Comments for the next spec.
    pending: Vec<String>,
    on_error_drop: bool,
    timezone: Option<String>,
}

impl Builder {
    fn push(&mut self, mut spec: Spec) {
        spec.leading.append(&mut self.pending);
        self.specs.push(spec);
    }

    /// The last spec if it is of `kind` and nothing was commented out since.
    fn last_of(&mut self, kind: &str) -> Option<&mut Spec> {
        if !self.pending.is_empty() {
            return None;
        }
        self.specs.last_mut().filter(|s| s.kind == kind)
    }

    fn unsupported(&mut self, ctx: &mut Ctx, place: &Place, text: &str, reason: &str) {
        let first = text.lines().next().unwrap_or("");
        let c = ctx.note(
            Severity::Warning,
            place,
            &format!("VRL `{}`", first.trim()),
            &format!("{reason}; left out"),
        );
        self.pending.push(c);
        self.pending.extend(text.lines().map(|l| format!("  {l}")));
    }

    fn op(&mut self, ctx: &mut Ctx, op: Op, at: &dyn Fn(usize) -> Place) {
        match op {
            Op::Unsupported {
                text, line, reason, ..
            } => self.unsupported(ctx, &at(line), &text, &reason),
            Op::Parse {
                kind,
                field,
                target,
                merge,
                line,
            } => self.parse(ctx, kind, &field, &target, merge, &at(line)),
            Op::Timestamp {
                target,
                field,
                format,
                timezone,
                line,
            } => {
                let place = at(line);
                let (Some(f), Some(t)) = (field_path(&field), field_path(&target)) else {
                    return self.unsupported(
                        ctx,
                        &place,
                        "parse_timestamp!",
                        "a field path skiff cannot write",
                    );
                };
                if f != t {
                    let text = format!(".{t} = parse_timestamp!(.{f}, ...)");
                    return self.unsupported(
                        ctx,
                        &place,
                        &text,
                        "skiff parses a timestamp in place only",
                    );
                }
                let mut ts = vec![
                    ("field".to_owned(), Val::text(&f)),
                    (
                        "format".to_owned(),
                        Val::interp(super::translate::vector_env(&format)),
                    ),
                ];
                if let Some(tz) = timezone.or_else(|| self.timezone.clone()) {
                    ts.push(("timezone".into(), Val::interp(tz)));
                }
                let note = (f != "timestamp").then(|| {
                    ctx.note(
                        Severity::Note,
                        &place,
                        &format!("parse_timestamp!(.{f})"),
                        "skiff also sets the event's timestamp from this field",
                    )
                });
                // A parser that merged into the root just before, with no timestamp yet,
                // takes the timestamp as its option.
                let fold = self.pending.is_empty()
                    && self.specs.last().is_some_and(|s| {
                        matches!(s.kind, "parse_json" | "parse_regex" | "parse_logfmt")
                        && !s.items.iter().any(
                            |i| matches!(i, Item::Key(k, _) if k == "timestamp" || k == "target"),
                        )
                    });
                match self.specs.last_mut() {
                    Some(last) if fold => {
                        last.items.extend(note.map(Item::Comment));
                        last.set("timestamp", Val::Table(ts));
                    }
                    _ => {
                        let mut s = Spec::new("parse_timestamp", "parse_timestamp");
                        s.items.extend(note.map(Item::Comment));
                        for (k, v) in ts {
                            s.set(&k, v);
                        }
                        if self.on_error_drop {
                            s.set("on_error", Val::text("drop"));
                        }
                        self.push(s);
                    }
                }
            }
            Op::Set {
                target,
                value,
                line,
            } => {
                let place = at(line);
                let Some(t) = field_path(&target) else {
                    return self.unsupported(
                        ctx,
                        &place,
                        "assignment",
                        "a field path skiff cannot write",
                    );
                };
                let v = match value {
                    SetValue::Lit(Lit::Str(s)) if s.contains("{{") => {
                        return self.unsupported(
                            ctx,
                            &place,
                            &format!(".{t} = \"{s}\""),
                            "skiff reads `{{ }}` in add_fields values as a template",
                        );
                    }
                    SetValue::Lit(l) => lit_val(&l),
                    SetValue::Env(name) => Val::interp(format!("${{{name}}}")),
                    SetValue::Field(p) => match field_path(&p) {
                        Some(p) => Val::text(&format!("{{{{ {p} }}}}")),
                        None => {
                            return self.unsupported(
                                ctx,
                                &place,
                                "assignment",
                                "a field path skiff cannot read",
                            )
                        }
                    },
                };
                self.add_to("add_fields", ctx, (t, Some(v)));
            }
            Op::Rename { from, to, line } => match (field_path(&from), field_path(&to)) {
                (Some(f), Some(t)) => self.add_to("rename_fields", ctx, (f, Some(Val::text(&t)))),
                _ => self.unsupported(ctx, &at(line), "rename", "a field path skiff cannot write"),
            },
            Op::Del { field, line } => match field_path(&field) {
                Some(f) => self.add_to("remove_fields", ctx, (f, None)),
                None => self.unsupported(ctx, &at(line), "del", "a field path skiff cannot write"),
            },
        }
    }

    /// Adds a field to the last spec of `kind`, or starts one.
    fn add_to(&mut self, kind: &'static str, _ctx: &mut Ctx, (key, value): (String, Option<Val>)) {
        if self.last_of(kind).is_none() {
            let mut s = Spec::new(kind, kind);
            s.set(
                "fields",
                if value.is_some() {
                    Val::Table(Vec::new())
                } else {
                    Val::List(Vec::new())
                },
            );
            self.push(s);
        }
        let Some(spec) = self.specs.last_mut() else {
            return;
        };
        for item in &mut spec.items {
            match (item, &value) {
                (Item::Key(k, Val::Table(t)), Some(v)) if k == "fields" => {
                    // A later assignment to the same field wins, as in VRL.
                    t.retain(|(tk, _)| *tk != key);
                    t.push((key.clone(), v.clone()));
                }
                (Item::Key(k, Val::List(l)), None) if k == "fields" => l.push(Val::text(&key)),
                _ => {}
            }
        }
    }

    fn parse(
        &mut self,
        ctx: &mut Ctx,
        kind: ParseKind,
        field: &[String],
        target: &[String],
        merge: bool,
        place: &Place,
    ) {
        let Some(f) = field_path(field) else {
            return self.unsupported(ctx, place, "parse", "a field path skiff cannot read");
        };
        let (name, mut spec) = match &kind {
            ParseKind::Json => ("parse_json", Spec::new("parse_json", "parse_json")),
            ParseKind::Regex(_) => ("parse_regex", Spec::new("parse_regex", "parse_regex")),
            ParseKind::Logfmt => ("parse_logfmt", Spec::new("parse_logfmt", "parse_logfmt")),
        };
        if target.is_empty() && !merge {
            let c = ctx.note(
                Severity::Note,
                place,
                &format!(". = {name}!(.{f})"),
                "VRL replaces the whole event; skiff merges the parsed fields into it and removes the source field, so the file source's `file` field stays (set file_key = \"\" on the source to drop it)",
            );
            spec.comment(c);
        }
        if f != "message" {
            spec.set("field", Val::text(&f));
        }
        if let ParseKind::Regex(re) = &kind {
            spec.set("pattern", Val::interp(super::translate::vector_env(re)));
        }
        if target.is_empty() {
            if merge {
                spec.set("keep_source", Val::Bool(true));
            }
        } else {
            let Some(t) = field_path(target) else {
                return self.unsupported(ctx, place, "parse", "a field path skiff cannot write");
            };
            spec.set("target", Val::text(&t));
            if t != f {
                spec.set("keep_source", Val::Bool(true));
            }
        }
        if self.on_error_drop {
            spec.set("on_error", Val::text("drop"));
        }
        self.push(spec);
    }
}
