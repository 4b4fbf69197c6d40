//! `skiff migrate` on Kubernetes manifests: the agent's ConfigMap and workload in, the same
//! manifest with skiff in place out; the result passes `ci/check-manifests.sh` (schemas, probes,
//! mounts, env, security, `skiff validate` of the embedded config), and what migrate does not
//! own is left as it was.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use saphyr::{LoadableYamlNode, YamlOwned};
use support::skiff::{bin, skiff};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/manifests")
        .join(name)
}

/// Migrates `name` into a folder of its own (with a kustomization listing it); returns the
/// folder, migrate's output and the converted manifest's path.
fn migrate(name: &str, args: &[&str]) -> (tempfile::TempDir, support::skiff::Output, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(name);
    let input = fixture(name);
    let mut all = vec![
        "migrate",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let o = skiff(&all, &[]);
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {name}\n"),
    )
    .unwrap();
    (dir, o, out)
}

/// `ci/check-manifests.sh` on a folder: its exit status and output.
fn check(dir: &Path) -> (i32, String) {
    let empty = tempfile::tempdir().unwrap();
    let o = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/check-manifests.sh"))
        .arg("--manifests")
        .arg(dir)
        .arg("--skiff-bin")
        .arg(bin())
        .arg("--config-dir")
        .arg(empty.path())
        .output()
        .expect("run ci/check-manifests.sh");
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn docs(path: &Path) -> Vec<YamlOwned> {
    YamlOwned::load_from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn container<'a>(doc: &'a YamlOwned, spec: &[&str], list: &str, name: &str) -> &'a YamlOwned {
    let mut node = doc;
    for k in spec {
        node = node.as_mapping_get(k).unwrap();
    }
    node.as_mapping_get(list)
        .and_then(YamlOwned::as_vec)
        .unwrap()
        .iter()
        .find(|c| c.as_mapping_get("name").and_then(YamlOwned::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no container {name}"))
}

fn str_at<'a>(node: &'a YamlOwned, path: &[&str]) -> Option<&'a str> {
    let mut node = node;
    for k in path {
        node = node.as_mapping_get(k)?;
    }
    node.as_str()
}

#[test]
fn the_seeds_sidecars_migrate_into_manifests_that_pass_the_checks() {
    for name in ["seed-fluentbit-sidecar.yaml", "seed-log-adapter.yaml"] {
        let (dir, o, out) = migrate(name, &["--restricted"]);
        assert_eq!(o.code, 0, "{name}: {}", o.stderr);
        let (code, report) = check(dir.path());
        assert_eq!(code, 0, "{name}:\n{report}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("ghcr.io/skiff-logs/skiff:"), "{text}");
        assert!(!text.contains("fluent/fluent-bit") && !text.contains("timberio/vector"));
    }
}

#[test]
fn own_fixtures_migrate_into_manifests_that_pass_the_checks() {
    for name in [
        "statefulset-fluent-bit-yaml.yaml",
        "deployment-vector-native-sidecar.yaml",
    ] {
        let (dir, o, _) = migrate(name, &[]);
        assert_eq!(o.code, 0, "{name}: {}", o.stderr);
        let (code, report) = check(dir.path());
        assert_eq!(code, 0, "{name}:\n{report}");
    }
}

/// What migrate does not own is left as it was: other containers, other objects, the
/// workload's own fields; the agent's container keeps its name, mounts and resources.
#[test]
fn everything_but_the_agent_is_unchanged() {
    let name = "statefulset-fluent-bit-yaml.yaml";
    let (_dir, o, out) = migrate(name, &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let (before, after) = (docs(&fixture(name)), docs(&out));
    assert_eq!(before.len(), after.len());
    let spec = ["spec", "template", "spec"];
    assert_eq!(
        container(&before[1], &spec, "containers", "orders"),
        container(&after[1], &spec, "containers", "orders")
    );
    for key in [
        "serviceName",
        "replicas",
        "selector",
        "volumeClaimTemplates",
    ] {
        assert_eq!(
            before[1]
                .as_mapping_get("spec")
                .unwrap()
                .as_mapping_get(key),
            after[1].as_mapping_get("spec").unwrap().as_mapping_get(key),
            "{key}"
        );
    }
    let skiff_c = container(&after[1], &spec, "containers", "fluent-bit");
    assert_eq!(
        skiff_c.as_mapping_get("resources"),
        container(&before[1], &spec, "containers", "fluent-bit").as_mapping_get("resources")
    );
    assert_eq!(
        str_at(skiff_c, &["livenessProbe", "httpGet", "path"]),
        Some("/health")
    );
    assert_eq!(
        str_at(skiff_c, &["readinessProbe", "httpGet", "path"]),
        Some("/ready")
    );
    // The Downward API variable the config reads.
    let env = skiff_c
        .as_mapping_get("env")
        .and_then(YamlOwned::as_vec)
        .unwrap();
    assert!(env.iter().any(|e| str_at(e, &["name"]) == Some("POD_NAME")
        && str_at(e, &["valueFrom", "fieldRef", "fieldPath"]) == Some("metadata.name")));
    // The ConfigMap holds skiff.toml only, under its new name, and the volume follows it.
    assert_eq!(
        str_at(&after[0], &["metadata", "name"]),
        Some("orders-skiff")
    );
    assert!(str_at(&after[0], &["data", "skiff.toml"]).is_some());
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("name: orders-skiff"));
    // The offsets database is pointed out for the cut-over.
    assert!(
        o.stderr
            .contains("skiff import-offsets --fluent-bit-db /data/logs/.flb/tail.db"),
        "{}",
        o.stderr
    );
}

/// The seed's Deployment reads `${ELASTICSEARCH_HOST}` without setting it: a warning, exit 2,
/// and the check fails there (and on the exporter's prometheus.io/port), as it should.
#[test]
fn a_variable_the_workload_never_set_is_a_warning() {
    let (dir, o, _) = migrate("seed-deployment-with-sidecars.yaml", &["--restricted"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("warning:") && o.stderr.contains("${ELASTICSEARCH_HOST}"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("prometheus.io/port 9113 left as it is"),
        "{}",
        o.stderr
    );
    let (code, report) = check(dir.path());
    assert_ne!(code, 0);
    let fails: Vec<&str> = report.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        fails
            .iter()
            .all(|l| l.contains("Deployment/myapp") || l.contains("[skiff]")),
        "{report}"
    );
}

/// An agent whose config is not in the manifest: exit 1, saying what to add.
#[test]
fn an_agent_without_its_config_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pod.yaml");
    std::fs::write(
        &p,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: shipper\n      image: fluent/fluent-bit:latest\n",
    )
    .unwrap();
    let o = skiff(&["migrate", p.to_str().unwrap()], &[]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("its config is not in this manifest"),
        "{}",
        o.stderr
    );
}
