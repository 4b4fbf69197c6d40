//! Manifests in, manifests out: `skiff migrate` on a Kubernetes multi-document YAML.
//!
//! Real users hold their agent in a ConfigMap (`fluent-bit.conf` and `parsers.conf`, or
//! `vector.toml`/`.yaml`) and a workload (Pod, Deployment, DaemonSet, StatefulSet, Job...) that
//! runs it. This module converts the config inside the ConfigMap with the ordinary config
//! migration (its files are written to a temporary folder so that includes resolve), and puts
//! skiff in place of the agent's container:
//!
//! - the ConfigMap holds `skiff.toml` (with `data_dir` and the API added when the converted
//!   config lacks them), renamed and referenced under its new name;
//! - the container keeps its name, its log mounts, its env and resources, and gets skiff's image
//!   and args, probes on `/health` and `/ready`, a restricted securityContext, a `skiff-data`
//!   emptyDir for checkpoints, and the Downward API variables the config reads;
//! - everything else is left as it was. With `restricted`, the rest of the pod is also brought
//!   to Pod Security "restricted" (each change a note), since the manifest checks demand it.
//!
//! Comments and the key order of untouched objects are not kept by the YAML round trip; values
//! are.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, MappingOwned, ScalarOwned, Yaml, YamlEmitter, YamlOwned};
use thiserror::Error;

use super::{MigrateError, Note, Severity, Tool};

/// skiff's image, tagged with this build's version.
pub const IMAGE: &str = concat!("ghcr.io/skiff-logs/skiff:", env!("CARGO_PKG_VERSION"));
/// Where the config is mounted and the data directory lives in the container.
const CONFIG_DIR: &str = "/etc/skiff";
const DATA_DIR: &str = "/var/lib/skiff";
const API_PORT: u16 = 8081;
/// skiff's user in its image.
const UID: i64 = 65532;
/// The Downward API variables a config may read, and the field each comes from.
const DOWNWARD: &[(&str, &str)] = &[
    ("POD_NAME", "metadata.name"),
    ("POD_NAMESPACE", "metadata.namespace"),
    ("NODE_NAME", "spec.nodeName"),
    ("POD_IP", "status.podIP"),
];
const WORKLOADS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
];

/// A manifest that cannot be converted.
#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("{}: not YAML: {message}", file.display())]
    Yaml { file: PathBuf, message: String },
    #[error("{}: no Fluent Bit or Vector container found (an image with fluent-bit or vector in its name)", .0.display())]
    NoAgent(PathBuf),
    #[error("{}: {containers}: its config is not in this manifest; put the ConfigMap that holds it in the same file (`cat configmap.yaml workload.yaml`, documents separated by `---`)", file.display())]
    NoConfig { file: PathBuf, containers: String },
    #[error("{}: {what}: {error}", file.display())]
    Config {
        file: PathBuf,
        what: String,
        error: MigrateError,
    },
    #[error("cannot write a temporary copy of the config: {0}")]
    Temp(std::io::Error),
}

/// What the conversion of a manifest gives.
#[derive(Debug)]
pub struct ManifestMigration {
    pub yaml: String,
    pub notes: Vec<Note>,
    /// An embedded config whose outputs were all left out: it would read logs and ship them
    /// nowhere (see [`super::Migration::ships_nowhere`]).
    pub ships_nowhere: bool,
}

impl ManifestMigration {
    /// Whether everything was converted (no warning).
    pub fn complete(&self) -> bool {
        !self.ships_nowhere && self.notes.iter().all(|n| n.severity == Severity::Note)
    }
}

/// Whether `text` is a Kubernetes manifest (a document with `apiVersion` and `kind`).
pub fn is_manifest(text: &str) -> bool {
    YamlOwned::load_from_str(text).is_ok_and(|docs| {
        docs.iter()
            .any(|d| d.contains_mapping_key("apiVersion") && d.contains_mapping_key("kind"))
    })
}

