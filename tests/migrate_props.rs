//! Property tests of `skiff migrate` on arbitrary input: it never panics, whatever it accepts
//! comes out as TOML with a source, and whatever it refuses as malformed names a line that
//! exists. Inputs are random text, random lines made of config-like pieces, and the seed
//! configs with a random line inserted, for every syntax: Fluent Bit classic and YAML, Vector
//! TOML and YAML.

use std::path::Path;

use proptest::prelude::*;
use skiff::migrate::{migrate_text, MigrateError, Tool};

/// File names for each syntax; their directory does not exist, so includes fail to read.
const PATHS: &[(&str, Tool)] = &[
    (
        "/nonexistent-skiff-migrate/fluent-bit.conf",
        Tool::FluentBit,
    ),
    (
        "/nonexistent-skiff-migrate/fluent-bit.yaml",
        Tool::FluentBit,
    ),
    ("/nonexistent-skiff-migrate/vector.toml", Tool::Vector),
    ("/nonexistent-skiff-migrate/vector.yaml", Tool::Vector),
];

const SEEDS: &[&str] = &[
    include_str!("fixtures/migrate/seed-fluent-bit/fluent-bit.conf"),
    include_str!("fixtures/migrate/fb-filters/fluent-bit.conf"),
    include_str!("fixtures/migrate/fb-yaml/fluent-bit.yaml"),
    include_str!("fixtures/migrate/seed-vector/vector.toml"),
    include_str!("fixtures/migrate/vector-full/vector.toml"),
    include_str!("fixtures/migrate/vector-yaml/vector.yaml"),
];

/// Pieces that make random lines look like configs, so the converters get past the readers.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[INPUT]".to_owned()),
        Just("[FILTER]".to_owned()),
        Just("[OUTPUT]".to_owned()),
        Just("[PARSER]".to_owned()),
        Just("[SERVICE]".to_owned()),
        Just("    Name tail".to_owned()),
        Just("    Name modify".to_owned()),
        Just("    Name grep".to_owned()),
        Just("    Name es".to_owned()),
        Just("    Match *".to_owned()),
        Just("    Path /var/log/*.log".to_owned()),
        Just("    Parser p".to_owned()),
        Just("    Format regex".to_owned()),
        Just("    Regex ^(?<a>x)$".to_owned()),
        Just("    Set a 1".to_owned()),
        Just("    Rename a b".to_owned()),
        Just("    Wildcard a".to_owned()),
        Just("    Types a:integer".to_owned()),
        Just("    Log_Level debug".to_owned()),
        Just("    Grace 5".to_owned()),
        Just("    HTTP_Server On".to_owned()),
        Just("@SET a=b".to_owned()),
        Just("[sources.a]".to_owned()),
        Just("[transforms.t]".to_owned()),
        Just("[sinks.s]".to_owned()),
        Just("type = \"file\"".to_owned()),
        Just("type = \"remap\"".to_owned()),
        Just("type = \"filter\"".to_owned()),
        Just("type = \"console\"".to_owned()),
        Just("inputs = [\"a\"]".to_owned()),
        Just("include = [\"/x/*.log\"]".to_owned()),
        Just("source = '. = parse_json!(.message)'".to_owned()),
        Just("condition = '.a == 1 || !exists(.b)'".to_owned()),
        Just("pipeline:".to_owned()),
        Just("  inputs:".to_owned()),
        Just("    - name: tail".to_owned()),
        Just("      path: /x".to_owned()),
        "[ -~]{0,30}",
        any::<String>(),
    ]
}

fn lines() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..24).prop_map(|l| l.join("\n"))
}

/// A seed with `insert` placed before line `at`.
fn mutated() -> impl Strategy<Value = String> {
    (0..SEEDS.len(), any::<prop::sample::Index>(), piece()).prop_map(|(seed, at, insert)| {
        let mut lines: Vec<&str> = SEEDS[seed].lines().collect();
        let at = at.index(lines.len() + 1);
        lines.insert(at, &insert);
        lines.join("\n")
    })
}

/// The properties, for one text in every syntax.
fn check(text: &str) -> Result<(), TestCaseError> {
    let line_count = text.lines().count().max(1);
    for (path, tool) in PATHS {
        for from in [Some(*tool), None] {
            match migrate_text(Path::new(path), text, from) {
                Ok(m) => {
                    let parsed: Result<toml::Table, _> = toml::from_str(&m.toml);
                    prop_assert!(
                        parsed.is_ok(),
                        "{path}: invalid TOML {parsed:?}\n{}",
                        m.toml
                    );
                    let sources = parsed.ok().and_then(|t| t.get("sources").cloned());
                    prop_assert!(sources.is_some(), "{path}: no source\n{}", m.toml);
                }
                Err(e @ MigrateError::Malformed { .. }) => {
                    let MigrateError::Malformed { line, file, .. } = &e else {
                        unreachable!()
                    };
                    let message = e.to_string();
                    prop_assert!(message.contains(&format!(":{line}:")), "{message}");
                    if file == Path::new(path) {
                        prop_assert!(
                            *line >= 1 && *line <= line_count + 1,
                            "{path}: line {line} of {line_count}: {message}"
                        );
                    }
                }
                Err(MigrateError::UnknownFormat(_)) => prop_assert!(from.is_none()),
                Err(MigrateError::NoSource { .. } | MigrateError::Read { .. }) => {}
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("SKIFF_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
    ))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn config_like_lines_never_panic(text in lines()) {
        check(&text)?;
    }

    #[test]
    fn mutated_seeds_never_panic(text in mutated()) {
        check(&text)?;
    }
}
