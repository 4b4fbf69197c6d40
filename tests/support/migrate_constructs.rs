//! One fixture per construct that `skiff migrate` must keep faithful
//! (`tests/fixtures/migrate/constructs/NAME/`): the old agent's config, sample log files under
//! `logs/`, and `expected.jsonl`, the records each output gets in the old agent as its docs
//! describe (`{"sink": NAME, ...fields}`, read times left out). A construct is converted by the
//! binary in a workspace (`{logs}` in the config stands for the workspace's log folder, `{out}`
//! for a folder sinks may write to, `{KEY}` for what the test passes), then validated and run on
//! its samples.

use std::path::{Path, PathBuf};

use serde_json::Value;
use toml_edit::{value, Array, DocumentMut, InlineTable, Item, Table};

use super::migrate::ENV;
use super::skiff::{run_once, skiff, Output};
use super::workspace::Workspace;

/// Where the construct fixtures live, relative to the crate root.
pub const CONSTRUCTS: &str = "tests/fixtures/migrate/constructs";

/// A construct converted in its workspace.
pub struct Converted {
    pub ws: Workspace,
    /// `skiff migrate`'s run.
    pub migrate: Output,
}

/// Copies construct `name` into a fresh workspace (config files with `{logs}` and each
/// `{KEY}` of `vars` replaced, samples into `logs/`) and converts `config` with the binary.
pub fn convert(name: &str, config: &str, vars: &[(&str, &str)]) -> Converted {
    let ws = Workspace::new();
    let dir = Path::new(CONSTRUCTS).join(name);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        if path.is_dir() {
            for sample in std::fs::read_dir(&path).unwrap() {
                let sample = sample.unwrap().path();
                std::fs::copy(
                    &sample,
                    ws.log(sample.file_name().unwrap().to_str().unwrap()),
                )
                .unwrap();
            }
        } else if file != "expected.jsonl" {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut text = text
                .replace("{logs}", ws.logs().to_str().unwrap())
                .replace("{out}", ws.path("out").to_str().unwrap());
            for (k, v) in vars {
                text = text.replace(&format!("{{{k}}}"), v);
            }
            ws.write(&file, text);
        }
    }
    let input = ws.path(config);
    let migrate = skiff(&["migrate", input.to_str().unwrap()], ENV);
    Converted { ws, migrate }
}

impl Converted {
    /// The converted config, written as `skiff.toml` with its state in the workspace, the API
    /// off, and before each sink (but Elasticsearch ones when `keep_es`) an `add_fields` that
    /// names it in the field `sink`; every sink but Elasticsearch becomes a JSON console.
    pub fn runnable(&self, keep_es: bool) -> PathBuf {
        let mut doc: DocumentMut = self.migrate.stdout.parse().unwrap();
        doc["data_dir"] = value(self.ws.data().to_str().unwrap());
        let mut api = Table::new();
        api["enabled"] = value(false);
        doc["api"] = Item::Table(api);
        let mut added = Vec::new();
        if let Some(sinks) = doc.get_mut("sinks").and_then(Item::as_table_like_mut) {
            for (name, sink) in sinks.iter_mut() {
                let sink = sink.as_table_like_mut().unwrap();
                let es = sink.get("type").and_then(Item::as_str) == Some("elasticsearch");
                if es && keep_es {
                    continue;
                }
                let inputs = sink.get("inputs").cloned().unwrap();
                let tag = format!("sink_name_{name}");
                sink.clear();
                sink.insert("type", value("console"));
                let mut reads = Array::new();
                reads.push(tag.as_str());
                sink.insert("inputs", value(reads));
                sink.insert("encoding", value("json"));
                added.push((tag, name.to_string(), inputs));
            }
        }
        for (tag, name, inputs) in added {
            let mut t = Table::new();
            t["type"] = value("add_fields");
            t["inputs"] = inputs;
            let mut fields = InlineTable::new();
            fields.insert("sink", name.into());
            t["fields"] = value(fields);
            if doc.get("transforms").is_none() {
                let mut transforms = Table::new();
                transforms.set_implicit(true);
                doc["transforms"] = Item::Table(transforms);
            }
            doc["transforms"][tag.as_str()] = Item::Table(t);
        }
        self.ws.write("skiff.toml", doc.to_string())
    }

    /// The converted config with every sink as converted, written as `skiff.toml` with its
    /// state in the workspace and the API off.
    pub fn as_converted(&self) -> PathBuf {
        let mut doc: DocumentMut = self.migrate.stdout.parse().unwrap();
        doc["data_dir"] = value(self.ws.data().to_str().unwrap());
        let mut api = Table::new();
        api["enabled"] = value(false);
        doc["api"] = Item::Table(api);
        self.ws.write("skiff.toml", doc.to_string())
    }

    /// Runs `config` once over the samples and returns the events printed, without their
    /// `timestamp` or `date` (a read time), sorted.
    pub fn events(&self, config: &Path) -> Vec<Value> {
        let out = run_once(config, ENV);
        assert!(out.success(), "skiff run failed:\n{}", out.stderr);
        let mut events: Vec<Value> = out
            .stdout
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
                let fields = v.as_object_mut().unwrap();
                fields.remove("timestamp");
                fields.remove("date");
                v
            })
            .collect();
        events.sort_by_key(|v| v.to_string());
        events
    }
}

/// The records the old agent's outputs get, as `expected.jsonl` lists them (`{logs}` standing
/// for the log folder of `c`), sorted.
pub fn expected(name: &str, c: &Converted) -> Vec<Value> {
    let path = Path::new(CONSTRUCTS).join(name).join("expected.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let text = text.replace("{logs}", c.ws.logs().to_str().unwrap());
    let mut events: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    events.sort_by_key(|v| v.to_string());
    events
}
