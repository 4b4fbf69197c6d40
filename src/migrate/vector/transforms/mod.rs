//! Vector transforms as rows of skiff transforms: `remap` ([`remap`], its VRL program
//! statement by statement), `filter` ([`filter`], its condition as skiff filters) and the older
//! `json_parser` / `regex_parser` ([`parsers`]). Any other transform is left out with a
//! warning, and events go on without it.
//!
//! To convert another transform, write its converter (a [`Convert`]) and add it to
//! [`TRANSFORMS`].

pub mod filter;
pub mod parsers;
pub mod remap;

use super::keys::Keys;
use crate::migrate::ir::{Ctx, Severity, Spec};

/// Converts a transform from its keys into the skiff transforms that do its job, in order;
/// `Err` holds the comment lines when nothing of it could be kept.
pub type Convert = fn(&mut Ctx, &mut Keys) -> Result<Vec<Spec>, Vec<String>>;

/// The transforms skiff converts, by Vector type.
pub const TRANSFORMS: &[(&str, Convert)] = &[
    ("remap", remap::remap),
    ("filter", filter::filter),
    ("json_parser", parsers::json_parser),
    ("regex_parser", parsers::regex_parser),
];

/// Converts transform `name` of Vector type `kind`.
pub fn transform(
    ctx: &mut Ctx,
    keys: &mut Keys,
    name: &str,
    kind: &str,
) -> Result<Vec<Spec>, Vec<String>> {
    match TRANSFORMS.iter().find(|(k, _)| *k == kind) {
        Some((_, convert)) => convert(ctx, keys),
        None => Err(vec![ctx.note(
            Severity::Warning,
            &keys.place(keys.line),
            &format!("[transforms.{name}] type = \"{kind}\""),
            "has no skiff equivalent; events go on without it",
        )]),
    }
}
