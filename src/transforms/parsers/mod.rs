//! `parse`: Fluent Bit's parsers in skiff, by name or written inline.
//!
//! ```toml
//! [transforms.web]
//! type = "parse"
//! inputs = ["app"]
//! parser = "nginx"                       # a built-in parser
//! # parsers = ["apache2", "apache_error"] # tried in order, the first that reads the text wins
//! # parser = { format = "regex", regex = '^(?<host>[^ ]*) ...', time_key = "time",
//! #            time_format = "%d/%b/%Y:%H:%M:%S %z", types = { code = "integer" } }
//! ```
//!
//! Every parser of Fluent Bit's stock `conf/parsers.conf` is built in ([`table`]) and gives
//! Fluent Bit's fields and times, so that the common formats (nginx, apache, syslog, container
//! runtimes) need no parsers file. An inline parser takes the keys of a Fluent Bit `[PARSER]`
//! section, its regex in Fluent Bit's own syntax ([`crate::dialect::onigmo`] translates it at
//! load). The options every parser has (`field`, `target`, `keep_source`, `on_error`,
//! `timestamp`) apply ([`super::parser`]); a parser's own time sets the event's time unless a
//! `timestamp` option is given too.

pub mod definition;
pub mod table;
pub mod text;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use self::definition::{Definition, DefinitionConfig, FluentParser};
use super::on_error::Reason;
use super::parser::{parse_own, Parse, ParserOptions, ParserTransform};
use super::{Transform, TransformConfig};
use crate::config::{parse_value, FieldError};
use crate::event::Value;

/// The options of `parse` besides the common ones.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnOptions {
    /// One parser: a built-in name or an inline definition.
    #[serde(default)]
    parser: Option<toml::Value>,
    /// Parsers tried in order.
    #[serde(default)]
    parsers: Vec<toml::Value>,
}

/// The definition a built-in name or an inline table stands for; errors carry `path`.
pub fn resolve(value: toml::Value, path: &[&str]) -> Result<Definition, FieldError> {
    match value {
        toml::Value::String(name) => table::find(&name)
            .map(|b| b.definition())
            .ok_or_else(|| FieldError::new(path, unknown(&name))),
        table @ toml::Value::Table(_) => {
            let raw: DefinitionConfig = parse_value(table).map_err(|e| e.within(path))?;
            raw.check().map_err(|(key, msg)| {
                let mut p = path.to_vec();
                p.push(key);
                FieldError::new(&p, msg)
            })
        }
        _ => Err(FieldError::new(
            path,
            "expected the name of a built-in parser or a table defining one",
        )),
    }
}

/// The message for a name that is not built in.
fn unknown(name: &str) -> String {
    let names: Vec<&str> = table::BUILTINS.iter().map(|b| b.name).collect();
    format!(
        "unknown parser `{name}`; the built-in parsers are {}",
        names.join(", ")
    )
}

/// A validated `parse` transform.
#[derive(Debug, Clone)]
pub struct ParseConfig {
    opts: ParserOptions,
    parser: ParserList,
}

impl ParseConfig {
    /// Parses and checks the table, compiling the parsers.
    pub fn parse(mut table: toml::Table) -> Result<ParseConfig, FieldError> {
        let opts = ParserOptions::take_from(&mut table)?;
        let own: OwnOptions = parse_own(table)?;
        let entries: Vec<(toml::Value, Vec<String>)> = match (own.parser, own.parsers) {
            (Some(p), v) if v.is_empty() => vec![(p, vec!["parser".into()])],
            (None, v) if !v.is_empty() => v
                .into_iter()
                .enumerate()
                .map(|(i, p)| (p, vec!["parsers".into(), i.to_string()]))
                .collect(),
            (None, _) => {
                return Err(FieldError::new(
                    &[],
                    "set `parser` (a built-in name or an inline definition), or `parsers`",
                ))
            }
            (Some(_), _) => {
                return Err(FieldError::new(
                    &["parsers"],
                    "set either `parser` or `parsers`, not both",
                ))
            }
        };
        let mut parsers = Vec::with_capacity(entries.len());
        for (value, path) in entries {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            let def = resolve(value, &path)?;
            let compiled = def.compile().map_err(|(key, msg)| {
                let mut p = path.clone();
                p.push(key);
                FieldError::new(&p, msg)
            })?;
            parsers.push(compiled);
        }
        Ok(ParseConfig {
            opts,
            parser: ParserList {
                parsers,
                time: None,
            },
        })
    }
}

impl TransformConfig for ParseConfig {
    fn stateless(&self) -> bool {
        true
    }

    fn kind(&self) -> &'static str {
        "parse"
    }

    fn build(&self, name: &str) -> Box<dyn Transform> {
        Box::new(ParserTransform::new(
            name,
            self.parser.clone(),
            self.opts.clone(),
        ))
    }
}

/// Parsers tried in order; the first that reads the text wins.
#[derive(Debug, Clone)]
pub struct ParserList {
    parsers: Vec<FluentParser>,
    /// The time the last successful parse found.
    time: Option<DateTime<Utc>>,
}

impl Parse for ParserList {
    #[inline]
    fn parse(
        &mut self,
        owner: &Bytes,
        input: &[u8],
        warning: &mut Option<Reason>,
    ) -> Result<Value, Reason> {
        self.time = None;
        for p in &mut self.parsers {
            if let Some((fields, time)) = p.run(owner, input, warning) {
                self.time = time;
                return Ok(Value::Object(fields));
            }
        }
        Err(Cow::Borrowed(if self.parsers.len() == 1 {
            "the text is not in the parser's format"
        } else {
            "the text is in none of the parsers' formats"
        }))
    }

    fn event_time(&mut self) -> Option<DateTime<Utc>> {
        self.time.take()
    }
}
