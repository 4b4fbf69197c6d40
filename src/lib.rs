//! skiff: a log shipping and format-adapter sidecar.
//!
//! skiff follows the log files an application writes into a shared volume, parses and enriches
//! each line, and ships the events to Elasticsearch or to stdout, delivering every line at least
//! once through rotation, restarts and outages.
//!
//! # Architecture
//!
//! ```text
//!  files ──► sources::file ──► transforms ──► sinks ──► Elasticsearch / stdout
//!              (thread)        (tasks)        (tasks)
//!               ▲  bounded channels of Batches, each carrying AckTokens  │
//!               └──────────── acknowledgements (delivered up to offset) ◄┘
//!  checkpoints in data_dir, moved only to acknowledged offsets
//! ```
//!
//! - **The file is the buffer.** skiff keeps no queue on disk. Channels are bounded
//!   ([`topology::CHANNEL_BATCHES`] batches per edge); a slow sink blocks the source, and the
//!   data waits in the file.
//! - **Acknowledgements drive checkpoints.** Every batch carries an [`acks::AckToken`]; sinks
//!   confirm it after delivery; a file's checkpoint only moves to the highest offset below which
//!   everything was confirmed ([`acks::AckTracker`]).
//! - **Batches, not events, are the unit of work.** A file source emits one [`event::Batch`]
//!   per read: a shared buffer of complete lines. Sinks that need only the line read it from the
//!   buffer; transforms that need structure turn it into [`event::Event`]s whose strings are
//!   slices of that buffer.
//! - **Files are known by what they hold.** A checkpoint entry keeps a hash of a file's first
//!   bytes with its device and inode; renamed files are followed, truncated files read again,
//!   copies recognised ([`sources::file::checkpoint`]). A new file too short to identify that
//!   starts like a known one is held open, unread, until its first bytes tell.
//! - **Parsing uses every core.** Transforms that keep no state between batches run one instance
//!   per core with their output in input order, and a chain of them runs as one stage
//!   ([`topology`]). When such a stage feeds one sink and nothing else, its workers also encode
//!   for that sink ([`sinks::BatchEncoder`]): the sink only writes bytes, and each event is
//!   built, encoded and freed on one thread.
//! - **A reload is a drain and a restart from checkpoints** ([`reload`]): events wait in the
//!   files during the swap, so nothing is lost or repeated.
//!
//! # Layout
//!
//! - [`config`]: the TOML file, `${VAR}` interpolation, validation with line and column, and
//!   the value types components share (units, field errors). It knows no component: it sits
//!   below them.
//! - [`components`]: the registry of every source, transform and sink type (each family fills
//!   its own table of kinds) and the config typed with them.
//! - [`fanout`]: the handle a component sends its output into (below sources and topology).
//! - [`event`]: batches, events, values, field paths.
//! - [`intern`]: config-fixed names and texts shared for the process's life (no reference
//!   counting per event).
//! - [`acks`]: acknowledgement tokens and per-file ordered tracking.
//! - [`sources`]: the `file` source (discovery, line reading, checkpoints, the tail loop).
//! - [`transforms`]: functions on batches: parsers (JSON, regex, logfmt, CRI, docker),
//!   multiline, timestamps, field edits, filter, pod metadata.
//! - [`time`]: reading times: chrono and Fluent Bit formats, IANA zones from zoneinfo files,
//!   years for formats that leave them out.
//! - [`sinks`]: `console`, `blackhole`, `file` (paths by date, rotation), `elasticsearch` (bulk
//!   API, per-item retries, dead letters), `http` (any endpoint: ClickHouse, Loki), the last two
//!   sharing retries, TLS, credentials and dead letters ([`sinks::common`]).
//! - [`codec`]: JSON encoding into reusable buffers.
//! - [`topology`]: wiring and running the graph; drain on shutdown.
//!
//! - [`metrics`]: counters and gauges in Prometheus format; [`process_metrics`]: the process's
//!   memory, CPU and file descriptors under the standard `process_*` names.
//! - [`log_metrics`]: the metrics `log_to_metric` makes from events: a process-wide store of
//!   series with atomic values, and the exposition (Prometheus text or OpenMetrics).
//! - [`api`]: the HTTP listener: `/health`, `/ready`, `/metrics`.
//! - [`reload`]: watching the config file and replacing the topology without loss.
//! - [`ratelimit`]: rate-limited warnings for per-line problems.
//! - [`dialect`]: other tools' dialects (Fluent Bit's Onigmo regexes) translated into skiff's.
//! - [`data_dir`]: the checkpoint directory, checked writable before a topology starts.
//! - [`migrate`]: `skiff migrate`, Fluent Bit and Vector configs converted to skiff's, in two
//!   wings (`migrate/fluentbit/`, `migrate/vector/`: readers, then one converter per plugin
//!   listed in a table, then the graph wiring) over a shared core (the positioned tree, the
//!   converted document and its TOML emitter, the value rules).
//! - [`cutover`]: `skiff import-offsets`, Fluent Bit's tail database (read by a small SQLite
//!   file-format reader) and Vector's checkpoints turned into skiff's checkpoints.
//! - [`app`]: what the binary does: logging setup, `run`, `validate`.
//!
//! Dependencies point one way: `app` → `reload`/`api` → `topology` → `components` →
//! `sinks`/`transforms`/`sources` → `time`/`dialect` → `fanout`/`codec` → `event` →
//! `acks`/`intern`, with `config`, `metrics` (over `process_metrics`), `log_metrics`, `data_dir`
//! and `ratelimit` as leaves that any of them may use. `migrate` stands beside the pipeline
//! (it reads `config`, `time` and the named parsers of `transforms`), and `cutover` beside it
//! (it reads `components` and the file source's checkpoints); no two modules import each other,
//! directly or through others.

#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod acks;
pub mod api;
pub mod app;
pub mod codec;
pub mod components;
pub mod config;
pub mod cutover;
pub mod data_dir;
pub mod dialect;
pub mod event;
pub mod fanout;
pub mod intern;
pub mod log_metrics;
pub mod metrics;
pub mod migrate;
pub mod process_metrics;
pub mod ratelimit;
pub mod reload;
pub mod sinks;
pub mod sources;
pub mod time;
pub mod topology;
pub mod transforms;
