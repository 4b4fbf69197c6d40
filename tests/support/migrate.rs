//! Helpers shared by the `skiff migrate` tests: run the binary, compare with golden files,
//! and the environment the converted configs refer to.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use toml_edit::{value, Array, DocumentMut, Item, Table};

/// Where the migrate fixtures live, relative to the crate root (the tests' working directory).
pub const FIXTURES: &str = "tests/fixtures/migrate";

/// Variables the fixtures' configs use, with values for `validate` and `run`.
pub const ENV: &[(&str, &str)] = &[
    ("POD_NAME", "app-7f9c"),
    ("POD_NAMESPACE", "shop"),
    ("ELASTICSEARCH_HOST", "127.0.0.1"),
    ("ELASTICSEARCH_PORT", "9200"),
    ("ES_USER", "elastic"),
    ("ES_PASSWORD", "secret"),
    ("APP_ENV", "test"),
    ("ENV", "test"),
];

/// The cases with a golden output: (directory, input file, expected exit code).
pub const CASES: &[(&str, &str, i32)] = &[
    ("seed-fluent-bit", "fluent-bit.conf", 0),
    ("seed-vector", "vector.toml", 0),
    ("fb-tail", "fluent-bit.conf", 0),
    ("fb-parsers", "fluent-bit.conf", 0),
    ("fb-filters", "fluent-bit.conf", 0),
    ("fb-outputs", "fluent-bit.conf", 0),
    ("fb-lua", "fluent-bit.conf", 2),
    ("fb-unsupported", "fluent-bit.conf", 2),
    ("fb-yaml", "fluent-bit.yaml", 2),
    ("fb-containers", "fluent-bit.conf", 2),
    ("vector-full", "vector.toml", 2),
    ("vector-yaml", "vector.yaml", 0),
    ("vector-if", "vector.toml", 2),
    ("vector-more", "vector.toml", 0),
];

/// What a run of the binary printed.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            code: o.status.code().unwrap_or(-1),
        }
    }
}

/// Runs `skiff ARGS` with the fixtures' environment.
pub fn skiff(args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skiff"));
    cmd.args(args)
        .env_remove("SKIFF_CONFIG")
        .env_remove("SKIFF_LOG");
    for (k, v) in ENV {
        cmd.env(k, v);
    }
    cmd.output().expect("skiff runs").into()
}

/// The path of a case's input.
pub fn input(case: &str, file: &str) -> String {
    format!("{FIXTURES}/{case}/{file}")
}

/// Compares `actual` with the golden file `path`; with `SKIFF_BLESS=1`, writes it instead.
pub fn assert_golden(path: &Path, actual: &str) {
    if std::env::var_os("SKIFF_BLESS").is_some() {
        std::fs::write(path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (run with SKIFF_BLESS=1)",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the output.\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}

/// The golden output of a case, as produced by the binary.
pub fn migrated(case: &str, file: &str) -> String {
    let run = skiff(&["migrate", &input(case, file)]);
    assert!(run.code == 0 || run.code == 2, "{case}: {}", run.stderr);
    run.stdout
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}

/// Points a config at `logs`, keeps its state in `data`, turns the API off, and swaps each
/// elasticsearch sink for a JSON console sink reading the same inputs.
pub fn local(text: &str, logs: &Path, data: &Path) -> String {
    let mut doc: DocumentMut = text.parse().unwrap();
    doc["data_dir"] = value(data.to_str().unwrap());
    let mut api = Table::new();
    api["enabled"] = value(false);
    doc["api"] = Item::Table(api);
    let glob = logs.join("*.log");
    for (_, source) in doc["sources"].as_table_like_mut().unwrap().iter_mut() {
        let source = source.as_table_like_mut().unwrap();
        let mut include = Array::new();
        include.push(glob.to_str().unwrap());
        source.insert("include", value(include));
        source.remove("exclude");
    }
    for (_, sink) in doc["sinks"].as_table_like_mut().unwrap().iter_mut() {
        let sink = sink.as_table_like_mut().unwrap();
        if sink.get("type").and_then(Item::as_str) == Some("elasticsearch") {
            let inputs = sink.get("inputs").cloned().unwrap();
            sink.clear();
            sink.insert("type", value("console"));
            sink.insert("inputs", inputs);
            sink.insert("encoding", value("json"));
        }
    }
    doc.to_string()
}

/// Runs `skiff run --once` on `config` and returns the events it printed.
pub fn run_once(config: &Path) -> Vec<serde_json::Value> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skiff"));
    cmd.args(["run", "--once", "--config", config.to_str().unwrap()])
        .env_remove("SKIFF_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in ENV {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("skiff run --once did not finish on {}", config.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: {}\n{stdout}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // Events without a time of their own carry the time they were read: the same for both
    // runs in spirit, not to the millisecond.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    stdout
        .lines()
        .map(|l| {
            let mut v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            if let Some(ts) = v.get_mut("timestamp") {
                if ts.as_str().is_some_and(|t| t.starts_with(&today)) {
                    *ts = serde_json::Value::String("<read time>".into());
                }
            }
            v
        })
        .collect()
}
