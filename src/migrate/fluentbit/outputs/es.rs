//! Fluent Bit's `es` output as an `elasticsearch` sink: the endpoint from Host, Port, tls and
//! Path; the index from Index or the Logstash_* options; auth, TLS, pipeline, id; `[SERVICE]
//! Flush` as the batch timeout.

use crate::migrate::fluentbit::props::{bad_value, note_each, record_accessor, sval, Props};
use crate::migrate::fluentbit::service::Service;
use crate::migrate::ir::{Ctx, Severity, Spec, Val};
use crate::migrate::translate::{fb_bool, fb_env};

/// Options whose value is the sink key's value as it is.
const SAME_VALUE: &[(&str, &str)] = &[
    ("pipeline", "pipeline"),
    ("id_key", "id_field"),
    ("time_key", "timestamp_key"),
];

/// TLS files, as keys of the sink's `tls` table.
const TLS_FILES: &[(&str, &str)] = &[
    ("tls.ca_file", "ca_file"),
    ("tls.crt_file", "crt_file"),
    ("tls.key_file", "key_file"),
];

/// Options skiff needs no setting for, with the reason.
const NOTES: &[(&[&str], &str)] = &[
    (&["suppress_type_name", "type"], "skiff never sends a mapping type (_type); nothing to set"),
    (&["generate_id"], "skiff gives every document a deterministic _id from its file and offset by default (id = \"deterministic\"), so a batch sent twice is indexed once"),
    (&["retry_limit"], "skiff retries forever with backoff; the file is the buffer, so nothing is lost while it waits"),
    (&["buffer_size"], "skiff reads Elasticsearch's whole response"),
    (&["trace_output", "trace_error"], "skiff logs rejected items and writes them to its dead-letter file"),
    (&["time_key_format", "time_key_nanos"], "skiff writes the timestamp in RFC 3339"),
    (&["tls.debug"], "skiff's TLS errors appear in its logs"),
];

/// The `es` output.
pub fn elasticsearch(ctx: &mut Ctx, p: &mut Props, name: &str, service: &Service) -> Spec {
    let mut spec = Spec::new(name, "elasticsearch");
    spec.set("endpoints", Val::List(vec![Val::interp(endpoint(p))]));
    index(ctx, p, &mut spec);
    if let Some(v) = p.take("write_operation") {
        match v.value.to_ascii_lowercase().as_str() {
            op @ ("create" | "index") => spec.set("action", Val::text(op)),
            _ => {
                let line = ctx.note(
                    Severity::Warning,
                    &v.place,
                    &format!("{} {}", v.key, v.value),
                    "skiff writes with `create` or `index` only; left out",
                );
                spec.comment(line);
            }
        }
    }
    for (key, to) in SAME_VALUE {
        if let Some(v) = p.take(key) {
            spec.set(to, sval(v));
        }
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

/// `scheme://Host:Port/Path` from Host, Port, tls and Path.
fn endpoint(p: &mut Props) -> String {
    let host = p
        .take("host")
        .map_or_else(|| "127.0.0.1".to_owned(), |v| fb_env(&v.value, &[]));
    let port = p
        .take("port")
        .map_or_else(|| "9200".to_owned(), |v| fb_env(&v.value, &[]));
    let path = p
        .take("path")
        .map_or_else(String::new, |v| fb_env(&v.value, &[]));
    let tls = p
        .take("tls")
        .and_then(|v| fb_bool(&v.value))
        .unwrap_or(false);
    let scheme = if tls { "https" } else { "http" };
    let path = if path.is_empty() || path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    format!("{scheme}://{host}:{port}{path}")
}

/// `HTTP_User` and `HTTP_Passwd` as the `auth` table.
pub fn auth(p: &mut Props, spec: &mut Spec) {
    let mut auth = Vec::new();
    if let Some(v) = p.take("http_user") {
        auth.push(("user".to_owned(), sval(v)));
    }
    if let Some(v) = p.take("http_passwd") {
        auth.push(("password".to_owned(), sval(v)));
    }
    if !auth.is_empty() {
        spec.set("auth", Val::Table(auth));
    }
}

/// `tls.verify` and the TLS files as the `tls` table.
pub fn tls(ctx: &mut Ctx, p: &mut Props, spec: &mut Spec) {
    let mut tls_table = Vec::new();
    if let Some(v) = p.take("tls.verify") {
        match fb_bool(&v.value) {
            Some(b) => tls_table.push(("verify".to_owned(), Val::Bool(b))),
            None => bad_value(ctx, v, &mut spec.items),
        }
    }
    for (key, to) in TLS_FILES {
        if let Some(v) = p.take(key) {
            tls_table.push(((*to).to_owned(), sval(v)));
        }
    }
    if !tls_table.is_empty() {
        spec.set("tls", Val::Table(tls_table));
    }
}

/// `Index`, or the index the `Logstash_*` options make, as skiff's `index` pattern.
fn index(ctx: &mut Ctx, p: &mut Props, spec: &mut Spec) {
    let logstash = p
        .take("logstash_format")
        .and_then(|v| fb_bool(&v.value))
        .unwrap_or(false);
    let index = p.take("index");
    let prefix = p.take("logstash_prefix");
    let separator = p.take("logstash_prefix_separator");
    let date = p.take("logstash_dateformat");
    let prefix_key = p.take("logstash_prefix_key");
    if !logstash {
        // skiff's index is a strftime pattern: a literal `%` is written `%%`.
        let name = index.map_or_else(|| "fluent-bit".to_owned(), |v| fb_env(&v.value, &[]));
        spec.set("index", Val::interp(name.replace('%', "%%")));
        for v in [prefix, separator, date, prefix_key].into_iter().flatten() {
            let line = ctx.note(
                Severity::Note,
                &v.place,
                &v.key,
                "ignored by Fluent Bit without Logstash_Format On; left out",
            );
            spec.comment(line);
        }
        return;
    }
    let prefix = prefix.map_or_else(|| "logstash".to_owned(), |v| fb_env(&v.value, &[]));
    let mut name = match prefix_key {
        Some(k) => {
            let path = record_accessor(&k.value);
            // Fluent Bit uses Logstash_Prefix for a record without the field; the text after
            // `??` is literal, so its `%` stays single.
            format!("{{{{ {path} ?? {prefix} }}}}")
        }
        None => prefix.replace('%', "%%"),
    };
    name.push_str(&separator.map_or_else(|| "-".to_owned(), |v| fb_env(&v.value, &[])));
    name.push_str(&date.map_or_else(|| "%Y.%m.%d".to_owned(), |v| v.value.clone()));
    spec.set("index", Val::interp(name));
    if let Some(v) = index {
        let line = ctx.note(
            Severity::Note,
            &v.place,
            &v.key,
            "ignored by Fluent Bit with Logstash_Format On; left out",
        );
        spec.comment(line);
    }
}
