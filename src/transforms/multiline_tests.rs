//! Tests of the `multiline` transform: grouping, limits, timeouts, rotation, shutdown and exact
//! acknowledgements.

use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use super::*;
use crate::acks::{AckResult, AckSink, AckToken};
use crate::codec::json::to_text;
use crate::transforms::testing::{json_lines, lines_batch_at, run_lines};

fn build(toml_text: &str) -> Multiline {
    let c = MultilineConfig::parse(toml::from_str(toml_text).unwrap()).unwrap();
    Multiline::new(c)
}

const JAVA: &str = r#"start_pattern = '^\d{4}'"#;

fn messages(out: &[Batch]) -> Vec<String> {
    out.iter()
        .flat_map(|b| match &b.payload {
            Payload::Events(evs) => evs
                .iter()
                .map(|e| to_text(e.fields.get("message").unwrap()))
                .collect::<Vec<_>>(),
            Payload::Lines(_) | Payload::Encoded(_) => panic!("not events"),
        })
        .collect()
}

#[test]
fn golden_start_mode() {
    let mut t = build(JAVA);
    let out = run_lines(
        &mut t,
        &[
            "2026-11-26T04:00:00 ERROR boom",
            "java.lang.IllegalStateException: bad",
            "\tat a.B.c(B.java:1)",
            "2026-11-26T04:00:01 INFO next",
        ],
    );
    assert_eq!(
        json_lines(&out),
        [
            r#"{"timestamp":"<read_at>","message":"2026-11-26T04:00:00 ERROR boom\njava.lang.IllegalStateException: bad\n\tat a.B.c(B.java:1)","file":"/var/log/app/app.log"}"#,
            r#"{"timestamp":"<read_at>","message":"2026-11-26T04:00:01 INFO next","file":"/var/log/app/app.log"}"#,
        ]
    );
    let Payload::Events(evs) = &out[0].payload else {
        panic!()
    };
    assert_eq!(evs[0].offset, 0);
    let Payload::Events(evs) = &out[1].payload else {
        panic!()
    };
    assert_eq!(
        evs[0].offset, 88,
        "the held event keeps its first line's offset"
    );
}

#[test]
fn continuation_mode_and_separator() {
    let mut t = build(
        r#"
mode = "continuation"
continuation_pattern = '^\s'
separator = " | "
"#,
    );
    let out = run_lines(&mut t, &["a", " b", "  c", "d", "e", " f"]);
    assert_eq!(messages(&out), ["a |  b |   c", "d", "e |  f"]);
}

#[test]
fn leading_continuation_lines_form_their_own_event() {
    let mut t = build(JAVA);
    let out = run_lines(&mut t, &["\tat x", "\tat y", "2026-1 start"]);
    assert_eq!(messages(&out), ["\tat x\n\tat y", "2026-1 start"]);
}

#[test]
fn limits_split_and_cut() {
    let mut t = build(&format!("{JAVA}\nmax_lines = 2"));
    let out = run_lines(&mut t, &["2026 a", "b", "c", "d", "e"]);
    assert_eq!(messages(&out), ["2026 a\nb", "c\nd", "e"]);

    let mut t = build(&format!("{JAVA}\nmax_bytes = 8"));
    let out = run_lines(&mut t, &["2026 a", "bc", "d", "2026 too long a line"]);
    assert_eq!(messages(&out), ["2026 a", "bc\nd", "2026 too"]);
    assert_eq!(
        json_lines(&out)[2],
        r#"{"timestamp":"<read_at>","message":"2026 too","file":"/var/log/app/app.log","_skiff_truncated":true}"#
    );
}

#[test]
fn end_of_file_flushes_only_that_file() {
    let mut t = build(JAVA);
    let mut out = Vec::new();
    t.transform(lines_batch_at(1, 0, &["2026 one", "more"]), &mut out);
    t.transform(lines_batch_at(2, 0, &["2026 two"]), &mut out);
    assert_eq!(messages(&out), Vec::<String>::new());
    let mut rotated = lines_batch_at(1, 14, &["last of one"]);
    rotated.end_of_file = true;
    t.transform(rotated, &mut out);
    assert_eq!(messages(&out), ["2026 one\nmore\nlast of one"]);
    out.clear();
    // The next file's lines never join a rotated file's event.
    t.transform(lines_batch_at(3, 0, &["continues nothing"]), &mut out);
    t.finish(&mut out);
    assert_eq!(messages(&out), ["2026 two", "continues nothing"]);
    assert_eq!(
        out.iter()
            .filter_map(|b| b.origin.as_ref().map(|o| o.file_id))
            .collect::<Vec<_>>(),
        [3, 2, 3],
        "flushed events keep their file's origin"
    );
}

