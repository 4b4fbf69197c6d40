//! Fuzzing with a budget: the inputs skiff reads from outside, generated at random (config-like
//! pieces mixed with arbitrary text), must give a result or an error, never a panic.
//!
//! Targets: the config loader (interpolation, TOML, every component table), Fluent Bit (Onigmo)
//! regexes translated to Rust, time formats in both dialects and the times they read, and the
//! Elasticsearch `_bulk` response classifier. The transforms' own property tests (every parser
//! on arbitrary lines, `src/transforms/proptests.rs`) and `tests/migrate_props.rs` (the Fluent
//! Bit and Vector readers) take the same budget.
//!
//! The budget is `SKIFF_FUZZ_CASES` cases per target (256 by default, for CI). `ci/fuzz.sh`
//! runs each target for minutes with a budget no run reaches. A failure is shrunk to its
//! smallest input and kept in `tests/fuzz.proptest-regressions`, replayed first on every run.

use std::path::Path;

use proptest::prelude::*;
use skiff::dialect::onigmo;
use skiff::sinks::elasticsearch::response::{classify, Verdict};
use skiff::time::{Dialect, TimestampParser};

fn cases() -> u32 {
    std::env::var("SKIFF_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Text made of `pieces` and arbitrary characters, joined by `sep`.
fn made_of(pieces: &'static [&'static str], sep: &'static str) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(pieces).prop_map(str::to_owned),
        1 => "\\PC{0,6}",
        1 => any::<String>().prop_map(|s| s.chars().take(8).collect()),
    ];
    prop::collection::vec(piece, 0..24).prop_map(move |v| v.join(sep))
}

const CONFIG_PIECES: &[&str] = &[
    "[sources.app]",
    "[sources.b]",
    "[transforms.p]",
    "[transforms.q]",
    "[sinks.out]",
    "[sinks.es]",
    "[api]",
    "[log]",
    "type = \"file\"",
    "type = \"console\"",
    "type = \"elasticsearch\"",
    "type = \"blackhole\"",
    "type = \"parse\"",
    "type = \"parse_json\"",
    "type = \"parse_regex\"",
    "type = \"parse_logfmt\"",
    "type = \"multiline\"",
    "type = \"parse_timestamp\"",
    "type = \"add_fields\"",
    "type = \"filter\"",
    "type = \"kubernetes\"",
    "include = [\"/tmp/skiff-fuzz-none/*.log\"]",
    "inputs = [\"app\"]",
    "inputs = [\"p\"]",
    "inputs = [\"p\", \"q\"]",
    "parser = \"nginx\"",
    "parser = \"go\"",
    "pattern = '^(?P<a>\\S+) (?P<b>.*)$'",
    "pattern = '(?<x'",
    "timestamp = { format = \"%Y-%m-%dT%H:%M:%S%.3f\" }",
    "timestamp = { format = \"%d/%b/%Y:%H:%M:%S %z\", dialect = \"fluentbit\" }",
    "timezone = \"America/New_York\"",
    "endpoints = [\"http://127.0.0.1:9\"]",
    "index = \"logs-%Y.%m.%d\"",
    "index = \"{{ kubernetes.namespace }}\"",
    "fields = { a = \"1\", \"b.c\" = \"${POD_NAME}\" }",
    "condition = { field = \"level\", equals = \"ERROR\" }",
    "batch = { max_events = 0, timeout = \"1ms\" }",
    "max_line_bytes = \"1KiB\"",
    "read_buffer = \"-1\"",
    "data_dir = \"${SKIFF_FUZZ_DIR:-/tmp/skiff-fuzz}\"",
    "shutdown_timeout = \"5s\"",
    "level = \"warning\"",
    "enabled = false",
    "${A}",
    "${A:-b}",
    "$${A}",
    "${",
    "= = =",
    "[[x]]",
    "\"",
    "'",
    "#",
];

const ONIGMO_PIECES: &[&str] = &[
    "^",
    "$",
    "(?<name>",
    "(?<a_b>",
    "(?:",
    "(?=",
    "(?!",
    "(?<=",
    "(?i)",
    "(?m)",
    "(?x)",
    ")",
    "[^ ]*",
    "[a-z]",
    "[[:alpha:]]",
    "[^\\]]",
    "[&&]",
    "\\d",
    "\\h",
    "\\H",
    "\\s",
    "\\S",
    "\\w",
    "\\<",
    "\\>",
    "\\A",
    "\\z",
    "\\Z",
    "\\G",
    "\\k<name>",
    "\\1",
    "\\x41",
    "\\u0041",
    "\\p{Alpha}",
    ".*",
    ".+?",
    "*+",
    "{2,3}",
    "{,3}",
    "|",
    "/",
    " ",
    "-",
];

