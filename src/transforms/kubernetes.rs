//! `kubernetes`: adds the pod's own metadata, from the Downward API, to every event.
//!
//! A sidecar knows its pod through environment variables set with `fieldRef` (`POD_NAME`,
//! `POD_NAMESPACE`, `NODE_NAME`, `POD_IP`, `CONTAINER_NAME`; names overridable with `env`) and
//! through Downward API volume files for labels and annotations ([`super::downward`]). All of it
//! is read once, when the config is loaded (and again on each reload), into one object put under
//! `target` (default `kubernetes`): `pod_name`, `namespace`, `node_name`, `pod_ip`,
//! `container_name` (each omitted when its variable is unset or empty), `labels.{key}`,
//! `annotations.{key}` (keys such as `app.kubernetes.io/name` are single keys). Per event the
//! object is cloned (short texts are pooled statics: no copy, no reference counting) and merged
//! into what is already at `target`.
//!
//! A labels or annotations file that is malformed is a config error naming the file and line. A
//! missing one is a warning and the metadata is left out: the kubelet writes these files before
//! any container starts, so in a pod a missing file means a wrong path or a forgotten volume
//! mount, which the warning says at start; but a logging sidecar that refuses to start would hold
//! every log back, and `skiff validate` must work on a pod's config outside the pod (CI). The
//! warning is kept with the config ([`TransformConfig::warnings`]) and printed once logging is
//! set up: logged while the config is read, it would come before the logger and be lost.

use std::path::PathBuf;

use bytes::Bytes;
use serde::Deserialize;

use super::downward;
use super::{Transform, TransformConfig};
use crate::config::{parse_table, FieldError};
use crate::event::{Batch, FieldPath, Fields, Value};
use crate::intern;

/// Names of the environment variables to read, overriding the defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvNames {
    /// Variable holding the pod's name (default `POD_NAME`).
    #[serde(default)]
    pod_name: Option<String>,
    /// Variable holding the pod's namespace (default `POD_NAMESPACE`).
    #[serde(default)]
    namespace: Option<String>,
    /// Variable holding the node's name (default `NODE_NAME`).
    #[serde(default)]
    node_name: Option<String>,
    /// Variable holding the pod's IP (default `POD_IP`).
    #[serde(default)]
    pod_ip: Option<String>,
    /// Variable holding the container's name (default `CONTAINER_NAME`).
    #[serde(default)]
    container_name: Option<String>,
}

/// `[transforms.NAME] type = "kubernetes"`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKubernetesConfig {
    /// Where the metadata goes (default `kubernetes`).
    #[serde(default = "default_target")]
    target: String,
    /// Environment variable names, e.g. `{ pod_name = "MY_POD" }`.
    #[serde(default)]
    env: EnvNames,
    /// Downward API file of the pod's labels (`metadata.labels`).
    #[serde(default)]
    labels_file: Option<PathBuf>,
    /// Downward API file of the pod's annotations (`metadata.annotations`).
    #[serde(default)]
    annotations_file: Option<PathBuf>,
}

fn default_target() -> String {
    "kubernetes".into()
}

/// A validated `kubernetes` transform, with the metadata already read.
#[derive(Debug, Clone)]
pub struct KubernetesConfig {
    target: FieldPath,
    metadata: Fields,
    /// Downward API files that do not exist.
    warnings: Vec<FieldError>,
}

impl KubernetesConfig {
    /// Parses the table, reading the process environment and the Downward API files.
    pub fn parse(table: toml::Table) -> Result<KubernetesConfig, FieldError> {
        KubernetesConfig::parse_with_env(table, |name| std::env::var(name).ok())
    }

    /// Like [`KubernetesConfig::parse`], looking variables up with `env`.
    pub fn parse_with_env(
        table: toml::Table,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<KubernetesConfig, FieldError> {
        let raw: RawKubernetesConfig = parse_table(table)?;
        let target = FieldPath::parse(&raw.target).map_err(|e| FieldError::new(&["target"], e))?;
        let mut metadata = Fields::with_capacity(7);
        let mut warnings = Vec::new();
        let vars = [
            ("pod_name", &raw.env.pod_name, "POD_NAME"),
            ("namespace", &raw.env.namespace, "POD_NAMESPACE"),
            ("node_name", &raw.env.node_name, "NODE_NAME"),
            ("pod_ip", &raw.env.pod_ip, "POD_IP"),
            ("container_name", &raw.env.container_name, "CONTAINER_NAME"),
        ];
        for (field, name, default) in vars {
            let name = name.as_deref().unwrap_or(default);
            if let Some(v) = env(name).filter(|v| !v.is_empty()) {
                metadata.push_unchecked(
                    Bytes::from_static(field.as_bytes()),
                    Value::Str(intern::config_text(&v)),
                );
            }
        }
        for (field, path) in [
            ("labels", &raw.labels_file),
            ("annotations", &raw.annotations_file),
        ] {
            let Some(path) = path else { continue };
            let key = format!("{field}_file");
            if !path.exists() {
                // Outside a pod (skiff validate in CI) or before the volume is mounted: the
                // metadata is simply absent; a file that exists but is wrong is an error.
                warnings.push(FieldError::new(
                    &[&key],
                    format!(
                        "the Downward API file {} does not exist: the pod's {field} are not \
                         added (in a pod, mount a downwardAPI volume with metadata.{field} there)",
                        path.display()
                    ),
                ));
                continue;
            }
            let pairs = downward::read(path).map_err(|e| FieldError::new(&[&key], e))?;
            let mut obj = Fields::with_capacity(pairs.len());
            for (k, v) in pairs {
                obj.insert(intern::config_text(&k), Value::Str(intern::config_text(&v)));
            }
            metadata.push_unchecked(Bytes::from_static(field.as_bytes()), Value::Object(obj));
        }
        Ok(KubernetesConfig {
            target,
            metadata,
            warnings,
        })
    }
}

impl TransformConfig for KubernetesConfig {
    fn stateless(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "kubernetes"
    }

