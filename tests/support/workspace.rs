//! A test's own directory, and what skiff and the writers leave in it.
//!
//! A [`Workspace`] is a temp dir with `logs/` (what skiff tails) and `data/` (checkpoints,
//! dead letters); configs are written into it with `{dir}` standing for its path. The usual
//! configs are here: a console pipeline, an Elasticsearch pipeline, a transforms pipeline.

use std::path::{Path, PathBuf};

/// A temp dir with `logs/` and `data/`; removed when dropped.
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        Workspace { dir }
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `rel` inside the directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir().join(rel)
    }

    pub fn logs(&self) -> PathBuf {
        self.path("logs")
    }

    /// `logs/NAME`.
    pub fn log(&self, name: &str) -> PathBuf {
        self.logs().join(name)
    }

    pub fn data(&self) -> PathBuf {
        self.path("data")
    }

    /// Writes `contents` to `rel` and returns its path.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {rel}: {e}"));
        path
    }

    /// Writes `skiff.toml` from `body`, `{dir}` replaced by the directory's path.
    pub fn config(&self, body: &str) -> PathBuf {
        self.write(
            "skiff.toml",
            body.replace("{dir}", &self.dir().display().to_string()),
        )
    }

    /// A config reading `logs/*.log` to a console sink `out` (API off), with `extra` appended
    /// (more keys of the sink, or more components); its path as a string.
    pub fn console_config_with(&self, extra: &str) -> String {
        self.config(&format!(
            "data_dir = \"{{dir}}/data\"\n[api]\nenabled = false\n\
             [sources.app]\ntype = \"file\"\ninclude = [\"{{dir}}/logs/*.log\"]\n\
             [sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n{extra}"
        ))
        .display()
        .to_string()
    }

    /// A config with the file source `app` over `logs/INCLUDE` (rescanned every 100 ms, rotated
    /// files held 1 s) plus `source_extra`, and `sink` (a `[sinks.NAME]` table reading `app`).
    pub fn config_with_sink(&self, include: &str, source_extra: &str, sink: &str) -> PathBuf {
        self.config(&format!(
            r#"
data_dir = "{{dir}}/data"
shutdown_timeout = "30s"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{{dir}}/logs/{include}"]
glob_interval = "100ms"
rotate_wait = "1s"
{source_extra}
{sink}
"#
        ))
    }

    /// [`config_with_sink`](Self::config_with_sink) with a text console sink `out`.
    pub fn console_config(&self, include: &str, source_extra: &str) -> PathBuf {
        self.config_with_sink(
            include,
            source_extra,
            "[sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\nencoding = \"text\"",
        )
    }

    /// [`config_with_sink`](Self::config_with_sink) with an `elasticsearch` sink `es` on
    /// `endpoints`, plus `sink_extra`.
    pub fn es_config(
        &self,
        include: &str,
        endpoints: &[String],
        source_extra: &str,
        sink_extra: &str,
    ) -> PathBuf {
        let eps: Vec<String> = endpoints.iter().map(|e| format!("{e:?}")).collect();
        self.config_with_sink(
            include,
            source_extra,
            &format!(
                "[sinks.es]\ntype = \"elasticsearch\"\ninputs = [\"app\"]\nendpoints = [{}]\n{sink_extra}",
                eps.join(", ")
            ),
        )
    }

    /// The checkpointed offsets of `source`, by file path.
    pub fn checkpoints(&self, source: &str) -> Vec<(String, u64)> {
        let path = self.data().join(format!("checkpoints/{source}.json"));
        let Ok(bytes) = std::fs::read(&path) else {
            return Vec::new();
        };
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["path"].as_str().unwrap().to_owned(),
                    e["offset"].as_u64().unwrap(),
                )
            })
            .collect()
    }
}

/// A config (for [`Workspace::config`]) with the file source `in` reading `logs/*.log` without
/// the path field, `transforms` (TOML text of `[transforms.*]` tables, the first reading `in`,
/// the last named `last`), and a JSON console sink.
pub fn pipeline(transforms: &str) -> String {
    format!(
        r#"data_dir = "{{dir}}/data"

[api]
enabled = false

[sources.in]
type = "file"
include = ["{{dir}}/logs/*.log"]
file_key = ""

{transforms}

[sinks.out]
type = "console"
inputs = ["last"]
encoding = "json"
"#
    )
}

/// The lines of a file parsed as JSON; none if it does not exist.
pub fn read_ndjson(path: &Path) -> Vec<serde_json::Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The lines a file holds, as skiff would read them: split at `\n`, a final unterminated piece
/// counting as a line (skiff emits it at shutdown or rotation).
pub fn file_lines(path: &Path) -> Vec<String> {
    let data = std::fs::read(path).expect("read log file");
    let mut lines: Vec<String> = data
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// The files in `dir` whose names start with `prefix`, sorted by name.
pub fn files_with_prefix(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read log dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}
