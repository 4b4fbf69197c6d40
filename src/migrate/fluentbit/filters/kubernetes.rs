//! The `kubernetes` filter as skiff's `kubernetes` transform, which reads the pod's metadata
//! from the Downward API instead of the API server: the API server options become notes.

use crate::migrate::fluentbit::props::{what, Props};
use crate::migrate::fluentbit::section::Section;
use crate::migrate::ir::{Ctx, Severity, Spec};
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
const UNSUPPORTED: &[&str] = &[
    "merge_log",
    "merge_log_key",
    "keep_log",
    "k8s-logging.parser",
    "k8s-logging.exclude",
];

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
        let line = ctx.note(Severity::Warning, &v.place, &format!("{} {}", v.key, v.value), "has no skiff equivalent (add a parse_json transform on the field for Merge_Log); left out");
        spec.comment(line);
    }
    Ok(vec![spec])
}
