//! The `parse` transform: built-ins by name, inline definitions, lists, config errors.

use super::*;
use crate::transforms::testing::{json_lines, run_lines};

fn build(toml_text: &str) -> Result<Box<dyn Transform>, FieldError> {
    Ok(ParseConfig::parse(toml::from_str(toml_text).unwrap())?.build("parse_test"))
}

#[test]
fn nginx_by_name() {
    let mut t = build(r#"parser = "nginx""#).unwrap();
    let out = run_lines(
        t.as_mut(),
        &[
            r#"192.168.1.1 - - [26/Nov/2026:04:00:00 +0100] "GET /index.html HTTP/1.1" 200 512 "-" "curl/8.0""#,
            "not an access log",
        ],
    );
    assert_eq!(
        json_lines(&out),
        [
            r#"{"timestamp":"2026-11-26T03:00:00.000Z","remote":"192.168.1.1","host":"-","user":"-","method":"GET","path":"/index.html","code":"200","size":"512","referer":"-","agent":"curl/8.0","file":"/var/log/app/app.log"}"#,
            r#"{"timestamp":"<read_at>","message":"not an access log","file":"/var/log/app/app.log","_skiff_error":"the text is not in the parser's format"}"#,
        ]
    );
}

#[test]
fn inline_definition_in_fluent_bit_syntax() {
    let mut t = build(
        r#"parser = { format = "regex", regex = '/^\<(?<pri>\d+)\>(?<msg>.*)$/', types = { pri = "integer" }, time_key = "t", time_format = "%s" }"#,
    )
    .unwrap();
    let out = run_lines(t.as_mut(), &["<14>hello", "<x>nope"]);
    assert_eq!(
        json_lines(&out),
        [
            r#"{"timestamp":"<read_at>","pri":14,"msg":"hello","file":"/var/log/app/app.log"}"#,
            r#"{"timestamp":"<read_at>","message":"<x>nope","file":"/var/log/app/app.log","_skiff_error":"the text is not in the parser's format"}"#,
        ]
    );
}

#[test]
fn lists_try_in_order_and_keep_the_time_text() {
    let mut t = build(r#"parsers = ["docker", "cri"]"#).unwrap();
    let out = run_lines(
        t.as_mut(),
        &[
            r#"{"log":"a\n","stream":"stdout","time":"2026-11-26T04:00:00.123456789Z"}"#,
            "2026-11-26T04:00:01.5+01:00 stderr F b",
        ],
    );
    assert_eq!(
        json_lines(&out),
        [
            r#"{"timestamp":"2026-11-26T04:00:00.123Z","log":"a\n","stream":"stdout","time":"2026-11-26T04:00:00.123456789Z","file":"/var/log/app/app.log"}"#,
            r#"{"timestamp":"2026-11-26T03:00:01.500Z","time":"2026-11-26T04:00:01.5+01:00","stream":"stderr","logtag":"F","message":"b","file":"/var/log/app/app.log"}"#,
        ]
    );
}

#[test]
fn a_time_that_does_not_parse_stays_and_is_marked() {
    let mut t = build(r#"parser = "json""#).unwrap();
    let out = run_lines(t.as_mut(), &[r#"{"time":"yesterday","a":1}"#]);
    assert_eq!(
        json_lines(&out),
        [
            r#"{"timestamp":"<read_at>","time":"yesterday","a":1,"file":"/var/log/app/app.log","_skiff_error":"time field `time` did not parse with `%d/%b/%Y:%H:%M:%S %z`"}"#
        ]
    );
}

#[test]
fn every_builtin_compiles() {
    for b in table::BUILTINS {
        let def = b.definition();
        assert!(def.compile().is_ok(), "{}", b.name);
        let mut t = build(&format!("parser = {:?}", b.name)).unwrap();
        let _ = run_lines(t.as_mut(), &["x", ""]);
    }
}

#[test]
fn config_errors_name_the_key() {
    let err = |s: &str| build(s).err().unwrap();
    let e = err(r#"parser = "nope""#);
    assert_eq!(e.path, ["parser"]);
    assert!(e.message.contains("nginx"), "{}", e.message);
    assert_eq!(err("").path, Vec::<String>::new());
    assert_eq!(
        err(r#"parser = "json"
parsers = ["json"]"#)
        .path,
        ["parsers"]
    );
    assert_eq!(
        err(r#"parsers = ["json", { format = "regex" }]"#).path,
        ["parsers", "1", "format"]
    );
    let e = err(r#"parser = { format = "regex", regex = "a(?=b)(?<x>c)" }"#);
    assert_eq!(e.path, ["parser", "regex"]);
    assert!(
        e.message.contains("lookahead `(?=` at column 2"),
        "{}",
        e.message
    );
    assert_eq!(
        err(r#"parser = { format = "regex", regex = "(a)" }"#).path,
        ["parser", "regex"]
    );
    assert_eq!(
        err(r#"parser = { format = "json", time_format = "%Q" }"#).path,
        ["parser", "time_format"]
    );
    assert_eq!(
        err(r#"parser = { format = "json", time_format = "%H", time_offset = "x" }"#).path,
        ["parser", "time_offset"]
    );
    assert_eq!(
        err(r#"parser = { format = "json", speed = 1 }"#).path,
        ["parser", "speed"]
    );
    assert_eq!(
        err(r#"parser = { format = "yaml" }"#).path,
        ["parser", "format"]
    );
    assert_eq!(err("parser = 3").path, ["parser"]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every built-in parser, on any line: no panic, one event per line, and a line
        /// that does not parse keeps its text.
        #[test]
        fn builtins_keep_every_line(
            which in 0..table::BUILTINS.len(),
            lines in prop::collection::vec("\\PC{0,60}|[<>\\[\\]\" :0-9a-zA-Z./-]{0,60}", 1..6),
        ) {
            let mut t = build(&format!("parser = {:?}", table::BUILTINS[which].name)).unwrap();
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let out = run_lines(t.as_mut(), &refs);
            let events: Vec<_> = out.into_iter().flat_map(|mut b| b.take_events()).collect();
            prop_assert_eq!(events.len(), lines.len());
            let unread = Value::from("the text is not in the parser's format");
            for (ev, line) in events.iter().zip(&lines) {
                if ev.fields.get("_skiff_error") == Some(&unread) {
                    prop_assert_eq!(ev.fields.get("message"), Some(&Value::from(line.as_str())));
                }
            }
        }
    }
}
