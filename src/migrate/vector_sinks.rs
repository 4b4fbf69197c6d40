//! Vector sinks: `elasticsearch`, `console` and `blackhole` become their skiff namesakes;
//! other sinks are left out with a warning.

use super::ir::{Component, Ctx, Item, Severity, Val};
use super::tree::{Kind, Node};
use super::vector::{report_rest, secs, text, texts, Graph, Keys, COMMON_NOTES};

/// Converts sink `name`, reading from the skiff components `inputs`.
pub fn sink(
    ctx: &mut Ctx,
    g: &mut Graph,
    (name, node, line): (&str, &Node, usize),
    inputs: Vec<String>,
) {
    let mut keys = Keys::new(node, g.file.clone(), line);
    keys.take("inputs");
    let kind = keys
        .take("type")
        .and_then(|(n, _)| text(n))
        .unwrap_or_default();
    let place = keys.place(line);
    let own = g
        .names
        .get(name)
        .cloned()
        .unwrap_or_else(|| name.to_owned());
    let leading = g.pending.remove(name).unwrap_or_default();
    let skiff_kind = match kind.as_str() {
        "elasticsearch" => "elasticsearch",
        "console" => "console",
        "blackhole" => "blackhole",
        other => {
            let c = ctx.note(
                Severity::Warning,
                &place,
                &format!("[sinks.{name}] type = \"{other}\""),
                "skiff ships to Elasticsearch and stdout only; left out",
            );
            ctx.doc.footer.extend(leading);
            ctx.doc.footer.push(c);
            return;
        }
    };
    if inputs.is_empty() {
        let c = ctx.note(
            Severity::Warning,
            &place,
            &format!("[sinks.{name}]"),
            "none of its inputs could be converted; left out",
        );
        ctx.doc.footer.extend(leading);
        ctx.doc.footer.push(c);
        return;
    }
    let mut c = Component::new(own, skiff_kind, inputs);
    c.leading = leading;
    c.leading.push(format!(
        "From [sinks.{name}] {kind} ({}).",
        ctx.place_text(&place)
    ));
    let mut items = Vec::new();
    match skiff_kind {
        "elasticsearch" => elasticsearch(ctx, &mut keys, &mut items),
        "console" => console(ctx, &mut keys, &mut items),
        _ => {}
    }
    let healthcheck = keys
        .take("healthcheck.enabled")
        .or_else(|| keys.take("healthcheck"));
    if let Some((n, _)) = healthcheck {
        if let Kind::Bool(b) = n.kind {
            items.push(Item::Key("healthcheck".into(), Val::Bool(b)));
        }
    }
    let mut notes = COMMON_NOTES.to_vec();
    notes.extend_from_slice(&[
        (
            "print_interval_secs",
            "skiff's metrics count what the blackhole drops",
        ),
        ("rate", "skiff's blackhole takes what comes"),
        (
            "encoding.timestamp_format",
            "skiff writes timestamps in RFC 3339",
        ),
        (
            "api_version",
            "skiff talks to Elasticsearch 7 and 8 and never sends a mapping type",
        ),
        ("doc_type", "skiff never sends a mapping type (_type)"),
        (
            "suppress_type_name",
            "skiff never sends a mapping type (_type)",
        ),
        (
            "data_stream.auto_routing",
            "skiff routes to the configured data stream",
        ),
        (
            "data_stream.sync_fields",
            "skiff routes to the configured data stream",
        ),
        (
            "request.retry_attempts",
            "skiff retries forever with backoff: the file is the buffer",
        ),
        (
            "request.rate_limit_num",
            "skiff sends as fast as Elasticsearch accepts (max_in_flight)",
        ),
        (
            "request.rate_limit_duration_secs",
            "skiff sends as fast as Elasticsearch accepts (max_in_flight)",
        ),
        (
            "request.adaptive_concurrency",
            "skiff uses a fixed max_in_flight",
        ),
        (
            "distribution",
            "skiff sends to the endpoints in turn and retries on the next",
        ),
        ("healthcheck", "skiff checks the cluster once at start"),
    ]);
    report_rest(ctx, &mut keys, &mut items, &notes);
    c.items.extend(items);
    ctx.doc.sinks.push(c);
}

fn console(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    match keys
        .take("encoding.codec")
        .or_else(|| keys.take("encoding"))
    {
        Some((n, line)) => match text(n).as_deref() {
            Some(codec @ ("json" | "text")) => {
                items.push(Item::Key("encoding".into(), Val::text(codec)))
            }
            Some("native_json") => items.push(Item::Key("encoding".into(), Val::text("json"))),
            other => {
                let c = ctx.note(
                    Severity::Warning,
                    &keys.place(line),
                    &format!("encoding.codec = {}", other.unwrap_or("?")),
                    "skiff writes json or text; json was kept",
                );
                items.push(Item::Comment(c));
                items.push(Item::Key("encoding".into(), Val::text("json")));
            }
        },
        None => items.push(Item::Key("encoding".into(), Val::text("json"))),
    }
    if let Some((n, _)) = keys.take("target") {
        if let Some(t) = text(n) {
            items.push(Item::Key("target".into(), Val::interp(t)));
        }
    }
}

