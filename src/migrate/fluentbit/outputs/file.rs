//! Fluent Bit's `file` output as a `file` sink: Path and File make the path (File defaults to
//! the tag: the output's `Match` when it has no wildcard); `Format plain` (the record as JSON)
//! is NDJSON; the other formats have no skiff equivalent and are warnings.

use crate::migrate::fluentbit::props::{note_each, Props};
use crate::migrate::fluentbit::service::Service;
use crate::migrate::ir::{Ctx, Severity, Spec, Val};
use crate::migrate::translate::fb_env;

/// The `file` output.
pub fn file(ctx: &mut Ctx, p: &mut Props, name: &str, _: &Service) -> Spec {
    let mut spec = Spec::new(name, "file");
    let dir = p.take("path").map(|v| fb_env(&v.value, &[]));
    let file = match p.take("file") {
        Some(v) => fb_env(&v.value, &[]),
        None => {
            let tag = p
                .section
                .get("match")
                .map(|m| m.value.clone())
                .filter(|m| !m.contains('*') && !m.is_empty());
            match tag {
                Some(tag) => tag,
                None => {
                    let line = ctx.note(
                        Severity::Warning,
                        &p.section.place,
                        "File",
                        "not set: Fluent Bit names the file after each record's tag, which skiff does not have; written to fluent-bit.log",
                    );
                    spec.comment(line);
                    "fluent-bit.log".to_owned()
                }
            }
        }
    };
    let path = match dir {
        Some(d) => format!("{}/{file}", d.trim_end_matches('/')),
        None => file,
    };
    // In skiff's path a `%` starts a date specifier.
    spec.set("path", Val::interp(path.replace('%', "%%")));
    let format = p.take("format");
    match format.map(|v| v.value.to_ascii_lowercase()).as_deref() {
        Some("plain") => {
            let line = ctx.note(
                Severity::Note,
                &format.map_or_else(|| p.section.place.clone(), |v| v.place.clone()),
                "Format plain",
                "the record as a JSON line; skiff adds the event time under `timestamp`",
            );
            spec.comment(line);
        }
        other => {
            let (place, what) = match format {
                Some(v) => (v.place.clone(), format!("{} {}", v.key, v.value)),
                None => (p.section.place.clone(), "Format".to_owned()),
            };
            let why = match other {
                None => "not set: Fluent Bit writes `tag: [time, {record}]` lines; skiff writes the record as a JSON line (with its time under `timestamp`)",
                Some(_) => "skiff writes JSON lines or the message only, not this format; JSON lines were written",
            };
            let line = ctx.note(Severity::Warning, &place, &what, why);
            spec.comment(line);
            for v in p.take_each(&["delimiter", "label_delimiter", "template"]) {
                let line = ctx.note(
                    Severity::Warning,
                    &v.place,
                    &format!("{} {}", v.key, v.value),
                    "belongs to a format skiff does not write; left out",
                );
                spec.comment(line);
            }
        }
    }
    spec.set("encoding", Val::text("ndjson"));
    note_each(
        ctx,
        p,
        &mut spec.items,
        &["mkdir"],
        "skiff always creates missing folders",
    );
    note_each(
        ctx,
        p,
        &mut spec.items,
        &["retry_limit", "workers"],
        "skiff writes on a thread of its own and retries until the write succeeds",
    );
    spec
}
