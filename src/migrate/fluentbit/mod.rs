//! The Fluent Bit wing of `skiff migrate`: reads a Fluent Bit config (classic or YAML) and
//! converts it into the shared [`crate::migrate::ir`] document.
//!
//! The files, in the direction they depend on each other:
//! - reading: [`section`] (what both readers produce) ← [`classic`], [`yaml`] ← [`read`] (the
//!   main file, then its parsers files);
//! - converting: [`props`] (which keys were used, and the notes for the rest) ← [`parser`]
//!   (`[PARSER]`s and container formats) ← [`inputs`] (`tail`), [`filters`] (one file per
//!   family); [`service`] ← [`outputs`] (`es`, `stdout`, `null`); all of them ← [`wiring`]
//!   (tags and `Match` into an explicit graph) ← [`convert`](mod@convert).
//!
//! A new input, filter or output is a converter function in its folder plus a row in that
//! folder's table ([`inputs::INPUTS`], [`filters::FILTERS`], [`outputs::OUTPUTS`]).

pub mod classic;
pub mod convert;
pub mod filters;
pub mod inputs;
pub mod multiline;
pub mod outputs;
pub mod parser;
pub mod props;
pub mod read;
pub mod section;
pub mod service;
pub mod tags;
pub mod wiring;
pub mod yaml;

pub use convert::convert;
pub use read::{read_classic, read_yaml};
