//! The `kubernetes` filter as skiff's `kubernetes` transform, which reads the pod's metadata
//! from the Downward API instead of the API server: the API server options become notes.
//! `Merge_Log On` becomes a `parse_json` of `log` after it (into `Merge_Log_Key` when set,
//! keeping `log` unless `Keep_Log Off`); a line that is not JSON goes on unchanged, as in
//! Fluent Bit, so the parse error mark is removed again.

use crate::migrate::fluentbit::props::{what, Props};
use crate::migrate::fluentbit::section::Section;
use crate::migrate::ir::{Ctx, Severity, Spec, Val};
use crate::migrate::translate::fb_bool;

/// Options for reaching the API server, which skiff does not call.
const API_SERVER: &[&str] = &[
    "kube_url",
    "kube_ca_file",
    "kube_ca_path",
    "kube_token_file",
    "kube_tag_prefix",
    "labels",
    "annotations",
    "buffer_size",
    "use_kubelet",
    "kubelet_port",
    "kube_meta_cache_ttl",
    "tls.verify",
    "tls.debug",
];

/// Options that change records, with no skiff equivalent when on.
const UNSUPPORTED: &[&str] = &["k8s-logging.parser", "k8s-logging.exclude"];

/// The `kubernetes` filter.
pub fn kubernetes(
    ctx: &mut Ctx,
    p: &mut Props,
    name: &str,
    _: &[&Section],
) -> Result<Vec<Spec>, Vec<String>> {
    let mut spec = Spec::new(name, "kubernetes");
    let line = ctx.note(
        Severity::Note,
        &p.section.place,
        &what(p.section),
        "skiff reads the pod's metadata from Downward API env vars (POD_NAME, POD_NAMESPACE, NODE_NAME, POD_IP, CONTAINER_NAME) and files (labels_file, annotations_file), not from the API server: add them to the pod spec",
    );
    spec.comment(line);
    for v in p.take_each(API_SERVER) {
        let line = ctx.note(
            Severity::Note,
            &v.place,
            &v.key,
            "not needed: skiff does not call the API server",
        );
        spec.comment(line);
    }
    for v in p.take_each(UNSUPPORTED) {
        if fb_bool(&v.value) == Some(false) {
            continue;
        }
        let line = ctx.note(
            Severity::Warning,
            &v.place,
            &format!("{} {}", v.key, v.value),
            "has no skiff equivalent; left out",
        );
        spec.comment(line);
    }
    let mut specs = vec![spec];
    specs.extend(merge_log(ctx, p));
    Ok(specs)
}

/// `Merge_Log`, `Merge_Log_Key`, `Keep_Log` as a `parse_json` of `log` and the removal of the
/// parse error mark (Fluent Bit leaves a line that is not JSON as it is).
fn merge_log(ctx: &mut Ctx, p: &mut Props) -> Vec<Spec> {
    let merge = p.take("merge_log");
    let key = p.take("merge_log_key");
    let keep = p.take("keep_log");
    let Some(m) = merge.filter(|m| fb_bool(&m.value) == Some(true)) else {
        for v in [key, keep].into_iter().flatten() {
            ctx.note(
                Severity::Note,
                &v.place,
                &v.key,
                "applies only with Merge_Log On; nothing to convert",
            );
        }
        return Vec::new();
    };
    let mut parse = Spec::new("merge_log", "parse_json");
    parse.leading.push(format!(
        "From Merge_Log On ({}): the JSON in `log` merged into the record.",
        ctx.place_text(&m.place)
    ));
    parse.set("field", Val::text("log"));
    if let Some(k) = key {
        parse.set("target", Val::text(&k.value));
    }
    // Keep_Log is On by default: the original `log` stays.
    let keep = keep.is_none_or(|v| fb_bool(&v.value) != Some(false));
    parse.set("keep_source", Val::Bool(keep));
    let mut unmark = Spec::new("merge_log_unmark", "remove_fields");
    unmark
        .leading
        .push("A line that is not JSON goes on unchanged, as in Fluent Bit.".into());
    unmark.set("fields", Val::List(vec![Val::text("_skiff_error")]));
    vec![parse, unmark]
}
