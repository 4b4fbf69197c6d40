//! Encoders shared by the sinks: events and raw lines to JSON, written into reusable buffers.

pub mod json;
