//! The `elasticsearch` sink over HTTPS: the real binary ships to the test server serving TLS
//! with the certificates of `tests/fixtures/tls` (a test CA, a server certificate for
//! `localhost` and 127.0.0.1, a client certificate; `generate.sh` remakes them).

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::es_server::{EsServer, EsServerOptions, ServerTls};
use support::skiff::Skiff;
use support::workspace::Workspace;
use support::writers::{append, numbered};

const WAIT: Duration = Duration::from_secs(30);

fn fixture(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/tls", name]
        .iter()
        .collect();
    path.display().to_string()
}

fn https_server(client_ca: bool) -> EsServer {
    EsServer::start(EsServerOptions {
        tls: Some(ServerTls {
            cert: fixture("server.crt").into(),
            key: fixture("server.key").into(),
            client_ca: client_ca.then(|| fixture("ca.crt").into()),
        }),
        ..Default::default()
    })
}

/// Ships 20 lines with `tls` settings, checks that all of them were indexed, and returns
/// skiff's log.
fn ships_with(server: &EsServer, tls: &str) -> String {
    let ws = Workspace::new();
    append(&ws.log("a.log"), &numbered("line", 0..20));
    let mut skiff = Skiff::start(&ws.es_config("*.log", &[server.url()], "", tls), &[]);
    skiff.wait_for("20 documents", WAIT, || server.total_docs() >= 20);
    assert!(skiff.terminate(WAIT).success(), "{}", skiff.stderr());
    assert_eq!(server.total_docs(), 20);
    assert_eq!(server.duplicates(), 0);
    skiff.stderr()
}

/// Starts skiff with `tls` settings and waits for `reason` in its log; nothing may be indexed.
fn refused_with(server: &EsServer, tls: &str, reason: &str) {
    let ws = Workspace::new();
    append(&ws.log("a.log"), &numbered("line", 0..5));
    let mut skiff = Skiff::start(&ws.es_config("*.log", &[server.url()], "", tls), &[]);
    skiff.wait_for(reason, WAIT, || skiff.stderr().contains(reason));
    assert_eq!(server.total_docs(), 0);
    skiff.kill9();
}

#[test]
fn ships_over_https_to_a_server_signed_by_the_given_ca() {
    let server = https_server(false);
    assert!(server.url().starts_with("https://localhost:"));
    ships_with(
        &server,
        &format!("tls = {{ ca_file = {:?} }}", fixture("ca.crt")),
    );
}

#[test]
fn presents_a_client_certificate_when_the_server_requires_one() {
    let server = https_server(true);
    ships_with(
        &server,
        &format!(
            "tls = {{ ca_file = {:?}, crt_file = {:?}, key_file = {:?} }}",
            fixture("ca.crt"),
            fixture("client.crt"),
            fixture("client.key")
        ),
    );
}

#[test]
fn verify_false_accepts_an_unknown_issuer_and_warns() {
    let log = ships_with(&https_server(false), "tls = { verify = false }");
    assert!(log.contains("TLS verification is off"), "{log}");
}

#[test]
fn an_untrusted_server_gets_nothing_and_the_error_names_the_certificate() {
    // No `ca_file`: the test CA is not among the built-in roots.
    refused_with(
        &https_server(false),
        "",
        "invalid peer certificate: UnknownIssuer",
    );
}

#[test]
fn a_server_requiring_a_client_certificate_refuses_a_client_without_one() {
    let tls = format!("tls = {{ ca_file = {:?} }}", fixture("ca.crt"));
    refused_with(&https_server(true), &tls, "CertificateRequired");
}
