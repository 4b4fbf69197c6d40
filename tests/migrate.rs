//! `skiff migrate` end to end: each fixture under `tests/fixtures/migrate/` is converted by the
//! real binary and compared with its golden output (`expected.toml`) and notes
//! (`expected.stderr`); unsupported constructs leave a comment and a warning; malformed inputs
//! fail with their line. Outputs are checked with `skiff validate` through the component types
//! that exist everywhere (file, console, blackhole); `tests/migrate_validate.rs` validates them
//! whole.
//!
//! Regenerate the golden files with `SKIFF_BLESS=1 cargo test --test migrate`, then review the
//! diff.

mod support;

use std::path::Path;

use support::compare::assert_golden;
use support::migrate::{input, local, migrated, run_events, CASES, ENV, FIXTURES};
use support::skiff::{skiff, Output};
use support::workspace::Workspace;

fn golden(case: &str, file: &str, code: i32) -> Output {
    let run = skiff(&["migrate", &input(case, file)], ENV);
    let dir = Path::new(FIXTURES).join(case);
    assert_golden(&dir.join("expected.toml"), &run.stdout);
    assert_golden(&dir.join("expected.stderr"), &run.stderr);
    assert_eq!(run.code, code, "{case}: exit code; stderr:\n{}", run.stderr);
    let parsed: Result<toml::Table, _> = toml::from_str(&run.stdout);
    assert!(parsed.is_ok(), "{case}: not TOML: {parsed:?}");
    run
}

#[test]
fn seed_fluent_bit_config() {
    golden("seed-fluent-bit", "fluent-bit.conf", 0);
}

#[test]
fn seed_vector_config() {
    golden("seed-vector", "vector.toml", 0);
}

#[test]
fn fluent_bit_tail_options_variables_and_includes() {
    let run = golden("fb-tail", "fluent-bit.conf", 2);
    assert!(run
        .stdout
        .contains("include = [\"/var/log/app/*.log\", \"/var/log/app/extra/*.txt\"]"));
    assert!(run.stdout.contains("max_line_bytes = \"1MB\""));
    assert!(run.stdout.contains("type = \"parse_cri\""));
}

#[test]
fn fluent_bit_parsers_and_the_parser_filter() {
    let run = golden("fb-parsers", "fluent-bit.conf", 2);
    assert!(run.stdout.contains(
        "format = \"%Y-%m-%d %H:%M:%S.%L\"\ndialect = \"fluentbit\"\ntimezone = \"+02:00\""
    ));
}

#[test]
fn fluent_bit_filters_and_routing_by_tag() {
    let run = golden("fb-filters", "fluent-bit.conf", 2);
    // The audit input matches only the modify filter; the app input all four.
    assert!(run
        .stdout
        .contains("[transforms.modify_audit]\ntype = \"add_fields\"\ninputs = [\"parse_json_2\"]"));
    assert!(run
        .stdout
        .contains("inputs = [\"grep\", \"modify_audit_4\"]"));
}

#[test]
fn fluent_bit_outputs_and_service() {
    let run = golden("fb-outputs", "fluent-bit.conf", 0);
    assert!(run
        .stdout
        .contains("endpoints = [\"https://es.example.com:443\"]"));
    assert!(run.stdout.contains("index = \"audit-100%%\""));
}

#[test]
fn fluent_bit_container_logs_kubernetes_and_more_outputs() {
    let run = golden("fb-containers", "fluent-bit.conf", 2);
    assert!(run
        .stdout
        .contains("index = \"{{ kubernetes.namespace_name ?? logstash }}-%Y.%m.%d\""));
}

#[test]
fn fluent_bit_yaml_config() {
    golden("fb-yaml", "fluent-bit.yaml", 2);
}

