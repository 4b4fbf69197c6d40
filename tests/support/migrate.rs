//! The `skiff migrate` tests' fixtures: the cases with golden outputs, the environment the
//! converted configs refer to, and converted configs made to run locally.

use std::path::Path;

use toml_edit::{value, Array, DocumentMut, Item, Table};

use super::compare::masked_lines;
use super::skiff::{run_once, skiff};

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
    ("fb-tail", "fluent-bit.conf", 2),
    ("fb-parsers", "fluent-bit.conf", 2),
    ("fb-filters", "fluent-bit.conf", 2),
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

/// The path of a case's input.
pub fn input(case: &str, file: &str) -> String {
    format!("{FIXTURES}/{case}/{file}")
}

/// The golden output of a case, as produced by the binary.
pub fn migrated(case: &str, file: &str) -> String {
    let run = skiff(&["migrate", &input(case, file)], ENV);
    assert!(run.code == 0 || run.code == 2, "{case}: {}", run.stderr);
    run.stdout
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

/// Runs `skiff run --once` on `config` with the fixtures' environment and returns the events it
/// printed, read times masked.
pub fn run_events(config: &Path) -> Vec<serde_json::Value> {
    masked_lines(&run_once(config, ENV))
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}
