//! Fluent Bit's `stdout` output as a `console` sink writing JSON lines.

use crate::migrate::fluentbit::props::{note_each, sval, Props};
use crate::migrate::fluentbit::service::Service;
use crate::migrate::ir::{Ctx, Severity, Spec, Val};
use crate::migrate::translate::fb_bool;

/// The `stdout` output.
pub fn stdout(ctx: &mut Ctx, p: &mut Props, name: &str, _: &Service) -> Spec {
    let mut spec = Spec::new(name, "console");
    match p.take("format") {
        Some(v)
            if matches!(
                v.value.to_ascii_lowercase().as_str(),
                "json" | "json_lines" | "json_stream"
            ) => {}
        Some(v) => {
            let line = ctx.note(
                Severity::Note,
                &v.place,
                &format!("Format {}", v.value),
                "skiff prints one JSON object per line",
            );
            spec.comment(line);
        }
        None => {
            let line = ctx.note(
                Severity::Note,
                &p.section.place,
                "Format",
                "Fluent Bit's default prints msgpack dumps; skiff prints one JSON object per line",
            );
            spec.comment(line);
        }
    }
    spec.set("encoding", Val::text("json"));
    if let Some(v) = p.take("json_date_key") {
        if fb_bool(&v.value) == Some(false) {
            let line = ctx.note(
                Severity::Warning,
                &v.place,
                &v.key,
                "skiff always writes the timestamp; left out",
            );
            spec.comment(line);
        } else {
            spec.set("timestamp_key", sval(v));
        }
    }
    note_each(
        ctx,
        p,
        &mut spec.items,
        &["json_date_format"],
        "skiff writes timestamps in RFC 3339",
    );
    spec
}