#[test]
fn a_lua_filter_is_commented_out_with_a_warning() {
    let run = golden("fb-lua", "fluent-bit.conf", 2);
    assert!(
        run.stderr.contains(
            "warning: tests/fixtures/migrate/fb-lua/fluent-bit.conf:11: [FILTER] lua: has no skiff equivalent"
        ),
        "{}",
        run.stderr
    );
    assert!(run
        .stdout
        .contains("# skiff migrate: [FILTER] lua (line 11): has no skiff equivalent; records go on without it\n#   [FILTER]\n"));
    assert!(run
        .stdout
        .contains("\n#       script /fluent-bit/scripts/enrich.lua\n"));
    // The filter after it still reads from the one before it.
    assert!(run
        .stdout
        .contains("[transforms.modify]\ntype = \"add_fields\"\ninputs = [\"parse_json\"]"));
}

#[test]
fn fluent_bit_constructs_without_equivalent() {
    let run = golden("fb-unsupported", "fluent-bit.conf", 2);
    for line in [
        "fluent-bit.conf:1: [INPUT] forward",
        "fluent-bit.conf:12: [PARSER] lookahead: the regex uses lookahead",
        "fluent-bit.conf:9: Ignore_Older 1d",
        "fluent-bit.conf:17: [FILTER] nest",
        "fluent-bit.conf:23: [FILTER] modify: conditional rules",
        "fluent-bit.conf:29: [OUTPUT] kafka",
    ] {
        assert!(
            run.stderr.contains(line),
            "missing {line:?} in\n{}",
            run.stderr
        );
    }
}

#[test]
fn vector_options() {
    golden("vector-full", "vector.toml", 2);
}

#[test]
fn vector_multiline_wildcard_inputs_targets_and_data_streams() {
    let run = golden("vector-more", "vector.toml", 0);
    assert!(run
        .stdout
        .contains("inputs = [\"app_audit\", \"app_multiline\"]"));
}

#[test]
fn vector_yaml_converts_like_toml() {
    let yaml = golden("vector-yaml", "vector.yaml", 0);
    let toml = migrated("seed-vector", "vector.toml");
    // Same components and keys; only the header's file name and the line numbers differ.
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(strip(&yaml.stdout), strip(&toml));
}

#[test]
fn a_vrl_if_block_is_commented_out_with_a_warning() {
    let run = golden("vector-if", "vector.toml", 2);
    assert!(
        run.stderr.contains(
            "warning: tests/fixtures/migrate/vector-if/vector.toml:10: VRL `if .level == \"debug\" {`: conditional blocks (`if`) have no skiff equivalent; left out"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains(
        "# skiff migrate: VRL `if .level == \"debug\" {` (line 10): conditional blocks (`if`) have no skiff equivalent; left out\n#   if .level == \"debug\" {\n#     abort\n#   }\n"
    ));
    // The statements around it are kept.
    assert!(run.stdout.contains("fields = { processed = true }"));
}

#[test]
fn malformed_inputs_fail_with_their_line() {
    let run = skiff(&["migrate", &input("fb-malformed", "fluent-bit.conf")], ENV);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "skiff: tests/fixtures/migrate/fb-malformed/fluent-bit.conf:4: section header `[INPUT` lacks its closing `]`\n"
    );
    assert!(run.stdout.is_empty());
    let run = skiff(&["migrate", &input("vector-malformed", "vector.toml")], ENV);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "skiff: tests/fixtures/migrate/vector-malformed/vector.toml:10: [transforms.parse] VRL: unterminated string: expected a closing `\"`\n"
    );
    let ws = Workspace::new();
    for (name, text, line) in [
        (
            "bad.toml",
            "[sources.a]\ntype = \"file\"\ninclude = [\n",
            ":3:",
        ),
        (
            "bad.yaml",
            "sources:\n  a:\n    type: file\n   include: x\n",
            ":4:",
        ),
        ("bad.conf", "[INPUT]\n    Name tail\n    Path\n", ":3:"),
    ] {
        let path = ws.write(name, text);
        let run = skiff(&["migrate", path.to_str().unwrap()], ENV);
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(line), "{name}: {}", run.stderr);
    }
}

