//! Fluent Bit `[OUTPUT]`s: `es` becomes an `elasticsearch` sink (endpoint from Host, Port, tls
//! and Path; index from Index or the Logstash_* options; auth, TLS, pipeline, id; `[SERVICE]
//! Flush` as the batch timeout), `stdout` a JSON `console` sink, `null` a `blackhole`. Other
//! outputs are left out with a warning.

use super::fluentbit::Section;
use super::fluentbit_convert::Service;
use super::fluentbit_plugins::{left_out, note_each, record_accessor};
use super::fluentbit_props::{bad_value, report_rest, sval, what, Props};
use super::ir::{Ctx, Severity, Spec, Val};
use super::translate::{fb_bool, fb_env};

/// Converts an `[OUTPUT]`; `Err` holds the comment lines when it has no equivalent.
pub fn output(ctx: &mut Ctx, s: &Section, service: &Service) -> Result<Spec, Vec<String>> {
    let plugin = s.name().to_ascii_lowercase();
    let mut p = Props::new(s);
    p.take("name");
    p.take("match");
    p.take("match_regex");
    let name = p
        .take("alias")
        .map_or_else(|| plugin.clone(), |a| a.value.clone());
    let mut spec = match plugin.as_str() {
        "es" | "elasticsearch" => elasticsearch(ctx, &mut p, &name, service),
        "stdout" => stdout(ctx, &mut p, &name),
        "null" => Spec::new(name, "blackhole"),
        _ => {
            return Err(left_out(
                ctx,
                s,
                "skiff ships to Elasticsearch and stdout only; this output was left out",
            ))
        }
    };
    spec.leading
        .push(format!("From {} ({}).", what(s), ctx.place_text(&s.place)));
    report_rest(ctx, &mut p, &mut spec.items);
    Ok(spec)
}

fn stdout(ctx: &mut Ctx, p: &mut Props, name: &str) -> Spec {
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

fn elasticsearch(ctx: &mut Ctx, p: &mut Props, name: &str, service: &Service) -> Spec {
    let mut spec = Spec::new(name, "elasticsearch");
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
    spec.set(
        "endpoints",
        Val::List(vec![Val::interp(format!("{scheme}://{host}:{port}{path}"))]),
    );
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
    if let Some(v) = p.take("pipeline") {
        spec.set("pipeline", sval(v));
    }
    if let Some(v) = p.take("id_key") {
        spec.set("id_field", sval(v));
    }
    if let Some(v) = p.take("time_key") {
        spec.set("timestamp_key", sval(v));
    }
    if let Some(v) = p.take("compress") {
        match v.value.to_ascii_lowercase().as_str() {
            "gzip" => spec.set("compression", Val::text("gzip")),
            _ => bad_value(ctx, v, &mut spec.items),
        }
    }
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
    let mut tls_table = Vec::new();
    if let Some(v) = p.take("tls.verify") {
        match fb_bool(&v.value) {
            Some(b) => tls_table.push(("verify".to_owned(), Val::Bool(b))),
            None => bad_value(ctx, v, &mut spec.items),
        }
    }
    for (key, to) in [
        ("tls.ca_file", "ca_file"),
        ("tls.crt_file", "crt_file"),
        ("tls.key_file", "key_file"),
    ] {
        if let Some(v) = p.take(key) {
            tls_table.push((to.to_owned(), sval(v)));
        }
    }
    if !tls_table.is_empty() {
        spec.set("tls", Val::Table(tls_table));
    }
    if let Some((flush, place)) = &service.flush {
        spec.comment(format!("From [SERVICE] Flush ({}).", ctx.place_text(place)));
        spec.set(
            "batch",
            Val::Table(vec![("timeout".into(), Val::text(flush))]),
        );
    }
    let notes: &[(&[&str], &str)] = &[
        (&["suppress_type_name", "type"], "skiff never sends a mapping type (_type); nothing to set"),
        (&["generate_id"], "skiff gives every document a deterministic _id from its file and offset by default (id = \"deterministic\"), so a batch sent twice is indexed once"),
        (&["retry_limit"], "skiff retries forever with backoff; the file is the buffer, so nothing is lost while it waits"),
        (&["buffer_size"], "skiff reads Elasticsearch's whole response"),
        (&["trace_output", "trace_error"], "skiff logs rejected items and writes them to its dead-letter file"),
        (&["time_key_format", "time_key_nanos"], "skiff writes the timestamp in RFC 3339"),
        (&["tls.debug"], "skiff's TLS errors appear in its logs"),
    ];
    for (keys, why) in notes {
        note_each(ctx, p, &mut spec.items, keys, why);
    }
    spec
}

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
    let mut name = match prefix_key {
        Some(k) => {
            let path = record_accessor(&k.value);
            let line = ctx.note(
                Severity::Note,
                &k.place,
                &k.key,
                "written as a {{ field }} template; an event without the field gets the template's empty value, not Logstash_Prefix",
            );
            spec.comment(line);
            format!("{{{{ {path} }}}}")
        }
        None => prefix.map_or_else(
            || "logstash".to_owned(),
            |v| fb_env(&v.value, &[]).replace('%', "%%"),
        ),
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
