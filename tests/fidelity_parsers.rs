//! Golden vectors from the peers' own test suites and documentation, run through skiff's
//! transforms and compared field by field, types and times included. The fixtures, and the
//! repository and path each vector comes from, are under `tests/fixtures/fidelity/` (see its
//! `SOURCES`). Run with `--nocapture` for the tally per suite.

mod fidelity_support;

use fidelity_support::run_suite;

#[test]
fn fluent_bit_parsers() {
    run_suite("parsers");
}

#[test]
fn fluent_bit_multiline() {
    run_suite("multiline");
}

#[test]
fn vector_cri() {
    run_suite("cri");
}

#[test]
fn vector_docker() {
    run_suite("docker");
}

#[test]
fn logfmt_decoders() {
    run_suite("logfmt");
}
