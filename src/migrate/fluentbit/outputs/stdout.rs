//! Fluent Bit's `stdout` output as a `console` sink writing JSON lines.

use crate::migrate::fluentbit::props::{sval, Props};
use crate::migrate::fluentbit::service::Service;
use crate::migrate::ir::{Ctx, Severity, Spec, Val};
use crate::migrate::translate::fb_bool;

/// The `stdout` output.
pub fn stdout(ctx: &mut Ctx, p: &mut Props, name: &str, _: &Service) -> Spec {
    let mut spec = Spec::new(name, "console");
    let json = match p.take("format") {
        Some(v)
            if matches!(
                v.value.to_ascii_lowercase().as_str(),
                "json" | "json_lines" | "json_stream"
            ) =>
        {
            true
        }
        Some(v) => {
            let line = ctx.note(
                Severity::Note,
                &v.place,
                &format!("Format {}", v.value),
                "skiff prints one JSON object per line",
            );
            spec.comment(line);
            false
        }
        None => {
            let line = ctx.note(
                Severity::Note,
                &p.section.place,
                "Format",
                "Fluent Bit's default prints msgpack dumps; skiff prints one JSON object per line",
            );
            spec.comment(line);
            false
        }
    };
    spec.set("encoding", Val::text("json"));
    date(ctx, p, &mut spec, json);
    spec
}

/// `json_date_key` and `json_date_format`: Fluent Bit writes the time under `date` (by
/// default) as epoch seconds (`double`); skiff writes it under `timestamp_key` as RFC 3339.
/// The key converts; a numeric format does not, which is a warning (a reader of the output
/// sees text where it had a number).
pub fn date(ctx: &mut Ctx, p: &mut Props, spec: &mut Spec, json: bool) {
    let key = p.take("json_date_key");
    let format = p.take("json_date_format");
    match key {
        Some(v) if fb_bool(&v.value) == Some(false) => {
            let line = ctx.note(
                Severity::Warning,
                &v.place,
                &v.key,
                "skiff always writes the timestamp; left out",
            );
            spec.comment(line);
            return;
        }
        Some(v) => spec.set("timestamp_key", sval(v)),
        None if json => spec.set("timestamp_key", Val::text("date")),
        None => {}
    }
    if !json {
        return;
    }
    let iso = format.is_some_and(|f| f.value.eq_ignore_ascii_case("iso8601"));
    let (severity, what, place) = match format {
        Some(f) => (
            if iso {
                Severity::Note
            } else {
                Severity::Warning
            },
            format!("{} {}", f.key, f.value),
            f.place.clone(),
        ),
        None => (
            Severity::Warning,
            "json_date_format".to_owned(),
            p.section.place.clone(),
        ),
    };
    let why = if iso {
        "skiff writes RFC 3339 with milliseconds, Fluent Bit's iso8601 with microseconds"
    } else {
        "Fluent Bit writes the time as a number (epoch seconds, `double` by default); skiff writes RFC 3339 text: a reader expecting a number must change"
    };
    let line = ctx.note(severity, &place, &what, why);
    spec.comment(line);
}
