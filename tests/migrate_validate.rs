//! `skiff migrate` output, checked with the whole of skiff: every golden output passes
//! `skiff validate`, and the seed configs, converted, process sample lines exactly as the
//! hand-written configs of the same pipelines do (`config/vector-adapter.toml`,
//! `config/fluent-bit-parse.toml`), compared on the console sink's output. Elasticsearch sinks
//! are swapped for console sinks so the comparison covers the pipeline up to the sink.
//!
//! These tests need every component type the converter emits (parsers, field transforms,
//! filter, elasticsearch), so they pass once those exist in the build.

mod support;

use support::migrate::{local, migrated, run_events, CASES, ENV};
use support::skiff::skiff;
use support::workspace::Workspace;
use toml_edit::{DocumentMut, Item};

/// Removes `tls` file settings: the fixtures name certificate files of the machine they came
/// from, which a validating sink may want to read.
fn without_tls_files(doc: &mut DocumentMut) {
    if let Some(sinks) = doc.get_mut("sinks").and_then(Item::as_table_like_mut) {
        for (_, sink) in sinks.iter_mut() {
            if let Some(tls) = sink.get_mut("tls").and_then(Item::as_table_like_mut) {
                for key in ["ca_file", "crt_file", "key_file"] {
                    tls.remove(key);
                }
            }
        }
    }
}

#[test]
fn every_migrated_config_passes_validate() {
    let ws = Workspace::new();
    for (case, file, _) in CASES {
        let mut doc: DocumentMut = migrated(case, file).parse().unwrap();
        without_tls_files(&mut doc);
        let path = ws.write(&format!("{case}.toml"), doc.to_string());
        let run = skiff(&["validate", "--config", path.to_str().unwrap()], ENV);
        assert_eq!(run.code, 0, "{case}: {}\n{doc}", run.stderr);
    }
}

/// Converts the seed `case`, runs it and the hand-written `reference` on `lines`, and
/// compares what they print.
fn same_output(case: &str, file: &str, reference: &str, lines: &str) {
    let ws = Workspace::new();
    ws.write("logs/app.log", lines);
    let converted = local(&migrated(case, file), &ws.logs(), &ws.path("data-migrated"));
    let reference_text = std::fs::read_to_string(reference)
        .unwrap_or_else(|e| panic!("cannot read the hand-written {reference}: {e}"));
    let expected = local(&reference_text, &ws.logs(), &ws.path("data-reference"));
    let mut got = run_events(&ws.write("migrated.toml", &converted));
    let mut want = run_events(&ws.write("reference.toml", &expected));
    if case == "seed-vector" {
        // VRL's `. = parse_regex!(..)` replaces the whole event; the converted config keeps the
        // file source's path field and says so in a note (the hand-written one drops it with
        // `file_key = ""`). Everything else must be the same.
        for event in got.iter_mut().chain(want.iter_mut()) {
            if let Some(o) = event.as_object_mut() {
                o.remove("file");
            }
        }
    }
    assert_eq!(want.len(), lines.lines().count(), "{want:?}");
    assert_eq!(got, want, "migrated:\n{converted}\nreference:\n{expected}");
}

#[test]
fn the_converted_vector_adapter_matches_the_hand_written_one() {
    same_output(
        "seed-vector",
        "vector.toml",
        "config/vector-adapter.toml",
        "2024-05-01T10:00:00 INFO service started\n\
         2024-05-01T10:00:01 WARN cache miss ratio 0.4\n\
         2024-05-01T10:00:02 ERROR payment failed: card declined\n\
         not a log line\n",
    );
}

#[test]
fn the_converted_fluent_bit_pipeline_matches_the_hand_written_one() {
    same_output(
        "seed-fluent-bit",
        "fluent-bit.conf",
        "config/fluent-bit-parse.toml",
        "{\"timestamp\":\"2024-05-01T10:00:00.123\",\"level\":\"info\",\"message\":\"started\",\"user\":\"ada\"}\n\
         {\"timestamp\":\"2024-05-01T10:00:01.456\",\"level\":\"error\",\"message\":\"failed\",\"code\":502}\n\
         {\"level\":\"debug\",\"message\":\"no time here\"}\n\
         not json\n",
    );
}
