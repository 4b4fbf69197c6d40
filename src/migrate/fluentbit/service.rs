//! Fluent Bit's `[SERVICE]` section as skiff's globals: `Log_Level` as `[log] level`, `Grace`
//! as `shutdown_timeout`, the HTTP server as `[api]`, and notes for what skiff does by design.
//! `Flush` is kept in [`Service`] for the outputs (the batch timeout of Elasticsearch sinks).

use super::props::{bad_value, note_each, report_rest, Props};
use super::section::Section;
use crate::migrate::ir::{Ctx, Item, Place, Severity, Val};
use crate::migrate::translate::{fb_bool, fb_duration, fb_env};

/// Settings from `[SERVICE]` that other conversions need.
#[derive(Debug, Default)]
pub struct Service {
    /// `Flush`, as a skiff duration (the batch timeout of Elasticsearch sinks), and its place.
    pub flush: Option<(String, Place)>,
}

const HEALTH: &str = "skiff's /health answers from the pipeline's state";
const STORAGE: &str = "skiff keeps no buffer of its own: the log file is the buffer";

/// Service options skiff needs no setting for, with the reason.
const NOTES: &[(&str, &str)] = &[
    ("daemon", "skiff always runs in the foreground"),
    ("health_check", HEALTH),
    ("hc_errors_count", HEALTH),
    ("hc_retry_failure_count", HEALTH),
    ("hc_period", HEALTH),
    ("storage.path", STORAGE),
    ("storage.sync", STORAGE),
    ("storage.checksum", STORAGE),
    ("storage.backlog.mem_limit", STORAGE),
    ("storage.max_chunks_up", STORAGE),
    (
        "storage.metrics",
        "skiff's metrics are always on at /metrics",
    ),
    (
        "hot_reload",
        "skiff applies a changed config file by itself",
    ),
];

/// Converts a `[SERVICE]` section into `ctx`'s globals, and `Flush` into `service`.
pub fn convert_service(s: &Section, ctx: &mut Ctx, service: &mut Service) {
    let mut p = Props::new(s);
    let mut comments = Vec::new();
    if let Some(v) = p.take("flush") {
        match fb_duration(&v.value) {
            Some(d) => service.flush = Some((d, v.place.clone())),
            None => bad_value(ctx, v, &mut comments),
        }
    }
    if let Some(v) = p.take("log_level") {
        let level = match v.value.to_ascii_lowercase().as_str() {
            "warning" => "warn".to_owned(),
            other => other.to_owned(),
        };
        ctx.doc
            .log
            .push(Item::Key("level".into(), Val::text(&level)));
    }
    if let Some(v) = p.take("grace") {
        match fb_duration(&v.value) {
            Some(d) => ctx
                .doc
                .globals
                .push(Item::Key("shutdown_timeout".into(), Val::text(&d))),
            None => bad_value(ctx, v, &mut comments),
        }
    }
    api(ctx, &mut p);
    // The parsers files were read with the config; their parsers are converted where used.
    p.take_each(&["parsers_file"]);
    let mut notes = Vec::new();
    for (key, why) in NOTES {
        note_each(ctx, &mut p, &mut notes, &[*key], why);
    }
    ctx.doc.globals.extend(notes);
    report_rest(ctx, &mut p, &mut comments);
    ctx.doc.globals.extend(comments);
}

/// `HTTP_Server`, `HTTP_Listen` and `HTTP_Port` as `[api]`.
fn api(ctx: &mut Ctx, p: &mut Props) {
    let server = p.take("http_server");
    let listen = p.take("http_listen");
    let port = p.take("http_port");
    let Some(on) = server.and_then(|v| fb_bool(&v.value)) else {
        return;
    };
    ctx.doc.api.push(Item::Key("enabled".into(), Val::Bool(on)));
    if !on {
        return;
    }
    let host = listen.map_or("0.0.0.0".into(), |v| fb_env(&v.value, &[]));
    let port = port.map_or("2020".into(), |v| fb_env(&v.value, &[]));
    ctx.doc.api.push(Item::Key(
        "address".into(),
        Val::interp(format!("{host}:{port}")),
    ));
    let place = server.map_or_else(|| p.section.place.clone(), |v| v.place.clone());
    let line = ctx.note(
        Severity::Note,
        &place,
        "HTTP_Server",
        "skiff serves /health, /ready and /metrics (Prometheus) instead of /api/v1/...",
    );
    ctx.doc.api.push(Item::Comment(line));
}