    fn build(&self, _name: &str) -> Box<dyn Transform> {
        Box::new(Kubernetes(self.clone()))
    }

    fn warnings(&self) -> Vec<FieldError> {
        self.warnings.clone()
    }
}

/// The running transform.
pub struct Kubernetes(KubernetesConfig);

impl Transform for Kubernetes {
    fn transform(&mut self, mut batch: Batch, out: &mut Vec<Batch>) {
        let KubernetesConfig {
            target, metadata, ..
        } = &self.0;
        if !metadata.is_empty() {
            for ev in batch.events_mut() {
                let value = match ev.fields.remove_path(target) {
                    Some(Value::Object(mut existing)) => {
                        for (k, v) in metadata.iter() {
                            existing.insert(k.clone(), v.clone());
                        }
                        existing
                    }
                    _ => metadata.clone(),
                };
                ev.fields.insert_path(target, Value::Object(value));
            }
        }
        out.push(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::testing::{json_lines, run_lines};

    fn env(name: &str) -> Option<String> {
        match name {
            "POD_NAME" => Some("web-7d9f".into()),
            "POD_NAMESPACE" => Some("shop".into()),
            "MY_NODE" => Some("node-1".into()),
            "POD_IP" => Some(String::new()),
            _ => None,
        }
    }

    fn parse(s: &str) -> Result<KubernetesConfig, FieldError> {
        KubernetesConfig::parse_with_env(toml::from_str(s).unwrap(), env)
    }

    #[test]
    fn golden_env_and_downward_files() {
        let dir = tempfile::tempdir().unwrap();
        let labels = dir.path().join("labels");
        std::fs::write(
            &labels,
            "app=\"shop\"\napp.kubernetes.io/name=\"front \\\"end\\\"\"\nteam=\"caf\u{e9} \\u2713\\n\"\n",
        )
        .unwrap();
        let annotations = dir.path().join("annotations");
        std::fs::write(
            &annotations,
            "kubernetes.io/config.seen=\"2026-11-26T04:00:00Z\"\n",
        )
        .unwrap();
        let cfg = parse(&format!(
            "env = {{ node_name = \"MY_NODE\" }}\nlabels_file = {:?}\nannotations_file = {:?}",
            labels, annotations
        ))
        .unwrap();
        let mut t = cfg.build("k8s_test");
        let out = run_lines(t.as_mut(), &["hello"]);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"<read_at>","message":"hello","file":"/var/log/app/app.log","kubernetes":{"pod_name":"web-7d9f","namespace":"shop","node_name":"node-1","labels":{"app":"shop","app.kubernetes.io/name":"front \"end\"","team":"café ✓\n"},"annotations":{"kubernetes.io/config.seen":"2026-11-26T04:00:00Z"}}}"#
            ]
        );
    }

    #[test]
    fn merges_into_an_existing_object() {
        let cfg = parse("target = \"meta.k8s\"").unwrap();
        let mut t = cfg.build("k8s_test");
        let mut add = crate::transforms::add_fields::AddFieldsConfig::parse(
            toml::from_str(
                "fields = { \"meta.k8s.cluster\" = \"eu-1\", \"meta.k8s.pod_name\" = \"old\" }",
            )
            .unwrap(),
        )
        .unwrap()
        .build("k8s_test_add");
        let first = run_lines(add.as_mut(), &["x"]);
        let mut out = Vec::new();
        for b in first {
            t.transform(b, &mut out);
        }
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"<read_at>","message":"x","file":"/var/log/app/app.log","meta":{"k8s":{"cluster":"eu-1","pod_name":"web-7d9f","namespace":"shop"}}}"#
            ]
        );
    }

    #[test]
    fn bad_files_are_config_errors_and_missing_ones_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let c = parse(&format!("labels_file = {missing:?}")).unwrap();
        assert!(c.metadata.get("labels").is_none());
        let warnings = c.warnings();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].path, vec!["labels_file"]);
        assert!(
            warnings[0].message.contains("does not exist"),
            "{}",
            warnings[0].message
        );
        let bad = dir.path().join("annotations");
        std::fs::write(&bad, "a=\"1\"\nb=2\n").unwrap();
        let e = parse(&format!("annotations_file = {bad:?}")).unwrap_err();
        assert_eq!(e.path, vec!["annotations_file"]);
        assert!(
            e.message
                .ends_with(":2: value `2` is not a double-quoted string"),
            "{}",
            e.message
        );
        assert_eq!(
            parse("env = { pod = \"X\" }").unwrap_err().path,
            vec!["env", "pod"]
        );
    }
}
