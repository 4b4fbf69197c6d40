//! What skiff's integration tests share, one module per concern. Every test file pulls it in
//! with `mod support;` and uses only some of it, hence the `dead_code` allowance (here only).
//!
//! - `skiff`: the binary: run it to completion, or keep it running with its output collected,
//!   signal it, wait for its exit.
//! - `clickhouse`: a real ClickHouse server (Debian's `clickhouse-server`) on a temp dir.
//! - `api`: skiff's HTTP API from a test: probes, `/metrics` parsed.
//! - `workspace`: a test's temp dir (`logs/`, `data/`, a config with `{dir}`), the usual
//!   configs, and readers of what skiff and the writers left in it.
//! - `writers`: how logs get written: numbered lines, self-checking lines, a paced writer
//!   thread that survives rotation, a rotator.
//! - `compare`: exactly-once comparison, messages of output lines, golden files, masked read
//!   times.
//! - `wait`: polling with a timeout, never a fixed sleep as an assertion.
//! - `es_server`: the in-process Elasticsearch-compatible server (also the example's);
//!   `es`: what skiff's tests read from it.
//! - `prometheus`: a real Prometheus server scraping skiff, queried through its HTTP API.
//! - `http_server`: a generic in-process HTTP server with faults (the `http` sink's tests);
//!   `clickhouse`: a real ClickHouse server in a temp dir, queried over HTTP.
//! - `inproc`: skiff's pipeline run inside the test process, with a collecting sink.
//! - `bursts`: bursts of lines, each rotation a copy and a truncate right after one.
//! - `tmpfs`: a small tmpfs over a test directory, filled and freed on demand (a full disk).
//! - `torture`: the torture suite's modes (`SKIFF_TORTURE=long`) and seeds
//!   (`SKIFF_TORTURE_SEED`).
//! - `cutover`: the old agents' offsets as they write them (Fluent Bit's tail database through
//!   the `sqlite3` command, Vector's `checkpoints.json`), for `skiff import-offsets`.
//! - `migrate`: the `skiff migrate` fixtures and their environment; `migrate_constructs`: one
//!   fixture per construct, converted, run on samples and compared with the old agent.
//! - `fidelity`: the peers' golden vectors (`tests/fixtures/fidelity/`) run through the
//!   transforms.
#![allow(dead_code)]

pub mod api;
pub mod bursts;
pub mod clickhouse;
pub mod compare;
pub mod cutover;
pub mod es;
pub mod es_server;
pub mod fidelity;
pub mod http_server;
pub mod inproc;
pub mod migrate;
pub mod migrate_constructs;
pub mod prometheus;
pub mod skiff;
pub mod tmpfs;
pub mod torture;
pub mod wait;
pub mod workspace;
pub mod writers;
