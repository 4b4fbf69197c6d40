//! Properties every transform keeps, on arbitrary input: it does not panic, and every batch's
//! acknowledgement comes out the other side (confirming the output confirms every input batch).

use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use super::testing::lines_batch_at;
use super::Transform;
use crate::acks::{AckResult, AckSink, AckToken};
use crate::event::Batch;

/// The cases per property: `SKIFF_FUZZ_CASES` when set (`ci/fuzz.sh` runs them for minutes),
/// else `default`.
fn fuzz_cases(default: u32) -> u32 {
    std::env::var("SKIFF_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every kind, with options that exercise its edges.
const CONFIGS: &[(&str, &str)] = &[
    (
        "parse_json",
        "timestamp = { format = \"%Y-%m-%dT%H:%M:%S%.3f\" }",
    ),
    (
        "parse_json",
        "target = \"p\"\nkeep_source = true\non_error = \"drop\"",
    ),
    (
        "parse_regex",
        "pattern = '^(?P<a>\\S+) (?P<b>.*)$'\ntypes = { a = \"int\" }",
    ),
    ("parse_logfmt", "types = { a = \"float\" }"),
    ("parse_cri", "max_bytes = 16"),
    ("parse_docker", "on_error = \"drop\""),
    (
        "multiline",
        "start_pattern = '^\\S'\nmax_bytes = 32\nmax_lines = 3",
    ),
    (
        "parse_timestamp",
        "field = \"message\"\nformats = [\"rfc3339\", \"rfc3164\", \"unix\", \"%Y-%m-%d\"]",
    ),
    (
        "add_fields",
        "fields = { \"a.b\" = \"{{ message }}\", c = 1 }",
    ),
    ("rename_fields", "fields = { message = \"m.x\" }"),
    ("remove_fields", "fields = [\"message\"]"),
    (
        "filter",
        "conditions = [{ field = \"message\", matches = \"a\" }]\nmode = \"drop\"",
    ),
    ("kubernetes", "target = \"message.k\""),
    ("parse", "parser = \"nginx\""),
    ("parse", "parser = \"syslog-rfc5424\""),
    ("parse", "parser = \"docker\""),
    ("parse", "parser = \"cri\""),
    ("multiline", "parser = \"java\""),
    ("multiline", "parser = \"python\""),
];

fn build(kind: &str, cfg: &str) -> Box<dyn Transform> {
    super::parse(kind, toml::from_str(cfg).unwrap())
        .unwrap()
        .build("proptest")
}

fn ack_channel() -> (AckSink, Receiver<AckResult>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let sink: AckSink = Arc::new(move |r| {
        let _ = tx.lock().unwrap().send(r);
    });
    (sink, rx)
}

/// Runs `chain` over `batches` (each given a token), finishes, confirms everything that came out,
/// and checks every token was delivered.
fn check_acks(
    chain: &mut [Box<dyn Transform>],
    inputs: Vec<Vec<String>>,
) -> Result<(), TestCaseError> {
    let (sink, rx) = ack_channel();
    let mut batches: Vec<Batch> = Vec::new();
    let mut offset = 0;
    for (seq, lines) in inputs.iter().enumerate() {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut b = lines_batch_at(1, offset, &refs);
        offset += refs.iter().map(|l| l.len() as u64 + 1).sum::<u64>();
        b.acks.push(AckToken::new(&sink, 1, seq as u64, offset));
        b.end_of_file = seq + 1 == inputs.len() && seq % 2 == 1;
        batches.push(b);
    }
    for t in chain.iter_mut() {
        let mut next = Vec::new();
        for b in batches {
            t.transform(b, &mut next);
        }
        t.tick(&mut next);
        t.finish(&mut next);
        batches = next;
    }
    for b in batches {
        b.confirm();
    }
    let results: Vec<AckResult> = rx.try_iter().collect();
    prop_assert_eq!(results.len(), inputs.len(), "every batch resolved");
    prop_assert!(
        results.iter().all(|r| r.delivered),
        "no acknowledgement was dropped"
    );
    Ok(())
}

fn arb_lines() -> impl Strategy<Value = Vec<Vec<String>>> {
    let line = prop_oneof![
        ".{0,40}",
        "[a-z]=[a-z\"\\\\ ]{0,6}( [a-z]{1,3})?",
        "2026-11-26T04:00:0[0-9]Z std(out|err) [PF] .{0,10}",
        "\\s+at .{0,8}",
    ];
    prop::collection::vec(prop::collection::vec(line, 0..6), 1..4)
}

fn arb_json_line() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,8}".prop_map(serde_json::Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("(message|a|b|log|stream|time|[a-z.]{1,4})", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("(message|a|b|log|stream|time|timestamp)", value, 0..5)
        .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()).to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases(64)))]

    #[test]
    fn raw_lines_never_panic_nor_lose_acks(inputs in arb_lines(), which in 0..CONFIGS.len()) {
        let (kind, cfg) = CONFIGS[which];
        check_acks(&mut [build(kind, cfg)], inputs)?;
    }

    #[test]
    fn parsed_json_never_panics_nor_loses_acks(
        lines in prop::collection::vec(prop::collection::vec(arb_json_line(), 0..5), 1..3),
        which in 0..CONFIGS.len(),
    ) {
        let (kind, cfg) = CONFIGS[which];
        check_acks(&mut [build("parse_json", ""), build(kind, cfg)], lines)?;
    }
}
