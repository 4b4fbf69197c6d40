//! `parse_json`: a field holding a JSON document becomes structured fields (Fluent Bit's
//! `Parser json`, Vector's `parse_json!`).
//!
//! An object's keys are merged into the event (or put under `target`); any other JSON value needs
//! a `target`. Strings share the line's buffer ([`super::json_value`]).

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;

use super::json_value;
use super::on_error::Reason;
use super::parser::{parse_own, Parse, ParserOptions, ParserTransform};
use super::{Transform, TransformConfig};
use crate::config::FieldError;
use crate::event::Value;
use crate::intern::KeyCache;

/// `[transforms.NAME] type = "parse_json"`: only the options every parser has.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnOptions {}

/// A validated `parse_json` transform.
#[derive(Debug, Clone)]
pub struct ParseJsonConfig {
    opts: ParserOptions,
}

impl ParseJsonConfig {
    /// Parses and checks the table.
    pub fn parse(mut table: toml::Table) -> Result<ParseJsonConfig, FieldError> {
        let opts = ParserOptions::take_from(&mut table)?;
        let _: OwnOptions = parse_own(table)?;
        Ok(ParseJsonConfig { opts })
    }
}

impl TransformConfig for ParseJsonConfig {
    fn stateless(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "parse_json"
    }

    fn build(&self, name: &str) -> Box<dyn Transform> {
        Box::new(ParserTransform::new(
            name,
            JsonParser::default(),
            self.opts.clone(),
        ))
    }
}

/// The JSON [`Parse`] implementation.
#[derive(Debug, Clone, Default)]
pub struct JsonParser {
    keys: KeyCache,
}

impl Parse for JsonParser {
    #[inline]
    fn parse(
        &mut self,
        owner: &Bytes,
        input: &[u8],
        _warning: &mut Option<Reason>,
    ) -> Result<Value, Reason> {
        json_value::parse_in(owner, input, Some(&mut self.keys)).map_err(|e| {
            Cow::Owned(format!(
                "invalid JSON: {} at column {}",
                describe(&e),
                e.column()
            ))
        })
    }
}

/// A short description of a JSON error, without serde_json's position suffix.
fn describe(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "unexpected end",
        Category::Syntax => "syntax error",
        Category::Data => "unexpected value",
        Category::Io => "read error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::testing::{json_lines, run_lines};

    fn build(toml_text: &str) -> Box<dyn Transform> {
        ParseJsonConfig::parse(toml::from_str(toml_text).unwrap())
            .unwrap()
            .build("parse_json_test")
    }

    #[test]
    fn golden_merge_with_timestamp() {
        let mut t =
            build("timestamp = { field = \"timestamp\", format = \"%Y-%m-%dT%H:%M:%S%.3f\" }");
        let out = run_lines(
            t.as_mut(),
            &[
                r#"{"timestamp":"2026-11-26T04:00:00.123","level":"INFO","message":"request handled","latency_ms":42}"#,
                r#"{"level":"WARN","nested":{"a":[1,2.5,null]}}"#,
                r#"not json"#,
                r#"[1,2]"#,
                r#"{"timestamp":"yesterday","level":"INFO"}"#,
            ],
        );
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"2026-11-26T04:00:00.123Z","level":"INFO","message":"request handled","latency_ms":42,"file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"<read_at>","level":"WARN","nested":{"a":[1,2.5,null]},"file":"/var/log/app/app.log"}"#,
                r#"{"timestamp":"<read_at>","message":"not json","file":"/var/log/app/app.log","_skiff_error":"invalid JSON: syntax error at column 2"}"#,
                r#"{"timestamp":"<read_at>","message":"[1,2]","file":"/var/log/app/app.log","_skiff_error":"parsed value is not an object and no target is set"}"#,
                r#"{"timestamp":"yesterday","level":"INFO","_skiff_error":"timestamp field `timestamp` did not parse","file":"/var/log/app/app.log"}"#,
            ]
        );
    }

    #[test]
    fn golden_target_keep_source_and_drop() {
        let mut t = build("target = \"parsed\"\nkeep_source = true\non_error = \"drop\"");
        let out = run_lines(t.as_mut(), &[r#"{"a":1}"#, "{oops", r#""just a string""#]);
        assert_eq!(
            json_lines(&out),
            [
                r#"{"timestamp":"<read_at>","message":"{\"a\":1}","file":"/var/log/app/app.log","parsed":{"a":1}}"#,
                r#"{"timestamp":"<read_at>","message":"\"just a string\"","file":"/var/log/app/app.log","parsed":"just a string"}"#,
            ]
        );
    }

    #[test]
    fn nested_source_field() {
        let mut t = build("field = \"payload.body\"");
        let mut ev = crate::event::Event::from_message(Bytes::from_static(b"m"), 0);
        ev.fields.insert_path(
            &crate::event::FieldPath::parse("payload.body").unwrap(),
            Value::from(r#"{"x":"y","message":"inner"}"#),
        );
        let mut out = Vec::new();
        t.transform(crate::transforms::testing::events_batch(vec![ev]), &mut out);
        assert_eq!(
            json_lines(&out),
            [r#"{"timestamp":"<read_at>","x":"y","message":"inner","payload":{}}"#]
        );
    }

    #[test]
    fn unknown_option_names_the_common_ones() {
        let e = ParseJsonConfig::parse(toml::from_str("fields = 1").unwrap()).unwrap_err();
        assert_eq!(e.path, vec!["fields"]);
        assert!(e.message.contains("keep_source"), "{}", e.message);
        let e =
            ParseJsonConfig::parse(toml::from_str("on_error = \"explode\"").unwrap()).unwrap_err();
        assert_eq!(e.path, vec!["on_error"]);
        let e = ParseJsonConfig::parse(
            toml::from_str("timestamp = { field = \"t\", format = \"%Q\" }").unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.path, vec!["timestamp", "format"]);
    }
}
