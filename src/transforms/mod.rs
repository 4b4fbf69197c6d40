//! Transforms: functions on batches between sources and sinks.
//!
//! A transform receives batches in order and pushes what it produces to `out`. Most are 1:1 (one
//! batch in, the same batch out, modified); some hold events back (multiline) and emit them later
//! from [`Transform::tick`] or [`Transform::finish`]. A transform never drops a batch's
//! acknowledgement handles: dropping events on purpose (a filter) keeps the batch, possibly empty,
//! so that its handles travel on to the sinks, which confirm them.
//!
//! Layout: one file per transform type (`parse_json`, `parse_regex`, `parse_logfmt`,
//! `parse_cri`, `parse_docker`, `multiline`, `parse_timestamp`, `add_fields`, `rename_fields`,
//! `remove_fields`, `filter`, `kubernetes`, `log_to_metric`), and a folder for `parse` ([`parsers`]: Fluent Bit's
//! parsers by name or inline); `multiline` decides with [`multiline_rules`] and hands Fluent
//! Bit's container parsers to [`multiline_container`]; shared pieces in their own files: [`parser`] (what
//! the field parsers share), [`partial`] (what the container log parsers share), [`pending`]
//! (events assembled from several lines, with their acknowledgements), [`json_value`],
//! [`regex_tail`], [`timestamp`] (its engine is [`crate::time`]), [`types`], [`template`],
//! [`downward`], [`on_error`].

pub mod add_fields;
pub mod downward;
pub mod filter;
pub mod json_value;
pub mod kubernetes;
pub mod log_to_metric;
pub mod multiline;
pub mod multiline_container;
pub mod multiline_rules;
pub mod on_error;
pub mod parse_cri;
pub mod parse_docker;
pub mod parse_json;
pub mod parse_logfmt;
pub mod parse_regex;
pub mod parse_timestamp;
pub mod parser;
pub mod parsers;
pub mod partial;
pub mod pending;
pub mod regex_tail;
pub mod remove_fields;
pub mod rename_fields;
pub mod template;
pub mod timestamp;
pub mod types;

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testing;

use std::fmt::Debug;
use std::time::Duration;

use crate::config::Kind;
use crate::config::{parse_kind, FieldError};
use crate::event::Batch;

/// The validated config of one transform; builds fresh instances (one per topology).
pub trait TransformConfig: Debug + Send + Sync {
    /// The `type` name.
    fn kind(&self) -> &'static str;
    /// A new instance. `name` is the component's name, for metrics and logs.
    fn build(&self, name: &str) -> Box<dyn Transform>;

    /// True when batches can be processed by several instances at once (the transform keeps no
    /// state between batches). The topology then runs one instance per core and keeps the
    /// output in input order.
    fn stateless(&self) -> bool {
        false
    }

    /// Problems found while the table was read that do not stop skiff (a Downward API file that
    /// does not exist), each at its key. They are reported with the config's warnings, once
    /// logging is set up (`skiff validate` prints them too).
    fn warnings(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// A running transform.
pub trait Transform: Send {
    /// Processes one batch, pushing the output to `out`.
    fn transform(&mut self, batch: Batch, out: &mut Vec<Batch>);

    /// How often [`Transform::tick`] must run; `None` for transforms without timers.
    fn tick_interval(&self) -> Option<Duration> {
        None
    }

    /// Emits what timed out (multiline).
    fn tick(&mut self, _out: &mut Vec<Batch>) {}

    /// End of input: emits everything still held.
    fn finish(&mut self, _out: &mut Vec<Batch>) {}
}

/// Every transform type: its `type` name and the parser of its table.
pub const KINDS: &[Kind<dyn TransformConfig>] = &[
    Kind {
        name: "parse",
        parse: |t| Ok(Box::new(parsers::ParseConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "parse_json",
        parse: |t| Ok(Box::new(parse_json::ParseJsonConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "parse_regex",
        parse: |t| Ok(Box::new(parse_regex::ParseRegexConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "parse_logfmt",
        parse: |t| Ok(Box::new(parse_logfmt::ParseLogfmtConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "parse_cri",
        parse: |t| Ok(Box::new(parse_cri::ParseCriConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "parse_docker",
        parse: |t| Ok(Box::new(parse_docker::ParseDockerConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "multiline",
        parse: multiline_container::parse_multiline,
        paths: &[],
    },
    Kind {
        name: "parse_timestamp",
        parse: |t| Ok(Box::new(parse_timestamp::ParseTimestampConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "add_fields",
        parse: |t| Ok(Box::new(add_fields::AddFieldsConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "rename_fields",
        parse: |t| Ok(Box::new(rename_fields::RenameFieldsConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "remove_fields",
        parse: |t| Ok(Box::new(remove_fields::RemoveFieldsConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "filter",
        parse: |t| Ok(Box::new(filter::FilterConfig::parse(t)?)),
        paths: &[],
    },
    Kind {
        name: "kubernetes",
        parse: |t| Ok(Box::new(kubernetes::KubernetesConfig::parse(t)?)),
        paths: &["labels_file", "annotations_file"],
    },
    Kind {
        name: "log_to_metric",
        parse: |t| Ok(Box::new(log_to_metric::LogToMetricConfig::parse(t)?)),
        paths: &[],
    },
];

/// Parses the table of a component of type `kind` (tests and benches build components this
/// way; a config goes through [`crate::components::REGISTRY`]).
pub fn parse(kind: &str, table: toml::Table) -> Result<Box<dyn TransformConfig>, FieldError> {
    parse_kind(KINDS, kind, table).map(|(_, config)| config)
}