#[test]
fn output_file_and_forced_format() {
    let ws = Workspace::new();
    let seed = std::fs::read_to_string(input("seed-vector", "vector.toml")).unwrap();
    // No extension: the format is told by --from.
    let path = ws.write("config", &seed);
    let out = ws.path("skiff.toml");
    let run = skiff(
        &[
            "migrate",
            path.to_str().unwrap(),
            "--from",
            "vector",
            "-o",
            out.to_str().unwrap(),
        ],
        ENV,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.contains("[transforms.enrich]\ntype = \"add_fields\""),
        "{written}"
    );
    // Text that is neither tool's config.
    let path = ws.write("notes", "hello\n");
    let run = skiff(&["migrate", path.to_str().unwrap()], ENV);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("pass --from fluent-bit or --from vector"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_config_without_a_file_input_is_an_error() {
    let ws = Workspace::new();
    let path = ws.write(
        "fb.conf",
        "[INPUT]\n    Name dummy\n[OUTPUT]\n    Name stdout\n    Match *\n",
    );
    let run = skiff(&["migrate", path.to_str().unwrap()], ENV);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("fb.conf:1: [INPUT] dummy: skiff reads files only"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing to run"), "{}", run.stderr);
}

/// Keeps what `skiff validate` knows on every branch: sources, console and blackhole sinks
/// (elasticsearch sinks become console sinks), each sink reading the sources directly.
fn existing_parts(text: &str) -> String {
    let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
    doc.remove("transforms");
    let sources: Vec<String> = doc["sources"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(k, _)| k.to_owned())
        .collect();
    if let Some(sinks) = doc.get_mut("sinks").and_then(|s| s.as_table_mut()) {
        for (_, sink) in sinks.iter_mut() {
            let sink = sink.as_table_mut().unwrap();
            if sink["type"].as_str() == Some("elasticsearch") {
                sink.clear();
                sink["type"] = toml_edit::value("console");
            }
            let mut inputs = toml_edit::Array::new();
            for s in &sources {
                inputs.push(s.as_str());
            }
            sink["inputs"] = toml_edit::value(inputs);
        }
    }
    doc.to_string()
}

#[test]
fn outputs_validate_through_the_component_types_that_exist() {
    let ws = Workspace::new();
    for (case, file, _) in CASES {
        let text = existing_parts(&migrated(case, file));
        let path = ws.write(&format!("{case}.toml"), &text);
        let run = skiff(&["validate", "--config", path.to_str().unwrap()], ENV);
        assert_eq!(run.code, 0, "{case}:\n{}\n{text}", run.stderr);
    }
}

#[test]
fn a_converted_pipeline_runs() {
    let ws = Workspace::new();
    ws.write("logs/app.log", "first line\nsecond line\n");
    let vector = "[sources.app]\ntype = \"file\"\ninclude = [\"/var/log/app/*.log\"]\n\n\
                  [sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\nencoding.codec = \"json\"\n";
    let input = ws.write("vector.toml", vector);
    let run = skiff(&["migrate", input.to_str().unwrap()], ENV);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = local(&run.stdout, &ws.logs(), &ws.data());
    let events = run_events(&ws.write("skiff.toml", &config));
    let messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["first line", "second line"]);
}

#[test]
fn the_docs_show_the_seed_conversions_exactly() {
    let docs = std::fs::read_to_string("docs/migrate.md").unwrap();
    for (case, inputs) in [
        ("seed-fluent-bit", &["fluent-bit.conf", "parsers.conf"][..]),
        ("seed-vector", &["vector.toml"][..]),
    ] {
        let dir = Path::new(FIXTURES).join(case);
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        for f in inputs {
            assert!(docs.contains(&format!("\n{}```\n", read(f))), "{case}/{f}");
        }
        assert!(
            docs.contains(&format!("```toml\n{}```\n", read("expected.toml"))),
            "{case} output"
        );
        let stderr = read("expected.stderr").replace(&format!("{FIXTURES}/{case}/"), "");
        assert!(
            docs.contains(&format!("```\n{stderr}```\n")),
            "{case} notes"
        );
    }
}
