//! The two pipelines of the seed article (`config/vector-adapter.toml`,
//! `config/fluent-bit-parse.toml`), end to end through the binary on lines in the seed's formats,
//! with the pod's Downward API variables set, compared exactly; and the README's quick start and
//! its tour into Elasticsearch.

mod support;

use std::path::{Path, PathBuf};

use support::compare::masked_lines;
use support::es_server::{EsServer, EsServerOptions};
use support::skiff::{run_once, skiff, Output};
use support::workspace::Workspace;

fn config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(name)
}

/// Runs the shipped config `name` with its state in `ws` and `env` set (warnings and errors
/// logged only).
fn run_in(ws: &Workspace, name: &str, env: &[(&str, &str)]) -> Output {
    let data = ws.data().display().to_string();
    let mut env = env.to_vec();
    env.extend([("SKIFF_DATA_DIR", data.as_str()), ("SKIFF_LOG", "warn")]);
    // As the README runs it: from the repository's root (the tests' working directory), the
    // config named relatively, so relative paths in it resolve against `config/`.
    run_once(&Path::new("config").join(name), &env)
}

/// Runs the shipped config `name` on `lines` written to `logs/app.log`.
fn run_seed(name: &str, lines: &[&str]) -> Vec<String> {
    let ws = Workspace::new();
    let content: String = lines.iter().map(|l| format!("{l}\n")).collect();
    ws.write("logs/app.log", content);
    let input = format!("{}/*.log", ws.logs().display());
    let run = run_in(
        &ws,
        name,
        &[
            ("SKIFF_INPUT", input.as_str()),
            ("SKIFF_API_ADDRESS", "127.0.0.1:0"),
            ("POD_NAME", "web-7d9f8"),
            ("POD_NAMESPACE", "shop"),
        ],
    );
    assert!(!run.stderr.contains("ERROR"), "{}", run.stderr);
    masked_lines(&run)
}

#[test]
fn vector_log_adapter() {
    let out = run_seed(
        "vector-adapter.toml",
        &[
            "2026-11-26T04:00:00 INFO user logged in",
            "2026-11-26T04:00:05 ERROR payment failed: card declined",
            "2026-11-26T04:00:06.250 WARN fractional seconds do not fit the seed's format",
            "Thu Nov 26 04:00:07 UTC 2026 - Application log entry",
        ],
    );
    assert_eq!(
        out,
        [
            r#"{"timestamp":"2026-11-26T04:00:00.000Z","level":"INFO","message":"user logged in","kubernetes":{"namespace":"shop","pod_name":"web-7d9f8"}}"#,
            r#"{"timestamp":"2026-11-26T04:00:05.000Z","level":"ERROR","message":"payment failed: card declined","kubernetes":{"namespace":"shop","pod_name":"web-7d9f8"}}"#,
            r#"{"timestamp":"2026-11-26T04:00:06.250","level":"WARN","message":"fractional seconds do not fit the seed's format","_skiff_error":"timestamp field `timestamp` did not parse","kubernetes":{"namespace":"shop","pod_name":"web-7d9f8"}}"#,
            r#"{"timestamp":"Thu","level":"Nov","message":"26 04:00:07 UTC 2026 - Application log entry","_skiff_error":"timestamp field `timestamp` did not parse","kubernetes":{"namespace":"shop","pod_name":"web-7d9f8"}}"#,
        ]
    );
}