const TIME_FORMAT_PIECES: &[&str] = &[
    "%Y", "%y", "%m", "%d", "%e", "%H", "%I", "%M", "%S", "%L", "%f", "%.f", "%.3f", "%z", "%Z",
    "%:z", "%b", "%B", "%a", "%A", "%p", "%j", "%s", "%T", "%D", "%F", "%R", "%c", "%%", "%", "%E",
    "%O", "-", ":", "/", " ", "T", ".", ",",
];

const TIME_PIECES: &[&str] = &[
    "2026",
    "26",
    "12",
    "02",
    "31",
    "60",
    "99",
    "23",
    "59",
    "Feb",
    "February",
    "Mon",
    "AM",
    "PM",
    "Z",
    "+0200",
    "+02:00",
    "+02",
    "-1130",
    "UTC",
    ".",
    ".1",
    ".123456789",
    "1764000000",
    "-",
    ":",
    "/",
    " ",
    "T",
];

const BULK_PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"took\":1",
    "\"errors\":true",
    "\"errors\":false",
    "\"items\":",
    "{\"create\":",
    "{\"index\":",
    "\"status\":201",
    "\"status\":429",
    "\"status\":409",
    "\"status\":400",
    "\"status\":-1",
    "\"status\":1e99",
    "\"error\":",
    "{\"type\":\"mapper_parsing_exception\",\"reason\":\"x\"}",
    "\"caused_by\":",
    "\"_id\":\"a\"",
    "null",
    "\"",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Any config-like text: loaded or refused with errors, each naming a place in the file.
    #[test]
    fn config_loader(text in made_of(CONFIG_PIECES, "\n"), with_env in any::<bool>()) {
        let env = |name: &str| (with_env && name != "B").then(|| format!("v-{name}"));
        match skiff::components::load_str(Path::new("fuzz.toml"), &text, env) {
            Ok(config) => prop_assert!(!config.sinks.is_empty()),
            Err(skiff::config::ConfigError::Invalid(errors)) => {
                prop_assert!(!errors.is_empty());
                for e in &errors {
                    prop_assert!(!e.trim().is_empty(), "an empty error for {text:?}");
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    /// Interpolation on its own: every error points inside the text.
    #[test]
    fn interpolation(text in made_of(CONFIG_PIECES, " ")) {
        let (_, errors) = skiff::config::interpolate::interpolate_all(&text, |n| {
            (n.len() % 2 == 0).then(|| n.to_owned())
        });
        for e in errors {
            prop_assert!(e.offset < text.len(), "{e:?} in {text:?}");
        }
    }

    /// A Fluent Bit regex: translated into a pattern Rust's regex accepts, or refused with a
    /// column inside the pattern.
    #[test]
    fn onigmo_translation(pattern in made_of(ONIGMO_PIECES, "")) {
        match onigmo::translate(&pattern) {
            Ok(t) => {
                let compiled = regex::Regex::new(&t.full());
                prop_assert!(compiled.is_ok(), "{pattern:?} became {:?}: {compiled:?}", t.full());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    /// Any format in either dialect: compiled or refused; a compiled one reads any text
    /// without panicking.
    #[test]
    fn time_formats(
        format in made_of(TIME_FORMAT_PIECES, ""),
        texts in prop::collection::vec(made_of(TIME_PIECES, ""), 1..6),
        fluentbit in any::<bool>(),
        zone in prop::sample::select(&["UTC", "America/New_York", "+05:30", "Nowhere/Else"][..]),
    ) {
        let dialect = if fluentbit { Dialect::Fluentbit } else { Dialect::Chrono };
        if let Ok(parser) = TimestampParser::build(Some(&format), &[], dialect, zone) {
            for text in &texts {
                let _ = parser.parse_str(text);
            }
        }
    }

    /// Whatever an Elasticsearch-compatible server answers: a verdict, and a per-document one
    /// for every document sent.
    #[test]
    fn bulk_responses(
        body in made_of(BULK_PIECES, ""),
        status in prop_oneof![Just(200u16), Just(413), Just(429), Just(503), any::<u16>()],
        sent in 0usize..6,
    ) {
        if let Verdict::Items { outcomes, .. } = classify(status, body.as_bytes(), sent) {
            prop_assert_eq!(outcomes.len(), sent, "{}", body);
        }
    }
}