fn elasticsearch(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    let set = |items: &mut Vec<Item>, k: &str, v: Val| items.push(Item::Key(k.into(), v));
    let endpoints = keys
        .take("endpoints")
        .or_else(|| keys.take("endpoint"))
        .and_then(|(n, _)| texts(n));
    match endpoints {
        Some(e) => set(
            items,
            "endpoints",
            Val::List(e.into_iter().map(Val::interp).collect()),
        ),
        None => {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(keys.line),
                "endpoints",
                "not set: Vector's sink needs one; fill in endpoints before use",
            );
            items.push(Item::Comment(c));
            set(
                items,
                "endpoints",
                Val::List(vec![Val::text("http://localhost:9200")]),
            );
        }
    }
    let mode = keys.take("mode").and_then(|(n, _)| text(n));
    let index = keys
        .take("bulk.index")
        .or_else(|| keys.take("index"))
        .and_then(|(n, _)| text(n));
    if mode.as_deref() != Some("data_stream") {
        set(
            items,
            "index",
            Val::interp(index.unwrap_or_else(|| "vector-%Y.%m.%d".into())),
        );
    }
    if let Some(m) = mode {
        set(items, "mode", Val::interp(m));
    }
    let ds: Vec<(String, Val)> = ["type", "dataset", "namespace"]
        .iter()
        .filter_map(|k| {
            keys.take(&format!("data_stream.{k}"))
                .and_then(|(n, _)| text(n))
                .map(|v| (k.to_string(), Val::interp(v)))
        })
        .collect();
    if !ds.is_empty() {
        set(items, "data_stream", Val::Table(ds));
    }
    if let Some((n, line)) = keys.take("bulk.action") {
        match text(n).as_deref() {
            Some(a @ ("create" | "index")) => set(items, "action", Val::text(a)),
            other => {
                let c = ctx.note(
                    Severity::Warning,
                    &keys.place(line),
                    &format!("bulk.action = {}", other.unwrap_or("?")),
                    "skiff writes with create or index only; left out",
                );
                items.push(Item::Comment(c));
            }
        }
    }
    for (key, to) in [("pipeline", "pipeline"), ("id_key", "id_field")] {
        if let Some(v) = keys.take(key).and_then(|(n, _)| text(n)) {
            set(items, to, Val::interp(v));
        }
    }
    if let Some((n, line)) = keys.take("compression") {
        match text(n).as_deref() {
            Some(c @ ("gzip" | "none")) => set(items, "compression", Val::text(c)),
            other => {
                let c = ctx.note(
                    Severity::Warning,
                    &keys.place(line),
                    &format!("compression = {}", other.unwrap_or("?")),
                    "skiff compresses with gzip or not at all; left out",
                );
                items.push(Item::Comment(c));
            }
        }
    }
    if let Some(v) = keys
        .take("request.timeout_secs")
        .and_then(|(n, _)| secs(n, false))
    {
        set(items, "request_timeout", v);
    }
    if let Some((n, _)) = keys.take("request.concurrency") {
        if let Kind::Int(i) = n.kind {
            set(items, "max_in_flight", Val::Int(i));
        }
    }
    let headers: Vec<(String, Val)> = keys
        .take_prefix("request.headers")
        .into_iter()
        .filter_map(|(k, n, _)| text(n).map(|v| (k, Val::interp(v))))
        .collect();
    if !headers.is_empty() {
        set(items, "headers", Val::Table(headers));
    }
    auth(ctx, keys, items);
    let mut tls = Vec::new();
    for (key, to) in [
        ("tls.ca_file", "ca_file"),
        ("tls.crt_file", "crt_file"),
        ("tls.key_file", "key_file"),
    ] {
        if let Some(v) = keys.take(key).and_then(|(n, _)| text(n)) {
            tls.push((to.to_owned(), Val::interp(v)));
        }
    }
    if let Some((n, _)) = keys.take("tls.verify_certificate") {
        if let Kind::Bool(b) = n.kind {
            tls.push(("verify".into(), Val::Bool(b)));
        }
    }
    if !tls.is_empty() {
        set(items, "tls", Val::Table(tls));
    }
    let mut batch = Vec::new();
    for (key, to) in [
        ("batch.max_events", "max_events"),
        ("batch.max_bytes", "max_bytes"),
    ] {
        if let Some((n, _)) = keys.take(key) {
            if let Kind::Int(i) = n.kind {
                batch.push((to.to_owned(), Val::Int(i)));
            }
        }
    }
    if let Some(v) = keys
        .take("batch.timeout_secs")
        .and_then(|(n, _)| secs(n, false))
    {
        batch.push(("timeout".into(), v));
    }
    if !batch.is_empty() {
        set(items, "batch", Val::Table(batch));
    }
    let mut retry = Vec::new();
    for (key, to) in [
        ("request.retry_initial_backoff_secs", "initial_backoff"),
        ("request.retry_max_duration_secs", "max_backoff"),
    ] {
        if let Some(v) = keys.take(key).and_then(|(n, _)| secs(n, false)) {
            retry.push((to.to_owned(), v));
        }
    }
    if !retry.is_empty() {
        set(items, "retry", Val::Table(retry));
    }
}

fn auth(ctx: &mut Ctx, keys: &mut Keys, items: &mut Vec<Item>) {
    let strategy = keys.take("auth.strategy");
    let user = keys.take("auth.user").and_then(|(n, _)| text(n));
    let password = keys.take("auth.password").and_then(|(n, _)| text(n));
    match strategy {
        Some((n, line)) if text(n).as_deref() != Some("basic") => {
            let c = ctx.note(
                Severity::Warning,
                &keys.place(line),
                &format!("auth.strategy = {}", text(n).unwrap_or_default()),
                "skiff authenticates with basic auth or an API key; left out",
            );
            items.push(Item::Comment(c));
        }
        _ => {
            let mut t = Vec::new();
            if let Some(u) = user {
                t.push(("user".to_owned(), Val::interp(u)));
            }
            if let Some(p) = password {
                t.push(("password".to_owned(), Val::interp(p)));
            }
            if !t.is_empty() {
                items.push(Item::Key("auth".into(), Val::Table(t)));
            }
        }
    }
}
