//! The manifests do what they say: the skiff config embedded in each ConfigMap under
//! `manifests/` runs on sample input, with the Downward API environment set, the pod's paths
//! moved into a temp dir and Elasticsearch replaced by the test server, and its output is checked.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::es_server::{EsServer, EsServerOptions};
use support::skiff::run_once;
use support::workspace::Workspace;
use toml_edit::{value, Array, DocumentMut};

/// Every `skiff.toml: |` block scalar in a manifest, dedented.
fn embedded_configs(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if !trimmed.starts_with("skiff.toml: |") {
            continue;
        }
        let key_indent = line.len() - trimmed.len();
        let mut block = Vec::new();
        for l in &lines[i + 1..] {
            let indent = l.len() - l.trim_start().len();
            if !l.trim().is_empty() && indent <= key_indent {
                break;
            }
            block.push(*l);
        }
        let cut = block
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        out.push(
            block
                .iter()
                .map(|l| l.get(cut..).unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    out
}

/// Points the config's paths into `dir` and its Elasticsearch sinks at `es`.
fn localise(text: &str, dir: &Path, es: &str) -> (String, Format, bool) {
    let mut doc: DocumentMut = text.parse().expect("embedded TOML parses");
    doc["data_dir"] = value(dir.join("data").display().to_string());
    doc.remove("exit_on_file");
    doc["api"]["address"] = value("127.0.0.1:0");
    let mut regex = false;
    let mut parses = false;
    let mut has_es = false;
    if let Some(sources) = doc["sources"].as_table_mut() {
        for (_, s) in sources.iter_mut() {
            let mut include = Array::new();
            include.push(dir.join("logs/*.log").display().to_string());
            s["include"] = value(include);
        }
    }
    let mut nginx = false;
    if let Some(transforms) = doc["transforms"].as_table_mut() {
        for (_, t) in transforms.iter_mut() {
            if t["type"].as_str() == Some("log_to_metric") {
                // Metrics adapters: let the parsed events through to be checked here (the
                // metrics themselves are checked against a real Prometheus in
                // tests/metrics_adapter.rs).
                nginx = true;
                t["consume"] = value(false);
            }
            regex |= t["type"].as_str() == Some("parse_regex");
            parses |= matches!(t["type"].as_str(), Some("parse_regex" | "parse_json"));
            for key in ["labels_file", "annotations_file"] {
                if t.get(key).is_some() {
                    t[key] = value(dir.join(key).display().to_string());
                }
            }
        }
    }
    if let Some(sinks) = doc["sinks"].as_table_mut() {
        for (_, s) in sinks.iter_mut() {
            if nginx && s["type"].as_str() == Some("blackhole") {
                s["type"] = value("console");
                s["encoding"] = value("json");
            }
            if s["type"].as_str() == Some("elasticsearch") {
                has_es = true;
                let mut endpoints = Array::new();
                endpoints.push(es);
                s["endpoints"] = value(endpoints);
                if let Some(t) = s.as_table_like_mut() {
                    t.remove("auth");
                    t.remove("tls");
                }
            }
        }
    }
    let format = if nginx {
        Format::Nginx
    } else if regex {
        Format::Regex
    } else if parses {
        Format::Json
    } else {
        Format::Plain
    };
    (doc.to_string(), format, has_es)
}

/// What the sample lines look like: what the config's parser expects.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    Plain,
    Regex,
    Json,
    /// nginx's combined access lines with `$request_time` appended.
    Nginx,
}

fn manifests() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("manifests")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_embedded_config_ships_sample_lines_as_it_says() {
    let mut checked = 0;
    for manifest in manifests() {
        let yaml = std::fs::read_to_string(&manifest).unwrap();
        for config in embedded_configs(&yaml) {
            let name = manifest.display().to_string();
            let server = EsServer::start(EsServerOptions::default());
            let ws = Workspace::new();
            ws.write("labels_file", "app=\"web\"\ntier=\"front \\\"end\\\"\"\n");
            ws.write("annotations_file", "team=\"logs\"\n");
            let (text, format, has_es) = localise(&config, ws.dir(), &server.url());
            let n = 50;
            let input: String = (0..n)
                .map(|i| {
                    match format {
                        Format::Regex => format!("2026-11-26T04:00:{:02} INFO request {i} handled\n", i % 60),
                        Format::Json => format!("{{\"timestamp\":\"2026-11-26T04:00:{:02}.123\",\"level\":\"INFO\",\"message\":\"request {i}\"}}\n", i % 60),
                        Format::Plain => format!("request {i} handled\n"),
                        Format::Nginx => format!("10.0.0.1 - - [26/Nov/2026:04:00:{:02} +0000] \"GET /request/{i} HTTP/1.1\" 200 612 \"-\" \"curl/8.5\" 0.004\n", i % 60),
                    }
                })
                .collect();
            ws.write("logs/app.log", input);
            let config_path = ws.write("skiff.toml", &text);
            let port = server.addr().port().to_string();
            let out = run_once(
                &config_path,
                &[
                    ("POD_NAME", "web-1"),
                    ("POD_NAMESPACE", "shop"),
                    ("NODE_NAME", "node-a"),
                    ("POD_IP", "10.1.2.3"),
                    ("ELASTICSEARCH_HOST", "127.0.0.1"),
                    ("ELASTICSEARCH_PORT", port.as_str()),
                    ("ES_USER", "elastic"),
                ],
            );
            let stderr = &out.stderr;
            assert!(out.success(), "{name}: {stderr}\n{text}");
            let events: Vec<serde_json::Value> = if has_es {
                assert!(
                    server.wait_for_docs(n, Duration::from_secs(20)),
                    "{name}: {} docs\n{stderr}",
                    server.total_docs()
                );
                server.all_docs().into_iter().map(|(_, _, d)| d).collect()
            } else {
                out.stdout
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect()
            };
            assert_eq!(events.len(), n, "{name}");
            if format == Format::Nginx {
                for e in &events {
                    assert_eq!(e["method"], "GET", "{name}: {e}");
                    assert_eq!(e["code"], "200", "{name}: {e}");
                    assert_eq!(e["request_time"], 0.004, "{name}: {e}");
                    assert!(e.get("_skiff_error").is_none(), "{name}: {e}");
                }
                checked += 1;
                continue;
            }
            for e in &events {
                assert_eq!(e["kubernetes"]["pod_name"], "web-1", "{name}: {e}");
                assert!(
                    e["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("request ")),
                    "{name}: {e}"
                );
                if format != Format::Plain {
                    assert_eq!(e["level"], "INFO", "{name}: {e}");
                }
            }
            if text.contains("labels_file") {
                assert_eq!(
                    events[0]["kubernetes"]["labels"]["tier"], "front \"end\"",
                    "{name}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} embedded configs found");
}
