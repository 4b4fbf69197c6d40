//! skiff: a log shipping and format-adapter sidecar.
