//! What the sinks that deliver over HTTP share (`elasticsearch`, `http`): the config tables
//! ([`config`]: secrets, compression, batching, TLS, retries, dead letters), the client with its
//! TLS options ([`client`]), credentials ([`auth`]), full-jitter backoff ([`retry`]), gzip bodies
//! ([`compress`]), ordered acknowledgements ([`ledger`]), the dead-letter file ([`dead_letter`])
//! and rate-limited problem logs ([`problems`]). One implementation of each, so a fix to retries
//! or TLS reaches every sink.

pub mod auth;
pub mod client;
pub mod compress;
pub mod config;
pub mod dead_letter;
pub mod ledger;
pub mod problems;
pub mod retry;
