//! Golden tests: each transform, through the real binary (`run --once`), from input lines to the
//! exact JSON lines on stdout.

mod support;

use support::compare::masked_lines;
use support::skiff::{run_once, validate, Output};
use support::workspace::{pipeline, Workspace};

/// Runs `config` (a [`pipeline`]) on `content` in `logs/app.log`.
fn run(config: &str, content: &str, env: &[(&str, &str)]) -> Output {
    let ws = Workspace::new();
    ws.write("logs/app.log", content);
    run_once(&ws.config(config), env)
}

/// Runs `transforms` on `input` lines and checks stdout against `expected`.
fn golden(transforms: &str, input: &[&str], expected: &[&str]) {
    golden_env(transforms, input, &[], expected);
}

fn golden_env(transforms: &str, input: &[&str], env: &[(&str, &str)], expected: &[&str]) {
    let content: String = input.iter().map(|l| format!("{l}\n")).collect();
    let run = run(&pipeline(transforms), &content, env);
    assert_eq!(masked_lines(&run), expected, "stderr:\n{}", run.stderr);
}

#[test]
fn parse_json() {
    golden(
        r#"
[transforms.last]
type = "parse_json"
inputs = ["in"]
timestamp = { field = "timestamp", format = "%Y-%m-%dT%H:%M:%S%.3f" }
"#,
        &[
            r#"{"timestamp":"2026-11-26T04:00:00.123","level":"INFO","message":"request handled","latency_ms":42}"#,
            r#"{"level":"WARN","msg":"caf\u00e9","tags":["a","b"],"ok":true,"ratio":0.5}"#,
            "plain text",
        ],
        &[
            r#"{"timestamp":"2026-11-26T04:00:00.123Z","level":"INFO","message":"request handled","latency_ms":42}"#,
            r#"{"timestamp":"<read_at>","level":"WARN","msg":"café","tags":["a","b"],"ok":true,"ratio":0.5}"#,
            r#"{"timestamp":"<read_at>","message":"plain text","_skiff_error":"invalid JSON: syntax error at column 1"}"#,
        ],
    );
}

#[test]
fn parse_regex() {
    golden(
        r#"
[transforms.last]
type = "parse_regex"
inputs = ["in"]
patterns = ['^(?P<timestamp>\S+) (?P<level>\S+) (?P<message>.*) latency_ms=(?P<latency_ms>\d+)$', '^(?P<timestamp>\S+) (?P<level>\S+) (?P<message>.*)$']
types = { latency_ms = "int" }
timestamp = { format = "%Y-%m-%dT%H:%M:%S%.3f" }
on_error = "drop"
"#,
        &[
            "2026-11-26T04:00:00.123 INFO request handled latency_ms=42",
            "2026-11-26T04:00:01.000 WARN cache miss",
            "unstructured",
        ],
        &[
            r#"{"timestamp":"2026-11-26T04:00:00.123Z","level":"INFO","message":"request handled","latency_ms":42}"#,
            r#"{"timestamp":"2026-11-26T04:00:01.000Z","level":"WARN","message":"cache miss"}"#,
        ],
    );
}

