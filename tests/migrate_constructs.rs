//! `skiff migrate` keeps the old agent's semantics, one construct at a time: each fixture under
//! `tests/fixtures/migrate/constructs/` is converted by the binary, validated, run on its sample
//! lines, and what each sink gets is compared with what the old agent's outputs get
//! (`expected.jsonl`, from the old agent's docs; `SOURCES.md` names the public pattern). Exit 0
//! only when the converted config does what the old one did.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::es_server::{EsServer, EsServerOptions};
use support::http_server::HttpServer;
use support::migrate_constructs::{convert, expected, Converted};
use support::skiff::{run_once, validate};

/// Converts, checks the exit code, validates, runs, and compares every sink's records.
fn faithful(name: &str, config: &str, code: i32) -> Converted {
    let c = convert(name, config, &[]);
    assert_eq!(
        c.migrate.code, code,
        "{name}: exit code\n{}",
        c.migrate.stderr
    );
    let config = c.runnable(false);
    let v = validate(&config);
    assert!(v.success(), "{name}: validate\n{}\n{}", v.stderr, v.stdout);
    assert_eq!(c.events(&config), expected(name, &c), "{name}");
    c
}

#[test]
fn fluent_bit_tags_expand_per_file_and_match_routes_by_them() {
    let c = faithful("fb-tag-expansion", "fluent-bit.conf", 0);
    let err = &c.migrate.stderr;
    assert!(!err.contains("receives nothing"), "{err}");
    // The filter whose Match fits no file of this input is a note, not a warning.
    assert!(
        err.contains("note:") && err.contains("matches no input's tag"),
        "{err}"
    );
    assert!(!err.contains("warning:"), "{err}");
}

#[test]
fn logstash_prefix_key_falls_back_to_the_prefix() {
    let server = EsServer::start(EsServerOptions::default());
    let port = server
        .url()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let c = convert(
        "fb-logstash-prefix-key",
        "fluent-bit.conf",
        &[("es_port", &port)],
    );
    assert_eq!(c.migrate.code, 0, "{}", c.migrate.stderr);
    assert!(c
        .migrate
        .stdout
        .contains("index = \"{{ kubernetes.namespace_name ?? fallback }}-%Y.%m.%d\""));
    let config = c.runnable(true);
    let out = run_once(&config, support::migrate::ENV);
    assert!(out.success(), "{}", out.stderr);
    assert!(server.wait_for_docs(2, Duration::from_secs(10)));
    let day = chrono::Utc::now().format("%Y.%m.%d");
    for want in expected("fb-logstash-prefix-key", &c) {
        let index = format!("{}-{day}", want["index"].as_str().unwrap());
        let docs = server.docs(&index);
        assert_eq!(docs.len(), 1, "{index}");
        assert_eq!(docs[0].1["msg"], want["msg"], "{index}");
    }
}

#[test]
fn a_config_whose_outputs_were_all_left_out_is_written_with_the_error_and_exits_2() {
    let c = convert("fb-outputs-left-out", "fluent-bit.conf", &[]);
    assert_eq!(c.migrate.code, 2, "{}", c.migrate.stderr);
    assert!(
        c.migrate.stderr.contains("ships nowhere"),
        "{}",
        c.migrate.stderr
    );
    assert!(
        c.migrate.stdout.contains("ships nowhere"),
        "{}",
        c.migrate.stdout
    );
    let config = c.ws.write("skiff.toml", &c.migrate.stdout);
    let v = validate(&config);
    assert!(
        !v.success(),
        "a config that ships nowhere must not validate"
    );
    assert!(expected("fb-outputs-left-out", &c).is_empty());
}

#[test]
fn vector_endpoints_without_a_scheme_and_sizes_out_of_bounds() {
    let c = faithful("vector-endpoint-and-sizes", "vector.toml", 2);
    assert!(c
        .migrate
        .stdout
        .contains("endpoints = [\"http://79.12.221.222:9200\"]"));
    assert!(c.migrate.stdout.contains("read_buffer = 4096"));
    assert!(c.migrate.stderr.contains("warning:") && c.migrate.stderr.contains("max_read_bytes"));
}

#[test]
fn vector_includes_in_a_routing_filter_keeps_the_route() {
    faithful("vector-includes-route", "vector.toml", 0);
}

#[test]
fn vector_regex_parser_and_json_parser() {
    faithful("vector-old-parsers", "vector.toml", 0);
}

