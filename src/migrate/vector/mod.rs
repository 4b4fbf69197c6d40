//! The Vector wing of `skiff migrate`: converts a Vector config (read into a
//! [`crate::migrate::tree`]) into the shared [`crate::migrate::ir`] document.
//!
//! The files, in the direction they depend on each other:
//! - [`vrl`]: the subset of VRL that maps onto skiff transforms;
//! - [`keys`] (which keys were used, and the notes for the rest), [`values`] (Vector values in
//!   skiff's terms);
//! - [`transforms`] (`remap`, `filter`) ← [`graph`] (names, `inputs`, transforms resolved when
//!   first read, left-out components bridged) ← [`sources`] (`file`), [`sinks`]
//!   (`elasticsearch`, `console`, `blackhole`) ← [`convert`](mod@convert), with [`globals`].
//!   Sources, transforms and sinks are each a folder with a table of converters.
//!
//! A new source, transform or sink is a converter function in its folder plus a row in that
//! folder's table ([`sources::SOURCES`], [`transforms::TRANSFORMS`], [`sinks::SINKS`]).

pub mod convert;
pub mod globals;
pub mod graph;
pub mod keys;
pub mod sinks;
pub mod sources;
pub mod transforms;
pub mod values;
pub mod vrl;

pub use convert::convert;
