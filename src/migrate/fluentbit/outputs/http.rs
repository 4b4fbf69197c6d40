//! Fluent Bit's `http` output as an `http` sink: the URI from Host, Port, tls and URI; Format
//! as the encoding; Header, HTTP_User/HTTP_Passwd, compress, TLS and the JSON date as in the
//! `es` and `stdout` outputs; `[SERVICE] Flush` as the batch timeout.

use super::es::{auth, tls};
use super::stdout::date;
use crate::migrate::fluentbit::props::{bad_value, key_value, note_each, Props};
use crate::migrate::fluentbit::service::Service;
use crate::migrate::ir::{Ctx, Severity, Spec, Val};
use crate::migrate::translate::{fb_bool, fb_env};

/// Options skiff needs no setting for, with the reason.
const NOTES: &[(&[&str], &str)] = &[
    (&["retry_limit"], "skiff retries forever with backoff; the file is the buffer, so nothing is lost while it waits"),
    (&["workers"], "skiff sends up to max_in_flight requests at once (2 by default)"),
    (&["tls.debug"], "skiff's TLS errors appear in its logs"),
    (&["log_response_payload"], "skiff logs refused requests with the first bytes of the response"),
];

/// The `http` output.
pub fn http(ctx: &mut Ctx, p: &mut Props, name: &str, service: &Service) -> Spec {
    let mut spec = Spec::new(name, "http");
    spec.set("uri", Val::interp(uri(p)));
    let json = encoding(ctx, p, &mut spec);
    if json {
        date(ctx, p, &mut spec, true);
    }
    let headers: Vec<(String, Val)> = p
        .take_each(&["header"])
        .into_iter()
        .map(|h| {
            let (k, v) = key_value(h);
            (k, Val::interp(fb_env(&v, &[])))
        })
        .collect();
    if !headers.is_empty() {
        spec.set("headers", Val::Table(headers));
    }
    if let Some(v) = p.take("compress") {
        match v.value.to_ascii_lowercase().as_str() {
            "gzip" => spec.set("compression", Val::text("gzip")),
            _ => bad_value(ctx, v, &mut spec.items),
        }
    }
    auth(p, &mut spec);
    tls(ctx, p, &mut spec);
    if let Some((flush, place)) = &service.flush {
        spec.comment(format!("From [SERVICE] Flush ({}).", ctx.place_text(place)));
        spec.set(
            "batch",
            Val::Table(vec![("timeout".into(), Val::text(flush))]),
        );
    }
    for (keys, why) in NOTES {
        note_each(ctx, p, &mut spec.items, keys, why);
    }
    spec
}

/// `scheme://Host:Port/URI` (Fluent Bit's defaults: 127.0.0.1, port 80, `/`). A literal `%`
/// is doubled: in skiff's URI it starts a date specifier.
fn uri(p: &mut Props) -> String {
    let host = p
        .take("host")
        .map_or_else(|| "127.0.0.1".to_owned(), |v| fb_env(&v.value, &[]));
    let port = p
        .take("port")
        .map_or_else(|| "80".to_owned(), |v| fb_env(&v.value, &[]));
    let path = p
        .take("uri")
        .map_or_else(|| "/".to_owned(), |v| fb_env(&v.value, &[]));
    let tls = p
        .take("tls")
        .and_then(|v| fb_bool(&v.value))
        .unwrap_or(false);
    let scheme = if tls { "https" } else { "http" };
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    format!("{scheme}://{host}:{port}{}", path.replace('%', "%%"))
}

/// `Format`: `json` is a JSON array, `json_lines` / `json_stream` NDJSON. msgpack (Fluent
/// Bit's default) and gelf are refused with a warning: skiff sends NDJSON, which the
/// endpoint must then accept. Returns whether Fluent Bit sent JSON (so the date options apply).
fn encoding(ctx: &mut Ctx, p: &mut Props, spec: &mut Spec) -> bool {
    let format = p.take("format");
    let (encoding, json) = match format.map(|v| v.value.to_ascii_lowercase()).as_deref() {
        Some("json") => ("json_array", true),
        Some("json_lines" | "json_stream") => ("ndjson", true),
        other => {
            let (place, what) = match format {
                Some(v) => (v.place.clone(), format!("{} {}", v.key, v.value)),
                None => (p.section.place.clone(), "Format".to_owned()),
            };
            let why = match other {
                None => "not set: Fluent Bit's default sends msgpack, which skiff does not write; skiff sends NDJSON, which the endpoint must accept",
                Some(_) => "skiff sends NDJSON, a JSON array or text lines, not this format; NDJSON was written, which the endpoint must accept",
            };
            let line = ctx.note(Severity::Warning, &place, &what, why);
            spec.comment(line);
            ("ndjson", false)
        }
    };
    spec.set("encoding", Val::text(encoding));
    json
}