#[test]
fn json_date_key_converts_and_an_epoch_date_format_is_a_warning() {
    let c = convert("fb-json-date", "fluent-bit.conf", &[]);
    assert_eq!(c.migrate.code, 2, "{}", c.migrate.stderr);
    assert!(c.migrate.stdout.contains("timestamp_key = \"time\""));
    assert!(
        c.migrate.stderr.contains("warning:") && c.migrate.stderr.contains("epoch seconds"),
        "{}",
        c.migrate.stderr
    );
    let config = c.runnable(false);
    assert_eq!(c.events(&config), expected("fb-json-date", &c));
}

#[test]
fn a_multiline_parser_of_the_config_keeps_its_rules() {
    // The parsers file is named through ${FLUENT_BIT_ETC}, as in the official image.
    let c = convert("fb-multiline-parser", "fluent-bit.conf", &[]);
    assert_eq!(c.migrate.code, 0, "{}", c.migrate.stderr);
    assert!(
        c.migrate.stdout.contains("rules = "),
        "{}",
        c.migrate.stdout
    );
    let config = c.runnable(false);
    assert!(validate(&config).success());
    assert_eq!(c.events(&config), expected("fb-multiline-parser", &c));
}

#[test]
fn merge_log_parses_the_json_in_log() {
    let c = convert("fb-merge-log", "fluent-bit.conf", &[]);
    assert_eq!(c.migrate.code, 0, "{}", c.migrate.stderr);
    let config = c.runnable(false);
    assert!(validate(&config).success());
    // The pod metadata comes from the Downward API in skiff, from the API server in Fluent
    // Bit: compared here is what Merge_Log does.
    let mut events = c.events(&config);
    for e in &mut events {
        e.as_object_mut().unwrap().remove("kubernetes");
    }
    assert_eq!(events, expected("fb-merge-log", &c));
}

#[test]
fn a_stock_parser_named_but_not_defined_runs_by_name() {
    let c = faithful("fb-stock-parser", "fluent-bit.conf", 0);
    assert!(
        c.migrate
            .stdout
            .contains("type = \"parse\"\ninputs = [\"nginx_access\"]\nparser = \"nginx\""),
        "{}",
        c.migrate.stdout
    );
}