/// The agent config a ConfigMap holds: its tool, its main file name, the converted TOML.
struct Converted {
    cm_name: String,
    new_name: String,
    toml: String,
}

/// Converts the manifest `text` read from `path`.
pub fn migrate_manifest(
    path: &Path,
    text: &str,
    from: Option<Tool>,
    restricted: bool,
) -> Result<ManifestMigration, ManifestError> {
    let mut docs = YamlOwned::load_from_str(text).map_err(|e| ManifestError::Yaml {
        file: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut notes = Vec::new();
    let mut ships_nowhere = false;
    let mut note = |severity, message: String| {
        notes.push(Note {
            severity,
            file: path.to_path_buf(),
            line: 0,
            message,
        })
    };
    // 1. ConfigMaps that hold an agent's config.
    let mut converted: Vec<Converted> = Vec::new();
    for doc in docs.iter_mut() {
        if kind(doc) != Some("ConfigMap") {
            continue;
        }
        let name = meta_name(doc).unwrap_or_default();
        let Some(data) = doc.as_mapping_get("data").and_then(YamlOwned::as_mapping) else {
            continue;
        };
        let files: Vec<(String, String)> = data
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
            .collect();
        let Some((main, tool)) = main_file(&files, from) else {
            continue;
        };
        let migration = convert_files(&files, &main, tool).map_err(|e| match e {
            Conv::Io(e) => ManifestError::Temp(e),
            Conv::Migrate(error) => ManifestError::Config {
                file: path.to_path_buf(),
                what: format!("ConfigMap {name}, {main}"),
                error,
            },
        })?;
        ships_nowhere |= migration.ships_nowhere;
        for n in &migration.notes {
            let file = n.file.file_name().map(|f| f.to_string_lossy().into_owned());
            note(
                n.severity,
                format!(
                    "ConfigMap {name}, {}{}: {}",
                    file.unwrap_or_default(),
                    if n.line > 0 {
                        format!(":{}", n.line)
                    } else {
                        String::new()
                    },
                    n.message
                ),
            );
        }
        if let Some(db) = tail_db(&files, &main) {
            note(
                Severity::Note,
                format!("ConfigMap {name}: Fluent Bit kept its offsets in {db}: to switch without re-shipping, run `skiff import-offsets --fluent-bit-db {db}` once before skiff first starts (docs/migrate.md, Cutting over)"),
            );
        }
        let toml = complete_toml(&migration.toml);
        let new_name = skiff_name(&name);
        note(
            Severity::Note,
            format!("ConfigMap {name}: now ConfigMap {new_name} holding skiff.toml, converted from {main}"),
        );
        set(doc, &["metadata", "name"], string(&new_name));
        let mut data = MappingOwned::new();
        data.insert(string("skiff.toml"), string(&toml));
        set(doc, &["data"], YamlOwned::Mapping(data));
        converted.push(Converted {
            cm_name: name,
            new_name,
            toml,
        });
    }
    // 2. The workloads that run the agent.
    let mut replaced = 0;
    for doc in docs.iter_mut() {
        let Some(k) = kind(doc).map(str::to_owned) else {
            continue;
        };
        if !WORKLOADS.contains(&k.as_str()) {
            continue;
        }
        let where_ = format!("{k} {}", meta_name(doc).unwrap_or_default());
        let prometheus_port = pod_annotation(doc, &k, "prometheus.io/port");
        let Some(spec) = pod_spec_mut(doc, &k) else {
            continue;
        };
        let here = replace_agents(spec, &converted, &where_, &mut note);
        replaced += here;
        if let Some(port) = prometheus_port.filter(|p| here > 0 && *p != API_PORT.to_string()) {
            note(
                Severity::Note,
                format!("{where_}: annotation prometheus.io/port {port} left as it is (another container's metrics); skiff's are on port {API_PORT}, path /metrics"),
            );
        }
        if restricted {
            restrict_pod(spec, &where_, &mut note);
        }
    }
    if replaced == 0 {
        let without: Vec<String> = notes
            .iter()
            .filter(|n| n.severity == Severity::Warning)
            .filter_map(|n| n.message.split(": no ConfigMap").next().map(str::to_owned))
            .collect();
        if without.is_empty() {
            return Err(ManifestError::NoAgent(path.to_path_buf()));
        }
        return Err(ManifestError::NoConfig {
            file: path.to_path_buf(),
            containers: without.join(", "),
        });
    }
    let mut yaml = String::new();
    yaml.push_str("# Converted by `skiff migrate`: skiff in place of the log agent.\n");
    for (i, doc) in docs.iter().enumerate() {
        let mut out = String::new();
        let mut emitter = YamlEmitter::new(&mut out);
        emitter.multiline(true);
        // Writing into a String cannot fail.
        let _ = emitter.dump(&Yaml::from(doc));
        let body = out.strip_prefix("---\n").unwrap_or(&out);
        if i > 0 {
            yaml.push_str("---\n");
        }
        yaml.push_str(body);
        if !yaml.ends_with('\n') {
            yaml.push('\n');
        }
    }
    Ok(ManifestMigration {
        yaml,
        notes,
        ships_nowhere,
    })
}

enum Conv {
    Io(std::io::Error),
    Migrate(MigrateError),
}

/// Writes the ConfigMap's files to a temporary folder and converts the main one.
fn convert_files(
    files: &[(String, String)],
    main: &str,
    tool: Tool,
) -> Result<super::Migration, Conv> {
    let dir = std::env::temp_dir().join(format!(
        "skiff-migrate-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).map_err(Conv::Io)?;
    let result = (|| {
        for (name, body) in files {
            // Keys of a ConfigMap are file names; anything else is not written.
            if name.contains('/') || name.starts_with('.') {
                continue;
            }
            std::fs::write(dir.join(name), body).map_err(Conv::Io)?;
        }
        super::migrate_file(&dir.join(main), Some(tool)).map_err(Conv::Migrate)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The agent's main config among a ConfigMap's files.
fn main_file(files: &[(String, String)], from: Option<Tool>) -> Option<(String, Tool)> {
    const NAMES: &[(&str, Tool)] = &[
        ("fluent-bit.conf", Tool::FluentBit),
        ("fluent-bit.yaml", Tool::FluentBit),
        ("fluent-bit.yml", Tool::FluentBit),
        ("fluentbit.conf", Tool::FluentBit),
        ("vector.toml", Tool::Vector),
        ("vector.yaml", Tool::Vector),
        ("vector.yml", Tool::Vector),
        ("vector.json", Tool::Vector),
    ];
    NAMES
        .iter()
        .filter(|(_, t)| from.is_none_or(|f| f == *t))
        .find(|(n, _)| files.iter().any(|(f, _)| f == n))
        .map(|(n, t)| ((*n).to_owned(), *t))
}

/// The tail database a Fluent Bit config names (`DB` in the classic format, `db:` in YAML).
fn tail_db(files: &[(String, String)], main: &str) -> Option<String> {
    let (_, text) = files.iter().find(|(n, _)| n == main)?;
    text.lines().find_map(|l| {
        let l = l.trim_start().trim_start_matches("- ");
        let (key, value) = l
            .split_once(':')
            .filter(|_| main.ends_with(".yaml") || main.ends_with(".yml"))
            .or_else(|| l.split_once(char::is_whitespace))?;
        (key.trim().eq_ignore_ascii_case("db") && !value.trim().is_empty())
            .then(|| value.trim().to_owned())
    })
}

/// The converted config with what a pod needs: checkpoints on the data volume, the API on
/// the probes' port.
fn complete_toml(toml: &str) -> String {
    let has_top = |key: &str| {
        toml.lines()
            .take_while(|l| !l.trim_start().starts_with('['))
            .any(|l| l.trim_start().starts_with(key))
    };
    let mut out = String::new();
    if !has_top("data_dir") {
        out.push_str(&format!(
            "# Checkpoints on the pod's skiff-data volume.\ndata_dir = \"{DATA_DIR}\"\n"
        ));
    }
    out.push_str(toml);
    if !toml.lines().any(|l| l.trim() == "[api]") {
        out.push_str(&format!(
            "\n# /health, /ready and /metrics for the probes.\n[api]\nenabled = true\naddress = \"0.0.0.0:{API_PORT}\"\n"
        ));
    }
    out
}

/// The new name of a ConfigMap: the agent's name replaced by skiff's.
fn skiff_name(name: &str) -> String {
    for agent in ["fluent-bit", "fluentbit", "vector"] {
        if name.contains(agent) {
            return name.replacen(agent, "skiff", 1);
        }
    }
    format!("skiff-{name}")
}

fn is_agent_image(image: &str) -> bool {
    let repo = image.rsplit('/').next().unwrap_or(image);
    let repo = repo.split([':', '@']).next().unwrap_or(repo);
    matches!(
        repo,
        "fluent-bit" | "fluentbit" | "vector" | "aws-for-fluent-bit"
    )
}

/// Replaces each agent container of a pod spec; returns how many.
fn replace_agents(
    spec: &mut YamlOwned,
    converted: &[Converted],
    where_: &str,
    note: &mut dyn FnMut(Severity, String),
) -> usize {
    let volumes: Vec<YamlOwned> = spec
        .as_mapping_get("volumes")
        .and_then(YamlOwned::as_vec)
        .cloned()
        .unwrap_or_default();
    let mut count = 0;
    let mut renames: Vec<(String, String)> = Vec::new();
    for list in ["containers", "initContainers"] {
        let Some(containers) = spec
            .as_mapping_get_mut(list)
            .and_then(YamlOwned::as_vec_mut)
        else {
            continue;
        };
        for c in containers.iter_mut() {
            let image = c
                .as_mapping_get("image")
                .and_then(YamlOwned::as_str)
                .unwrap_or_default();
            if !is_agent_image(image) {
                continue;
            }
            let cname = c
                .as_mapping_get("name")
                .and_then(YamlOwned::as_str)
                .unwrap_or_default()
                .to_owned();
            // The config volume: a mount of a volume backed by a converted ConfigMap.
            let mounts: Vec<YamlOwned> = c
                .as_mapping_get("volumeMounts")
                .and_then(YamlOwned::as_vec)
                .cloned()
                .unwrap_or_default();
            let config_of = |vol: &str| -> Option<&Converted> {
                let v = volumes.iter().find(|v| str_at(v, &["name"]) == Some(vol))?;
                let cm = str_at(v, &["configMap", "name"]).or_else(|| {
                    v.as_mapping_get("projected")?
                        .as_mapping_get("sources")?
                        .as_vec()?
                        .iter()
                        .find_map(|s| str_at(s, &["configMap", "name"]))
                })?;
                converted.iter().find(|c| c.cm_name == cm)
            };
            let mut config = None;
            let mut new_mounts = Vec::new();
            for m in &mounts {
                let vol = str_at(m, &["name"]).unwrap_or_default();
                if let Some(conv) = config_of(vol) {
                    config = Some(conv);
                    new_mounts.push(parse(&format!(
                        "name: {vol}\nmountPath: {CONFIG_DIR}\nreadOnly: true\n"
                    )));
                } else {
                    new_mounts.push(m.clone());
                }
            }
            let Some(config) = config.or_else(|| (converted.len() == 1).then(|| &converted[0]))
            else {
                note(
                    Severity::Warning,
                    format!("{where_}, container {cname}: no ConfigMap with its config in this manifest; left as it is"),
                );
                continue;
            };
            if !mounts
                .iter()
                .any(|m| config_of(str_at(m, &["name"]).unwrap_or_default()).is_some())
            {
                // The config was in the ConfigMap but mounted some other way: mount it here.
                let vol = "skiff-config".to_owned();
                new_mounts.push(parse(&format!(
                    "name: {vol}\nmountPath: {CONFIG_DIR}\nreadOnly: true\n"
                )));
                renames.push((String::new(), config.new_name.clone()));
            }
            new_mounts.push(parse(&format!("name: skiff-data\nmountPath: {DATA_DIR}\n")));
            let mut env: Vec<YamlOwned> = c
                .as_mapping_get("env")
                .and_then(YamlOwned::as_vec)
                .cloned()
                .unwrap_or_default();
            let used = env_refs(&config.toml);
            for (var, field) in DOWNWARD {
                let set = env.iter().any(|e| str_at(e, &["name"]) == Some(var));
                if used.contains(*var) && !set {
                    env.push(parse(&format!(
                        "name: {var}\nvalueFrom:\n  fieldRef:\n    fieldPath: {field}\n"
                    )));
                    note(Severity::Note, format!("{where_}, container {cname}: env {var} from the Downward API ({field}), which the config reads"));
                }
            }
            let unset: Vec<&str> = used
                .iter()
                .copied()
                .filter(|v| !env.iter().any(|e| str_at(e, &["name"]) == Some(*v)))
                .filter(|v| !config.toml.contains(&format!("${{{v}:-")))
                .collect();
            if !unset.is_empty() && !c.contains_mapping_key("envFrom") {
                note(
                    Severity::Warning,
                    format!(
                        "{where_}, container {cname}: the config reads {}, which the container does not set (nor did it for the old agent): set them, or skiff refuses to start",
                        unset.iter().map(|v| format!("${{{v}}}")).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            let mut new = parse(&format!(
                "name: {cname}\n\
                 image: {IMAGE}\n\
                 imagePullPolicy: IfNotPresent\n\
                 args: [run, --config, {CONFIG_DIR}/skiff.toml]\n\
                 ports:\n  - name: http-api\n    containerPort: {API_PORT}\n\
                 livenessProbe:\n  httpGet:\n    path: /health\n    port: {API_PORT}\n  initialDelaySeconds: 10\n  periodSeconds: 30\n\
                 readinessProbe:\n  httpGet:\n    path: /ready\n    port: {API_PORT}\n  initialDelaySeconds: 5\n  periodSeconds: 10\n\
                 securityContext:\n  runAsNonRoot: true\n  runAsUser: {UID}\n  runAsGroup: {UID}\n  allowPrivilegeEscalation: false\n  readOnlyRootFilesystem: true\n  capabilities:\n    drop: [ALL]\n  seccompProfile:\n    type: RuntimeDefault\n"
            ));
            if !env.is_empty() {
                set(&mut new, &["env"], YamlOwned::Sequence(env));
            }
            for keep in ["resources", "restartPolicy", "envFrom"] {
                if let Some(v) = c.as_mapping_get(keep) {
                    set(&mut new, &[keep], v.clone());
                }
            }
            set(&mut new, &["volumeMounts"], YamlOwned::Sequence(new_mounts));
            note(
                Severity::Note,
                format!("{where_}, container {cname}: {image} replaced by {IMAGE}, probes on /health and /ready (port {API_PORT}), restricted securityContext, checkpoints on emptyDir skiff-data"),
            );
            *c = new;
            count += 1;
        }
    }
    if count == 0 {
        return 0;
    }
    // Volumes: the ConfigMaps under their new names, and the data volume.
    if let Some(vols) = spec
        .as_mapping_get_mut("volumes")
        .and_then(YamlOwned::as_vec_mut)
    {
        for v in vols.iter_mut() {
            for conv in converted {
                rename_cm(v, &conv.cm_name, &conv.new_name);
            }
        }
    }
    let mut add = vec![parse("name: skiff-data\nemptyDir:\n  sizeLimit: 64Mi\n")];
    for (_, cm) in renames.iter().take(1) {
        add.push(parse(&format!(
            "name: skiff-config\nconfigMap:\n  name: {cm}\n"
        )));
    }
    match spec
        .as_mapping_get_mut("volumes")
        .and_then(YamlOwned::as_vec_mut)
    {
        Some(vols) => {
            for a in add {
                let name = str_at(&a, &["name"]).unwrap_or_default().to_owned();
                if !vols.iter().any(|v| str_at(v, &["name"]) == Some(&name)) {
                    vols.push(a);
                }
            }
        }
        None => set(spec, &["volumes"], YamlOwned::Sequence(add)),
    }
    count
}

/// Points a volume at a ConfigMap's new name.
fn rename_cm(v: &mut YamlOwned, old: &str, new: &str) {
    if str_at(v, &["configMap", "name"]) == Some(old) {
        set(v, &["configMap", "name"], string(new));
    }
    if let Some(sources) = v
        .as_mapping_get_mut("projected")
        .and_then(|p| p.as_mapping_get_mut("sources"))
        .and_then(YamlOwned::as_vec_mut)
    {
        for s in sources {
            if str_at(s, &["configMap", "name"]) == Some(old) {
                set(s, &["configMap", "name"], string(new));
            }
        }
    }
}

/// Brings the rest of the pod to Pod Security "restricted" with read-only root filesystems,
/// each change a note (the app must be able to run that way: check it).
fn restrict_pod(spec: &mut YamlOwned, where_: &str, note: &mut dyn FnMut(Severity, String)) {
    let pod_defaults: [(&str, YamlOwned); 2] = [
        ("runAsNonRoot", YamlOwned::Value(ScalarOwned::Boolean(true))),
        ("seccompProfile", parse("type: RuntimeDefault\n")),
    ];
    for (k, v) in pod_defaults {
        if get(spec, &["securityContext", k]).is_none() {
            set(spec, &["securityContext", k], v);
            note(
                Severity::Note,
                format!("{where_}: pod securityContext.{k} set (restricted)"),
            );
        }
    }
    for list in ["initContainers", "containers"] {
        let Some(cs) = spec
            .as_mapping_get_mut(list)
            .and_then(YamlOwned::as_vec_mut)
        else {
            continue;
        };
        for c in cs.iter_mut() {
            let name = str_at(c, &["name"]).unwrap_or_default().to_owned();
            let defaults: [(&str, YamlOwned); 3] = [
                (
                    "allowPrivilegeEscalation",
                    YamlOwned::Value(ScalarOwned::Boolean(false)),
                ),
                (
                    "readOnlyRootFilesystem",
                    YamlOwned::Value(ScalarOwned::Boolean(true)),
                ),
                ("capabilities", parse("drop: [ALL]\n")),
            ];
            for (k, v) in defaults {
                if get(c, &["securityContext", k]).is_none() {
                    set(c, &["securityContext", k], v);
                    note(Severity::Note, format!("{where_}, container {name}: securityContext.{k} set (restricted; check that it still runs so)"));
                }
            }
        }
    }
    if let Some(vols) = spec
        .as_mapping_get_mut("volumes")
        .and_then(YamlOwned::as_vec_mut)
    {
        for v in vols.iter_mut() {
            let name = str_at(v, &["name"]).unwrap_or_default().to_owned();
            if v.contains_mapping_key("emptyDir") && get(v, &["emptyDir", "sizeLimit"]).is_none() {
                set(v, &["emptyDir"], parse("sizeLimit: 512Mi\n"));
                note(
                    Severity::Note,
                    format!("{where_}: emptyDir {name} given sizeLimit 512Mi"),
                );
            }
        }
    }
}

/// The `${VAR}` names a config reads.
fn env_refs(toml: &str) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    let mut rest = toml;
    while let Some(i) = rest.find("${") {
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            out.insert(&rest[..end]);
        }
    }
    out
}

fn kind(doc: &YamlOwned) -> Option<&str> {
    doc.as_mapping_get("kind").and_then(YamlOwned::as_str)
}

fn meta_name(doc: &YamlOwned) -> Option<String> {
    str_at(doc, &["metadata", "name"]).map(str::to_owned)
}

/// An annotation of a workload's pod (template), as text.
fn pod_annotation(doc: &YamlOwned, kind: &str, key: &str) -> Option<String> {
    let path: &[&str] = match kind {
        "Pod" => &["metadata", "annotations"],
        "CronJob" => &[
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "metadata",
            "annotations",
        ],
        _ => &["spec", "template", "metadata", "annotations"],
    };
    match get(doc, path)?.as_mapping_get(key)? {
        YamlOwned::Value(ScalarOwned::String(s)) => Some(s.clone()),
        YamlOwned::Value(ScalarOwned::Integer(i)) => Some(i.to_string()),
        _ => None,
    }
}

/// The pod spec of a workload.
fn pod_spec_mut<'a>(doc: &'a mut YamlOwned, kind: &str) -> Option<&'a mut YamlOwned> {
    let path: &[&str] = match kind {
        "Pod" => &["spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => &["spec", "template", "spec"],
    };
    let mut node = doc;
    for k in path {
        node = node.as_mapping_get_mut(k)?;
    }
    Some(node)
}

fn get<'a>(node: &'a YamlOwned, path: &[&str]) -> Option<&'a YamlOwned> {
    let mut node = node;
    for k in path {
        node = node.as_mapping_get(k)?;
    }
    Some(node)
}

fn str_at<'a>(node: &'a YamlOwned, path: &[&str]) -> Option<&'a str> {
    get(node, path).and_then(YamlOwned::as_str)
}

/// Sets `path` in a mapping, creating mappings on the way (a non-mapping on the way is
/// replaced).
fn set(node: &mut YamlOwned, path: &[&str], value: YamlOwned) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = node;
    for k in parents {
        if !matches!(node, YamlOwned::Mapping(_)) {
            *node = YamlOwned::Mapping(MappingOwned::new());
        }
        let YamlOwned::Mapping(m) = node else { return };
        node = m
            .entry(string(k))
            .or_insert_with(|| YamlOwned::Mapping(MappingOwned::new()));
    }
    if !matches!(node, YamlOwned::Mapping(_)) {
        *node = YamlOwned::Mapping(MappingOwned::new());
    }
    if let YamlOwned::Mapping(m) = node {
        m.insert(string(last), value);
    }
}

fn string(s: &str) -> YamlOwned {
    YamlOwned::Value(ScalarOwned::String(s.to_owned()))
}

/// Parses a YAML snippet written in this module (always valid; an empty mapping otherwise).
fn parse(text: &str) -> YamlOwned {
    YamlOwned::load_from_str(text)
        .ok()
        .and_then(|mut d| d.pop())
        .unwrap_or(YamlOwned::Mapping(MappingOwned::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_images() {
        assert!(is_agent_image("fluent/fluent-bit:latest"));
        assert!(is_agent_image("cr.fluentbit.io/fluent/fluent-bit:3.1"));
        assert!(is_agent_image("timberio/vector:latest-alpine"));
        assert!(is_agent_image(
            "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
        ));
        assert!(!is_agent_image("myapp:latest"));
        assert!(!is_agent_image("vectorized/redpanda"));
    }

    #[test]
    fn names_and_env() {
        assert_eq!(skiff_name("fluent-bit-config"), "skiff-config");
        assert_eq!(skiff_name("vector-config"), "skiff-config");
        assert_eq!(skiff_name("logging"), "skiff-logging");
        let refs = env_refs("a = \"${POD_NAME}\"\nb = \"${X:-1}\"");
        assert_eq!(refs.into_iter().collect::<Vec<_>>(), ["POD_NAME", "X"]);
    }
}
