//! The `elasticsearch` sink under faults, with the real binary: Elasticsearch down for 30 s,
//! 30% of documents answered 429, skiff killed with SIGKILL mid-stream, wrong and rotated
//! credentials. In every case each line must end up in the index exactly once.

mod support;

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use support::compare::assert_exactly_once;
use support::es::indexed_messages;
use support::es_server::{EsServer, EsServerOptions, Faults, RecordedRequest};
use support::skiff::Skiff;
use support::workspace::Workspace;
use support::writers::{append, numbered, numbered_len};

const WAIT: Duration = Duration::from_secs(60);

/// Asserts that the index holds exactly `expected`, each once.
fn assert_exactly(server: &EsServer, expected: &[String]) {
    assert_exactly_once(&indexed_messages(server), expected, "indexed lines");
    assert_eq!(server.duplicates(), 0, "an id was written twice");
}

/// The `_id`s of the documents of one bulk request.
fn ids_of(req: &RecordedRequest) -> Vec<String> {
    req.ndjson()
        .iter()
        .step_by(2)
        .map(|a| a["create"]["_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn thirty_second_outage_loses_nothing() {
    let server = EsServer::start(EsServerOptions::default());
    let ws = Workspace::new();
    let mut expected = numbered("before", 0..500);
    append(&ws.log("a.log"), &expected);
    let mut skiff = Skiff::start(
        &ws.es_config(
            "*.log",
            &[server.url()],
            "",
            "batch = { max_events = 200, timeout = \"100ms\" }\nretry = { max_backoff = \"2s\" }",
        ),
        &[],
    );
    skiff.wait_for("the first lines", WAIT, || server.total_docs() >= 500);

    server.outage(Duration::from_secs(30));
    let down = Instant::now();
    for chunk in 0..4 {
        let lines = numbered(&format!("during{chunk}"), 0..500);
        append(&ws.log("a.log"), &lines);
        expected.extend(lines);
        std::thread::sleep(Duration::from_millis(300));
    }
    skiff.wait_for("the outage to be reported", WAIT, || {
        skiff
            .stderr()
            .contains("Cannot reach Elasticsearch endpoint")
    });
    assert_eq!(
        server.total_docs(),
        500,
        "nothing can be indexed while down"
    );

    skiff.wait_for("every line after the outage", WAIT, || {
        server.total_docs() >= expected.len()
    });
    assert!(down.elapsed() >= Duration::from_secs(29));
    let after = numbered("after", 0..100);
    append(&ws.log("a.log"), &after);
    expected.extend(after);
    skiff.wait_for("lines written after recovery", WAIT, || {
        server.total_docs() >= expected.len()
    });
    assert!(skiff.terminate(WAIT).success());
    assert_exactly(&server, &expected);
    assert!(skiff
        .stderr()
        .contains("Elasticsearch endpoint answers again"));
}

#[test]
fn only_documents_answered_429_are_sent_again() {
    let server = EsServer::start(EsServerOptions {
        faults: Faults {
            item_429_prob: 0.3,
            ..Default::default()
        },
        ..Default::default()
    });
    let ws = Workspace::new();
    let n = 3000;
    let expected = numbered("busy", 0..n);
    append(&ws.log("a.log"), &expected);
    let mut skiff = Skiff::start(&ws.es_config("*.log", 
        &[server.url()],
        "",
        "batch = { max_events = 500, timeout = \"100ms\" }\nretry = { initial_backoff = \"10ms\", max_backoff = \"200ms\" }",
    ), &[]);
    skiff.wait_for("every line", WAIT, || server.total_docs() >= n);
    assert!(skiff.terminate(WAIT).success());
    assert_exactly(&server, &expected);

    // A request holds either documents sent for the first time, or documents sent before (a
    // resend of the failed ones), never both, and no document twice.
    let mut seen: HashSet<String> = HashSet::new();
    let mut sent = 0;
    for req in server.bulk_requests() {
        let ids = ids_of(&req);
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "a document twice in one request");
        let old = ids.iter().filter(|id| seen.contains(*id)).count();
        assert!(
            old == 0 || old == ids.len(),
            "{old} of {} resent",
            ids.len()
        );
        sent += ids.len();
        seen.extend(ids);
    }
    // Each document is refused with p = 0.3 per attempt: resends average n * p / (1 - p) = 1286.
    // Resending whole requests would multiply that, or never finish.
    let resent = sent - n;
    let expected_resends = n as f64 * 0.3 / 0.7;
    assert!(
        (resent as f64) > expected_resends * 0.75 && (resent as f64) < expected_resends * 1.25,
        "{resent} resends, expected about {expected_resends:.0}"
    );
}

#[test]
fn kill_9_and_restart_index_every_line_once() {
    let server = EsServer::start(EsServerOptions {
        faults: Faults {
            delay: Duration::from_millis(50),
            ..Default::default()
        },
        ..Default::default()
    });
    let ws = Workspace::new();
    let mut expected = numbered("k", 0..20_000);
    append(&ws.log("a.log"), &expected);
    // No checkpoint is written before the kill: the restart reads everything again, so documents
    // already indexed are sent a second time and must be recognised by their id.
    let config = ws.es_config(
        "*.log",
        &[server.url()],
        "checkpoint_interval = \"1h\"",
        "batch = { max_events = 500, timeout = \"100ms\" }",
    );
    let mut skiff = Skiff::start(&config, &[]);
    skiff.wait_for("part of the file", WAIT, || server.total_docs() >= 2000);
    skiff.kill9();
    let at_kill = server.total_docs();
    assert!(at_kill < 20_000, "killed too late to test anything");

    let more = numbered("k2", 0..5000);
    append(&ws.log("a.log"), &more);
    expected.extend(more);
    let mut skiff = Skiff::start(&config, &[]);
    skiff.wait_for("every line", WAIT, || server.total_docs() >= expected.len());
    assert!(skiff.terminate(WAIT).success());
    assert_exactly(&server, &expected);
    assert!(
        server.bulk_items_received() as usize >= expected.len() + at_kill,
        "the restart sent the already indexed lines again"
    );

    // Ids are the file identity and each line's offset.
    let mut files = BTreeSet::new();
    let mut offsets = BTreeSet::new();
    for (_, id, _) in server.all_docs() {
        let (file, offset) = id.split_once('-').unwrap();
        files.insert(file.to_owned());
        offsets.insert(u64::from_str_radix(offset, 16).unwrap());
    }
    assert_eq!(files.len(), 1);
    let want: BTreeSet<u64> = (0..20_000u64)
        .map(|i| i * numbered_len("k"))
        .chain((0..5000u64).map(|i| 20_000 * numbered_len("k") + i * numbered_len("k2")))
        .collect();
    assert_eq!(offsets, want);
}

#[test]
fn wrong_credentials_hold_data_until_fixed() {
    let server = EsServer::start(EsServerOptions {
        basic_auth: Some(("elastic".into(), "pw-good-7f3a".into())),
        ..Default::default()
    });
    let ws = Workspace::new();
    let password = ws.path("password");
    std::fs::write(&password, "pw-wrong-0000\n").unwrap();
    let mut expected = numbered("auth", 0..100);
    append(&ws.log("a.log"), &expected);
    let mut skiff = Skiff::start(&ws.es_config("*.log", 
        &[server.url()],
        "",
        &format!(
            "auth = {{ user = \"elastic\", password_file = {:?} }}\nbatch = {{ timeout = \"100ms\" }}\nretry = {{ max_backoff = \"500ms\" }}",
            password.display().to_string()
        ),
    ), &[]);
    let refusals = |s: &Skiff| s.stderr().matches("refused skiff's credentials").count();
    skiff.wait_for("a clear credentials error", WAIT, || refusals(&skiff) >= 1);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.total_docs(), 0);

    // Fixing the mounted secret is enough: the file is read again after each refusal.
    std::fs::write(&password, "pw-good-7f3a\n").unwrap();
    skiff.wait_for("delivery with the fixed password", WAIT, || {
        server.total_docs() >= 100
    });

    // The password is rotated on the server, then in the file.
    server.set_credentials(Some(("elastic".into(), "pw-next-91c2".into())), None);
    let more = numbered("rotated", 0..100);
    append(&ws.log("a.log"), &more);
    expected.extend(more);
    skiff.wait_for("the second refusal", WAIT, || refusals(&skiff) >= 2);
    assert_eq!(server.total_docs(), 100);
    std::fs::write(&password, "pw-next-91c2").unwrap();
    skiff.wait_for("delivery after rotation", WAIT, || {
        server.total_docs() >= 200
    });

    assert!(skiff.terminate(WAIT).success());
    assert_exactly(&server, &expected);
    let last = server.bulk_requests().pop().unwrap();
    // base64("elastic:pw-next-91c2")
    assert_eq!(
        last.header("authorization"),
        Some("Basic ZWxhc3RpYzpwdy1uZXh0LTkxYzI=")
    );
    let log = skiff.stderr();
    assert!(log.contains("ERROR"), "{log}");
    for secret in ["pw-good-7f3a", "pw-wrong-0000", "pw-next-91c2"] {
        assert!(!log.contains(secret), "secret in the log: {log}");
    }
    assert!(!ws.data().join("dead-letter/es.ndjson").exists());
}