/// The stock `docker` and `cri` parsers, named in a config whose parsers file is the image's:
/// every record's time is the container runtime's (nine fraction digits, `Z` or an offset), to
/// the millisecond, and `Time_Keep` keeps the original string.
#[test]
fn stock_docker_and_cri_parsers_give_the_runtimes_time() {
    let c = convert("fb-container-times", "fluent-bit.conf", &[]);
    assert_eq!(c.migrate.code, 0, "{}", c.migrate.stderr);
    let config = c.runnable(false);
    let run = run_once(&config, &[("SKIFF_LOG", "warn")]);
    assert!(run.success(), "{}", run.stderr);
    let mut times: Vec<(String, String)> = run
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["time"].as_str().unwrap().to_owned(),
                v["timestamp"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    times.sort();
    assert_eq!(
        times,
        [
            ("2026-11-28T10:15:32.123456789Z", "2026-11-28T10:15:32.123Z"),
            ("2026-11-28T10:15:32.9Z", "2026-11-28T10:15:32.900Z"),
            ("2026-11-28T10:15:33.987654321Z", "2026-11-28T10:15:33.987Z"),
            (
                "2026-11-28T12:15:34.000000001+02:00",
                "2026-11-28T10:15:34.000Z"
            ),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    // The fields, as Fluent Bit's stdout output prints them.
    faithful("fb-container-times", "fluent-bit.conf", 0);
}

/// JSON lines as records of sink `sink`: `time_key` (the event time) removed, `sink` added;
/// sorted as `expected` sorts.
fn records(lines: &[String], sink: &str, time_key: &str) -> Vec<Value> {
    let mut out: Vec<Value> = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let fields = v.as_object_mut().unwrap();
            assert!(fields.remove(time_key).is_some(), "no {time_key}: {l}");
            fields.insert("sink".into(), sink.into());
            v
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    out
}

/// The port of `server`, for a fixture's `{port}`.
fn port(server: &HttpServer) -> String {
    server.url().rsplit(':').next().unwrap().to_owned()
}

/// Runs the converted config once, its sinks as converted.
fn run_as_converted(c: &Converted) {
    let config = c.as_converted();
    let v = validate(&config);
    assert!(v.success(), "validate\n{}\n{}", v.stderr, v.stdout);
    let out = run_once(&config, support::migrate::ENV);
    assert!(out.success(), "{}", out.stderr);
}

#[test]
fn fluent_bit_file_output_writes_the_records_as_json_lines() {
    let c = convert("fb-file-output", "fluent-bit.conf", &[]);
    assert_eq!(c.migrate.code, 0, "{}", c.migrate.stderr);
    assert!(c.migrate.stdout.contains("type = \"file\""));
    run_as_converted(&c);
    let text = std::fs::read_to_string(c.ws.path("out/app.log")).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(
        records(&lines, "file", "timestamp"),
        expected("fb-file-output", &c)
    );
}

#[test]
fn fluent_bit_http_output_sends_json_lines_and_a_msgpack_default_is_a_warning() {
    let server = HttpServer::start();
    let c = convert(
        "fb-http-output",
        "fluent-bit.conf",
        &[("port", &port(&server))],
    );
    let (out, err) = (&c.migrate.stdout, &c.migrate.stderr);
    assert_eq!(c.migrate.code, 2, "{err}");
    assert!(err.contains("warning:") && err.contains("msgpack"), "{err}");
    assert!(out.contains("headers = { X-Tenant = \"shop\" }"), "{out}");
    assert!(out.contains("timestamp_key = \"time\""), "{out}");
    run_as_converted(&c);
    let mut got = Vec::new();
    for r in server.accepted() {
        let sink = match r.uri.as_str() {
            "/ingest" => {
                assert_eq!(r.header("x-tenant"), Some("shop"));
                assert_eq!(r.header("content-encoding"), Some("gzip"));
                got.extend(records(&r.lines(), "http", "time"));
                continue;
            }
            "/msgpack" => "legacy",
            other => panic!("request to {other}"),
        };
        got.extend(records(&r.lines(), sink, "timestamp"));
    }
    got.sort_by_key(|v| v.to_string());
    assert_eq!(got, expected("fb-http-output", &c));
}

#[test]
fn vector_http_sink_sends_ndjson_with_its_headers_and_token() {
    let server = HttpServer::start();
    let c = convert(
        "vector-http-sink",
        "vector.toml",
        &[("port", &port(&server))],
    );
    assert_eq!(c.migrate.code, 0, "{}", c.migrate.stderr);
    assert!(c.migrate.stdout.contains("encoding = \"ndjson\""));
    run_as_converted(&c);
    let mut got = Vec::new();
    for r in server.accepted() {
        assert_eq!(r.uri, "/logs");
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("authorization"), Some("Bearer s3cret"));
        assert_eq!(r.header("x-source"), Some("vector"));
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        got.extend(records(&r.lines(), "collector", "timestamp"));
    }
    got.sort_by_key(|v| v.to_string());
    assert_eq!(got, expected("vector-http-sink", &c));
}

#[test]
fn vector_file_sink_keeps_its_dated_path_and_gzip_is_a_warning() {
    let c = convert("vector-file-sink", "vector.toml", &[]);
    let err = &c.migrate.stderr;
    assert_eq!(c.migrate.code, 2, "{err}");
    assert!(
        err.contains("warning:") && err.contains("compression = gzip"),
        "{err}"
    );
    assert!(c.migrate.stdout.contains("/out/app-%Y-%m-%d.log\""));
    run_as_converted(&c);
    let day = chrono::Utc::now().format("%Y-%m-%d");
    let text = std::fs::read_to_string(c.ws.path(&format!("out/app-{day}.log"))).unwrap();
    assert_eq!(text, "one\ntwo\n");
}

#[test]
fn vector_clickhouse_sink_becomes_an_insert_over_http() {
    let server = HttpServer::start();
    let c = convert(
        "vector-clickhouse-sink",
        "vector.toml",
        &[("port", &port(&server))],
    );
    let (out, err) = (&c.migrate.stdout, &c.migrate.stderr);
    assert_eq!(c.migrate.code, 2, "{err}");
    assert!(err.contains("insert_random_shard"), "{err}");
    assert!(
        out.contains(
            "/?query=INSERT INTO logs.app FORMAT JSONEachRow&input_format_skip_unknown_fields=1\""
        ),
        "{out}"
    );
    run_as_converted(&c);
    let mut got = Vec::new();
    for r in server.accepted() {
        assert!(
            r.uri
                .contains("INSERT%20INTO%20logs.app%20FORMAT%20JSONEachRow"),
            "{}",
            r.uri
        );
        assert!(r
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic ")));
        got.extend(records(&r.lines(), "clickhouse", "timestamp"));
    }
    got.sort_by_key(|v| v.to_string());
    assert_eq!(got, expected("vector-clickhouse-sink", &c));
}
