//! Config errors through the binary: each message names the file, line, column and TOML path.

mod support;

use support::skiff::{command, output, Output};
use support::workspace::Workspace;

fn validate(body: &str) -> Output {
    let ws = Workspace::new();
    let mut cmd = command();
    cmd.args(["validate", "--config"])
        .arg(ws.config(body))
        .env_remove("SKIFF_UNSET_VAR");
    output(cmd)
}

/// `skiff run --once` on `body`.
fn run_config(body: &str) -> Output {
    let ws = Workspace::new();
    let mut cmd = command();
    cmd.args(["run", "--once", "--config"]).arg(ws.config(body));
    output(cmd)
}

const BASE: &str = r#"data_dir = "/tmp/x"
[sources.app]
type = "file"
include = ["/var/log/app/*.log"]
"#;

fn assert_error(body: &str, place: &str, words: &[&str]) {
    let out = validate(body);
    let err = &out.stderr;
    assert_eq!(out.code, 1, "{err}");
    assert!(err.contains(place), "expected {place:?} in:\n{err}");
    for w in words {
        assert!(err.contains(w), "expected {w:?} in:\n{err}");
    }
}

#[test]
fn valid_config_prints_a_summary() {
    let out = validate(&format!(
        "{BASE}[sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n"
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let summary = &out.stdout;
    assert!(
        summary.contains("1 source(s) [app: file]") && summary.contains("1 sink(s) [out: console]"),
        "{summary}"
    );
}

#[test]
fn unknown_key_lists_valid_ones() {
    assert_error(
        &format!("{BASE}[sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\nencodng = \"json\"\n"),
        "skiff.toml:8:1: sinks.out.encodng",
        &["unknown field `encodng`", "expected one of", "`encoding`"],
    );
}

#[test]
fn bad_duration_names_the_key() {
    assert_error(
        &format!("{BASE}glob_interval = \"5 parsecs\"\n[sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n"),
        "skiff.toml:5:1: sources.app.glob_interval",
        &["invalid duration"],
    );
}

#[test]
fn bad_size_in_nested_table() {
    assert_error(
        "[sources.app]\ntype = \"file\"\ninclude = [\"/x\"]\nmax_line_bytes = \"lots\"\n[sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n",
        "skiff.toml:4:1: sources.app.max_line_bytes",
        &["invalid size"],
    );
}

#[test]
fn unset_variable_is_named() {
    assert_error(
        &format!("{BASE}[sinks.out]\ntype = \"console\"\ninputs = [\"${{SKIFF_UNSET_VAR}}\"]\n"),
        "skiff.toml:7:12",
        &["`SKIFF_UNSET_VAR` is not set"],
    );
}

#[test]
fn unknown_input_is_named() {
    assert_error(
        &format!("{BASE}[sinks.out]\ntype = \"console\"\ninputs = [\"ap\"]\n"),
        "skiff.toml:7:11: sinks.out.inputs.0",
        &["unknown input `ap`", "app"],
    );
}

#[test]
fn cycle_is_reported() {
    // Transforms are needed for a cycle; none is registered yet in this test's eyes, so use
    // sinks reading sinks, which is reported as its own error, and a self-loop.
    assert_error(
        &format!("{BASE}[sinks.a]\ntype = \"console\"\ninputs = [\"b\"]\n[sinks.b]\ntype = \"console\"\ninputs = [\"a\"]\n"),
        "sinks.a.inputs.0",
        &["`b` is a sink"],
    );
}

#[test]
fn unknown_type_lists_types() {
    assert_error(
        &format!("{BASE}[sinks.out]\ntype = \"consol\"\ninputs = [\"app\"]\n"),
        "skiff.toml:6:1: sinks.out.type",
        &["unknown type `consol`", "console"],
    );
}

#[test]
fn missing_inputs_is_an_error() {
    assert_error(
        &format!("{BASE}[sinks.out]\ntype = \"console\"\n"),
        "sinks.out",
        &["missing `inputs`"],
    );
}

#[test]
fn toml_syntax_error_has_position() {
    assert_error("[sources.app\ntype = 1\n", "skiff.toml:1:", &[]);
}

#[test]
fn missing_file_is_clear() {
    let out = support::skiff::validate(std::path::Path::new("/nonexistent/skiff.toml"));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("cannot read config file /nonexistent/skiff.toml"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_source_that_reaches_no_sink_cannot_start() {
    // Read, dropped and checkpointed as delivered: logs lost by configuration.
    assert_error(
        &format!("{BASE}[sources.unused]\ntype = \"file\"\ninclude = [\"/y\"]\n[sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n"),
        "skiff.toml:5:10: sources.unused",
        &["the events of source `unused` reach no sink", "blackhole"],
    );
    // Through a transform that feeds nothing, and with no sink at all.
    assert_error(
        &format!("{BASE}[transforms.p]\ntype = \"parse_json\"\ninputs = [\"app\"]\n"),
        "sources.app",
        &["reach no sink"],
    );
    assert_error(BASE, "sources.app", &["reach no sink"]);
    let out = run_config(&format!(
        "{BASE}[transforms.p]\ntype = \"parse_json\"\ninputs = [\"app\"]\n"
    ));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("reach no sink"), "{}", out.stderr);
}

#[test]
fn a_transform_that_feeds_nothing_is_a_warning() {
    let out = validate(&format!("{BASE}[transforms.dead]\ntype = \"parse_json\"\ninputs = [\"app\"]\n[sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n"));
    let err = &out.stderr;
    assert_eq!(out.code, 0, "{err}");
    assert!(
        err.contains("warning: [transforms.dead] feeds nothing"),
        "{err}"
    );
}

#[test]
fn blackhole_drops_on_purpose() {
    let out = validate(&format!(
        "{BASE}[sinks.drop]\ntype = \"blackhole\"\ninputs = [\"app\"]\n"
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
}
