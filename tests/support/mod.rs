//! Shared helpers for skiff's integration tests; each test file pulls them in
//! with `mod support;` and uses only some, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod es_server;
