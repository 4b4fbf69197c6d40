//! The statements of a remap program, one by one, as a row of skiff transforms: a parse
//! statement becomes `parse_json` / `parse_regex` / `parse_logfmt` (a `parse_timestamp!` of a
//! field it produced folds into its `timestamp` option), consecutive assignments one
//! `add_fields`, renames one `rename_fields`, deletions one `remove_fields`. A statement
//! outside the subset is commented out in place, with a warning.

use crate::migrate::ir::{Ctx, Item, Place, Severity, Spec, Val};
use crate::migrate::translate::vector_env;
use crate::migrate::vector::values::{field_path, lit_val};
use crate::migrate::vector::vrl::{Lit, Op, ParseKind, SetValue};

/// The transforms made so far, and the comments waiting for the next one.
pub struct Builder {
    pub specs: Vec<Spec>,
    /// Comments for the next spec.
    pub pending: Vec<String>,
    /// `drop_on_error`: parsers drop the events they cannot parse.
    pub on_error_drop: bool,
    /// The remap's `timezone`, for timestamps that name none.
    pub timezone: Option<String>,
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

    /// Converts one statement; `at` gives the place of a line of the program.
    pub fn op(&mut self, ctx: &mut Ctx, op: Op, at: &dyn Fn(usize) -> Place) {
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
            } => self.timestamp(ctx, &target, &field, &format, timezone, &at(line)),
            Op::Set {
                target,
                value,
                line,
            } => self.set(ctx, &target, value, &at(line)),
            Op::Rename { from, to, line } => match (field_path(&from), field_path(&to)) {
                (Some(f), Some(t)) => self.add_to("rename_fields", (f, Some(Val::text(&t)))),
                _ => self.unsupported(ctx, &at(line), "rename", "a field path skiff cannot write"),
            },
            Op::Del { field, line } => match field_path(&field) {
                Some(f) => self.add_to("remove_fields", (f, None)),
                None => self.unsupported(ctx, &at(line), "del", "a field path skiff cannot write"),
            },
        }
    }

    /// `.t = parse_timestamp!(.t, "fmt")`: the `timestamp` option of the parser just before,
    /// or a `parse_timestamp` transform.
    fn timestamp(
        &mut self,
        ctx: &mut Ctx,
        target: &[String],
        field: &[String],
        format: &str,
        timezone: Option<String>,
        place: &Place,
    ) {
        let (Some(f), Some(t)) = (field_path(field), field_path(target)) else {
            return self.unsupported(
                ctx,
                place,
                "parse_timestamp!",
                "a field path skiff cannot write",
            );
        };
        if f != t {
            let text = format!(".{t} = parse_timestamp!(.{f}, ...)");
            return self.unsupported(ctx, place, &text, "skiff parses a timestamp in place only");
        }
        let mut ts = vec![
            ("field".to_owned(), Val::text(&f)),
            ("format".to_owned(), Val::interp(vector_env(format))),
        ];
        if let Some(tz) = timezone.or_else(|| self.timezone.clone()) {
            ts.push(("timezone".into(), Val::interp(tz)));
        }
        let note = (f != "timestamp").then(|| {
            ctx.note(
                Severity::Note,
                place,
                &format!("parse_timestamp!(.{f})"),
                "skiff also sets the event's timestamp from this field",
            )
        });
        let fold = self.takes_timestamp();
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

    /// Whether the last spec is a parser that merged into the root, with nothing commented
    /// out since and no timestamp yet: it takes a timestamp parse as its option.
    fn takes_timestamp(&self) -> bool {
        self.pending.is_empty()
            && self.specs.last().is_some_and(|s| {
                matches!(s.kind, "parse_json" | "parse_regex" | "parse_logfmt")
                    && !s
                        .items
                        .iter()
                        .any(|i| matches!(i, Item::Key(k, _) if k == "timestamp" || k == "target"))
            })
    }

    /// `.t = literal`, `get_env_var!("X")` or `.other`, as a field of an `add_fields`.
    fn set(&mut self, ctx: &mut Ctx, target: &[String], value: SetValue, place: &Place) {
        let Some(t) = field_path(target) else {
            return self.unsupported(ctx, place, "assignment", "a field path skiff cannot write");
        };
        let v = match value {
            SetValue::Lit(Lit::Str(s)) if s.contains("{{") => {
                return self.unsupported(
                    ctx,
                    place,
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
                        place,
                        "assignment",
                        "a field path skiff cannot read",
                    )
                }
            },
        };
        self.add_to("add_fields", (t, Some(v)));
    }

    /// Adds a field to the last spec of `kind`, or starts one.
    fn add_to(&mut self, kind: &'static str, (key, value): (String, Option<Val>)) {
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
            spec.set("pattern", Val::interp(vector_env(re)));
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