#[test]
fn timeout_flushes_held_events() {
    let mut t = build(&format!("{JAVA}\ntimeout = \"200ms\""));
    assert_eq!(t.tick_interval(), Some(Duration::from_millis(50)));
    let mut out = Vec::new();
    t.transform(lines_batch_at(1, 0, &["2026 a", "b"]), &mut out);
    let now = Instant::now();
    t.flush_expired(now, &mut out);
    assert_eq!(messages(&out), Vec::<String>::new(), "not yet");
    t.flush_expired(now + Duration::from_millis(250), &mut out);
    assert_eq!(messages(&out), ["2026 a\nb"]);
    assert!(t.pending.is_empty());
}

fn ack_channel() -> (AckSink, Receiver<AckResult>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let sink: AckSink = Arc::new(move |r| {
        let _ = tx.lock().unwrap().send(r);
    });
    (sink, rx)
}

#[test]
fn acknowledgements_wait_for_held_events() {
    let (sink, rx) = ack_channel();
    let mut t = build(JAVA);
    let mut out = Vec::new();
    let mut b1 = lines_batch_at(9, 0, &["2026 a", "a2", "2026 b"]);
    b1.acks.push(AckToken::new(&sink, 9, 0, 17));
    t.transform(b1, &mut out);
    assert_eq!(messages(&out), ["2026 a\na2"]);
    out.remove(0).confirm();
    assert!(
        rx.try_recv().is_err(),
        "batch 0 ends with a held event: it is not delivered yet"
    );

    let mut b2 = lines_batch_at(9, 17, &["b2", "2026 c"]);
    b2.acks.push(AckToken::new(&sink, 9, 1, 27));
    t.transform(b2, &mut out);
    assert_eq!(messages(&out), ["2026 b\nb2"]);
    assert_eq!(out[0].acks.len(), 2, "own token plus the share of batch 0");
    out.remove(0).confirm();
    let r = rx.try_recv().unwrap();
    assert_eq!((r.seq, r.delivered), (0, true));
    assert!(rx.try_recv().is_err(), "batch 1 still holds `2026 c`");

    t.finish(&mut out);
    assert_eq!(messages(&out), ["2026 c"]);
    out.remove(0).confirm();
    let r = rx.try_recv().unwrap();
    assert_eq!((r.seq, r.delivered), (1, true));
}

#[test]
fn a_held_event_dropped_unsent_fails_its_batches() {
    let (sink, rx) = ack_channel();
    let mut t = build(JAVA);
    let mut out = Vec::new();
    let mut b1 = lines_batch_at(9, 0, &["2026 a"]);
    b1.acks.push(AckToken::new(&sink, 9, 0, 7));
    t.transform(b1, &mut out);
    out.remove(0).confirm();
    drop(t);
    assert!(!rx.try_recv().unwrap().delivered);
}

#[test]
fn config_errors() {
    let err = |s: &str| MultilineConfig::parse(toml::from_str(s).unwrap()).unwrap_err();
    assert!(err("").message.contains("start_pattern"));
    assert_eq!(err("start_pattern = '('").path, vec!["start_pattern"]);
    assert_eq!(
        err("mode = 'continuation'\nstart_pattern = 'x'").path,
        vec!["start_pattern"]
    );
    assert_eq!(
        err("start_pattern = 'x'\nmax_lines = 0").path,
        vec!["max_lines"]
    );
    assert_eq!(
        err("start_pattern = 'x'\ntimeout = '0s'").path,
        vec!["timeout"]
    );
    assert_eq!(err("start_pattern = 'x'\nmode = 'both'").path, vec!["mode"]);
}

proptest! {
    /// Nothing is lost or reordered: the output messages, joined, are the input lines, joined.
    #[test]
    fn joining_keeps_every_line(lines in prop::collection::vec("(2026 )?[a-z ]{0,6}", 0..20)) {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut t = build(&format!("{JAVA}\nmax_lines = 3"));
        let out = run_lines(&mut t, &refs);
        prop_assert_eq!(messages(&out).join("\n"), lines.join("\n"));
    }

    #[test]
    fn never_panics(lines in prop::collection::vec(".{0,24}", 0..10), max in 1usize..16) {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut t = build(&format!("mode = 'continuation'\ncontinuation_pattern = '^\\s'\nmax_bytes = {max}"));
        let _ = run_lines(&mut t, &refs);
    }
}