#[test]
fn parse_logfmt() {
    golden(
        r#"
[transforms.last]
type = "parse_logfmt"
inputs = ["in"]
types = { latency_ms = "int" }
target = "fields"
keep_source = true
"#,
        &[r#"level=info msg="request \"handled\"" latency_ms=42 cached"#],
        &[
            r#"{"timestamp":"<read_at>","message":"level=info msg=\"request \\\"handled\\\"\" latency_ms=42 cached","fields":{"level":"info","msg":"request \"handled\"","latency_ms":42,"cached":true}}"#,
        ],
    );
}

#[test]
fn parse_cri_joins_partial_lines() {
    golden(
        r#"
[transforms.last]
type = "parse_cri"
inputs = ["in"]
"#,
        &[
            "2026-11-26T04:00:00.000000001Z stdout F first",
            "2026-11-26T04:00:01.5Z stderr P a long line, ",
            "2026-11-26T04:00:01.6Z stdout F interleaved",
            "2026-11-26T04:00:01.7Z stderr F continued",
        ],
        &[
            r#"{"timestamp":"2026-11-26T04:00:00.000Z","message":"first","stream":"stdout"}"#,
            r#"{"timestamp":"2026-11-26T04:00:01.600Z","message":"interleaved","stream":"stdout"}"#,
            r#"{"timestamp":"2026-11-26T04:00:01.500Z","message":"a long line, continued","stream":"stderr"}"#,
        ],
    );
}

#[test]
fn parse_docker_joins_split_entries() {
    golden(
        r#"
[transforms.last]
type = "parse_docker"
inputs = ["in"]
"#,
        &[
            r#"{"log":"hello\n","stream":"stdout","time":"2026-11-26T04:00:00.123456789Z"}"#,
            r#"{"log":"part 1 ","stream":"stdout","time":"2026-11-26T04:00:01Z"}"#,
            r#"{"log":"part 2\n","stream":"stdout","time":"2026-11-26T04:00:02Z"}"#,
        ],
        &[
            r#"{"timestamp":"2026-11-26T04:00:00.123Z","message":"hello","stream":"stdout"}"#,
            r#"{"timestamp":"2026-11-26T04:00:01.000Z","message":"part 1 part 2","stream":"stdout"}"#,
        ],
    );
}

#[test]
fn multiline_joins_stack_traces() {
    golden(
        r#"
[transforms.last]
type = "multiline"
inputs = ["in"]
mode = "continuation"
continuation_pattern = '^\s+at |^Caused by'
"#,
        &[
            "2026-11-26T04:00:00 ERROR request failed",
            "java.lang.IllegalStateException: boom",
            "    at shop.Cart.add(Cart.java:42)",
            "Caused by: java.io.IOException",
            "    at shop.Db.read(Db.java:7)",
            "2026-11-26T04:00:01 INFO recovered",
        ],
        &[
            r#"{"timestamp":"<read_at>","message":"2026-11-26T04:00:00 ERROR request failed"}"#,
            r#"{"timestamp":"<read_at>","message":"java.lang.IllegalStateException: boom\n    at shop.Cart.add(Cart.java:42)\nCaused by: java.io.IOException\n    at shop.Db.read(Db.java:7)"}"#,
            r#"{"timestamp":"<read_at>","message":"2026-11-26T04:00:01 INFO recovered"}"#,
        ],
    );
}

#[test]
fn parse_timestamp() {
    // `local` with a POSIX rule in TZ: daylight saving time without zoneinfo files.
    golden_env(
        r#"
[transforms.fields]
type = "parse_regex"
inputs = ["in"]
pattern = '^(?P<time>\w+ +\d+ [\d:]+) (?P<message>.*)$'

[transforms.last]
type = "parse_timestamp"
inputs = ["fields"]
field = "time"
formats = ["%d/%m/%Y %H:%M", "rfc3164"]
timezone = "local"
keep = false
"#,
        &[
            "Jul  4 10:00:00 summer",
            "Jan 15 10:00:00 winter",
            "Foo 1 00:00:00 bad",
        ],
        &[("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")],
        &[
            &format!(
                r#"{{"timestamp":"{}-07-04T08:00:00.000Z","message":"summer"}}"#,
                year_near("07-04T08:00:00")
            ),
            &format!(
                r#"{{"timestamp":"{}-01-15T09:00:00.000Z","message":"winter"}}"#,
                year_near("01-15T09:00:00")
            ),
            r#"{"timestamp":"<read_at>","time":"Foo 1 00:00:00","message":"bad","_skiff_error":"timestamp field `time` did not parse"}"#,
        ],
    );
}

/// The year a syslog date without a year is given: the latest that puts it at most an hour
/// after now. `utc` is the date and time it stands for in UTC, without the year.
fn year_near(utc: &str) -> i32 {
    use chrono::{DateTime, Datelike, Duration, Utc};
    let limit = Utc::now() + Duration::hours(1);
    (limit.year() - 8..=limit.year() + 1)
        .rev()
        .find(|y| {
            DateTime::parse_from_rfc3339(&format!("{y}-{utc}Z")).is_ok_and(|t| t.to_utc() <= limit)
        })
        .unwrap()
}

#[test]
fn add_rename_remove_fields() {
    golden_env(
        r#"
[transforms.add]
type = "add_fields"
inputs = ["in"]
fields = { "kubernetes.pod_name" = "${POD_NAME}", env = "prod", copy = "{{ message }}-x", retries = 3 }

[transforms.rename]
type = "rename_fields"
inputs = ["add"]
fields = { copy = "labels.copy" }

[transforms.last]
type = "remove_fields"
inputs = ["rename"]
fields = ["retries"]
"#,
        &["hello"],
        &[("POD_NAME", "web-1")],
        &[
            r#"{"timestamp":"<read_at>","message":"hello","env":"prod","kubernetes":{"pod_name":"web-1"},"labels":{"copy":"hello-x"}}"#,
        ],
    );
}

#[test]
fn filter() {
    golden(
        r#"
[transforms.fields]
type = "parse_logfmt"
inputs = ["in"]

[transforms.last]
type = "filter"
inputs = ["fields"]
mode = "drop"
match = "any"
conditions = [{ field = "level", equals = "debug" }, { field = "path", matches = "^/health" }]
"#,
        &[
            "level=debug msg=a",
            "level=info path=/healthz",
            "level=info path=/cart",
            "level=warn",
        ],
        &[
            r#"{"timestamp":"<read_at>","level":"info","path":"/cart"}"#,
            r#"{"timestamp":"<read_at>","level":"warn"}"#,
        ],
    );
}

#[test]
fn kubernetes_metadata() {
    let ws = Workspace::new();
    let labels = ws.write(
        "labels",
        "app.kubernetes.io/name=\"shop\"\ntier=\"front \\\"end\\\" \\u2713\"\n",
    );
    golden_env(
        &format!(
            r#"
[transforms.last]
type = "kubernetes"
inputs = ["in"]
labels_file = "{}"
"#,
            labels.display()
        ),
        &["hello"],
        &[
            ("POD_NAME", "web-1"),
            ("POD_NAMESPACE", "shop"),
            ("NODE_NAME", "node-a"),
        ],
        &[
            r#"{"timestamp":"<read_at>","message":"hello","kubernetes":{"pod_name":"web-1","namespace":"shop","node_name":"node-a","labels":{"app.kubernetes.io/name":"shop","tier":"front \"end\" ✓"}}}"#,
        ],
    );
}

#[test]
fn invalid_transform_config_names_the_place() {
    let ws = Workspace::new();
    let config = ws.config(&pipeline(
        r#"
[transforms.last]
type = "parse_regex"
inputs = ["in"]
pattern = '(?P<unclosed'
"#,
    ));
    let out = validate(&config);
    assert!(!out.success());
    let stderr = out.stderr;
    assert!(
        stderr.contains("skiff.toml:15:1: transforms.last.pattern: invalid regex"),
        "{stderr}"
    );
}

/// A parallel stage encodes for its sink when the sink is its only consumer, and leaves the
/// encoding to each sink otherwise: both give the same lines, in file order, over many batches.
#[test]
fn encoding_ahead_of_the_sink_keeps_order_and_output() {
    let transforms = r#"
[transforms.parse]
type = "parse_json"
inputs = ["in"]
[transforms.last]
type = "add_fields"
inputs = ["parse"]
fields = { "kubernetes.pod_name" = "p" }
"#;
    let content: String = (0..20_000)
        .map(|i| format!("{{\"n\":{i},\"msg\":\"line {i} \\\"quoted\\\"\"}}\n"))
        .collect();
    // Small reads: many batches, spread over the workers.
    let sole =
        pipeline(transforms).replace("file_key = \"\"", "file_key = \"\"\nread_buffer = \"4KiB\"");
    let shared = format!("{sole}\n[sinks.other]\ntype = \"blackhole\"\ninputs = [\"last\"]\n");
    let encoded_run = run(&sole, &content, &[]);
    let encoded = masked_lines(&encoded_run);
    let by_sink = run(&shared, &content, &[]);
    assert_eq!(encoded.len(), 20_000, "stderr:\n{}", encoded_run.stderr);
    for (i, line) in encoded.iter().enumerate() {
        let expected = format!(
            r#"{{"timestamp":"<read_at>","n":{i},"msg":"line {i} \"quoted\"","kubernetes":{{"pod_name":"p"}}}}"#
        );
        assert_eq!(line, &expected);
    }
    assert_eq!(
        encoded,
        masked_lines(&by_sink),
        "stderr:\n{}",
        by_sink.stderr
    );
}