#[test]
fn fluent_bit_json_parser() {
    let out = run_seed(
        "fluent-bit-parse.toml",
        &[
            r#"{"timestamp":"2026-11-26T04:00:00.123","level":"INFO","message":"request handled","request_id":"9f2c4e1a7b3d5f60","latency_ms":42}"#,
            r#"{"timestamp":"2026-11-26T04:00:01.5","level":"WARN","message":"odd time"}"#,
            r#"{"level":"DEBUG","message":"no time","nested":{"user":{"id":7}}}"#,
            "not json at all",
        ],
    );
    assert_eq!(
        out,
        [
            r#"{"timestamp":"2026-11-26T04:00:00.123Z","level":"INFO","message":"request handled","request_id":"9f2c4e1a7b3d5f60","latency_ms":42}"#,
            r#"{"timestamp":"2026-11-26T04:00:01.5","level":"WARN","message":"odd time","_skiff_error":"timestamp field `timestamp` did not parse"}"#,
            r#"{"timestamp":"<read_at>","level":"DEBUG","message":"no time","nested":{"user":{"id":7}}}"#,
            r#"{"timestamp":"<read_at>","message":"not json at all","_skiff_error":"invalid JSON: syntax error at column 2"}"#,
        ]
    );
}

#[test]
fn seed_configs_validate() {
    for name in [
        "vector-adapter.toml",
        "fluent-bit-parse.toml",
        "quickstart.toml",
    ] {
        let path = config(name);
        let out = skiff(
            &["validate", "--config", path.to_str().unwrap()],
            &[("POD_NAME", "web-1"), ("POD_NAMESPACE", "shop")],
        );
        assert!(out.success(), "{name}: {}", out.stderr);
    }
}

/// The README's first command: the quick start parses the bundled sample, adds the pod's
/// metadata (defaults when the Downward API variables are unset), and a second run prints nothing
/// because the checkpoint says everything was delivered.
#[test]
fn quickstart_parses_the_sample_and_resumes_from_its_checkpoint() {
    let ws = Workspace::new();
    let first = masked_lines(&run_in(&ws, "quickstart.toml", &[]));
    let sample = std::fs::read_to_string(config("sample/app.log")).unwrap();
    assert_eq!(first.len(), sample.lines().count());
    assert_eq!(
        first[0],
        r#"{"timestamp":"2026-11-26T04:00:00.000Z","level":"INFO","message":"user database upstream request handled request_id=892f902bd23f0824 latency_ms=49","file":"config/sample/app.log","kubernetes":{"namespace":"default","pod_name":"quickstart"}}"#
    );
    let in_pod = masked_lines(&run_in(
        &Workspace::new(),
        "quickstart.toml",
        &[("POD_NAME", "web-1"), ("POD_NAMESPACE", "shop")],
    ));
    assert!(in_pod[0].ends_with(r#""kubernetes":{"namespace":"shop","pod_name":"web-1"}}"#));
    let again = masked_lines(&run_in(&ws, "quickstart.toml", &[]));
    assert!(again.is_empty(), "{again:?}");
}

/// The README's tour into Elasticsearch: the quick start's pipeline ships the sample to the
/// Elasticsearch-compatible test server, one document per line in the day's index, and a second
/// run ships nothing more.
#[test]
fn quickstart_into_elasticsearch_indexes_every_sample_line_once() {
    let server = EsServer::start(EsServerOptions::default());
    let ws = Workspace::new();
    let url = server.url();
    let env = [("ELASTICSEARCH_URL", url.as_str())];
    let run = run_in(&ws, "quickstart-elasticsearch.toml", &env);
    assert!(
        run.success() && !run.stderr.contains("ERROR"),
        "{}",
        run.stderr
    );
    let sample = std::fs::read_to_string(config("sample/app.log")).unwrap();
    let docs = server.docs("quickstart-2026.11.26");
    assert_eq!(docs.len(), sample.lines().count(), "{}", run.stderr);
    assert_eq!(docs[0].1["level"], "INFO");
    assert_eq!(docs[0].1["@timestamp"], "2026-11-26T04:00:00.000Z");
    assert_eq!(docs[0].1["kubernetes"]["pod_name"], "quickstart");
    run_in(&ws, "quickstart-elasticsearch.toml", &env);
    assert_eq!(server.total_docs(), sample.lines().count());
    assert_eq!(server.duplicates(), 0);
}
