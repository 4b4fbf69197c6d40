//! Builds the running pipeline from a validated config and runs it until it drains.
//!
//! Each transform and sink gets one bounded input channel; each producer a [`Fanout`] to the
//! channels of the components that list it as an input. Sources run on their own threads,
//! transforms and sinks as tokio tasks. Channels hold at most [`CHANNEL_BATCHES`] batches, so a
//! slow sink fills them, the source blocks on its send, and the data waits in the file.
//!
//! A transform that keeps no state between batches runs as several instances at once (one per
//! core, up to 4), its output kept in input order (`parallel`); a chain of such transforms
//! (each feeding only the next) runs as one stage (`fuse`). When that stage's only consumer is
//! a sink with an encoder, each worker encodes its output for the sink (`encode`).
//!
//! Shutdown (SIGTERM, the sentinel file, the end of `--once`): sources are told to drain (read
//! what is written, emit partial lines, close their output); the closing cascades down the graph,
//! each component flushing as its input closes; sinks confirm what they delivered; sources write
//! their last checkpoint once every batch is resolved. If that takes longer than
//! `shutdown_timeout`, sinks are aborted and sources stop with what was acknowledged.
//!
//! A config reload ([`crate::reload`]) drains the same way ([`StopKind::Reload`]), except that
//! lines not yet ended stay in the files; [`Running::wait`] returns only once every source thread
//! has returned, so the next topology's sources load complete checkpoints.

mod encode;
mod fuse;
mod parallel;

pub use crate::fanout::{Closed, Fanout};

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::components::Config;
use crate::event::Batch;
use crate::metrics::{component, metrics};
use crate::sinks::{SinkConfig, SinkContext, SinkError};
use crate::sources::{Signal, SourceContext};
use crate::transforms::Transform;

/// Capacity of each channel between components, in batches.
pub const CHANNEL_BATCHES: usize = 2;

/// Why a run ended badly.
#[derive(Debug, Error)]
pub enum TopologyError {
    #[error(transparent)]
    Source(#[from] crate::sources::SourceError),
    #[error(transparent)]
    DataDir(#[from] crate::data_dir::DataDirError),
    #[error("sink `{name}` failed: {error}")]
    Sink { name: String, error: SinkError },
    #[error("drain did not finish within the shutdown timeout ({0:?}); undelivered data will be read again on restart")]
    DrainTimeout(Duration),
}

/// The pipeline's state, for probes. One per process: it outlives topologies across reloads.
#[derive(Debug, Default)]
pub struct Status {
    /// The topology is built and running.
    pub running: AtomicBool,
    /// Checkpoints are loaded and sources started.
    pub ready: AtomicBool,
    /// Shutdown has begun.
    pub draining: AtomicBool,
    /// A component died.
    pub failed: AtomicBool,
    /// A config reload is replacing the topology: its drain is not a shutdown.
    pub reloading: AtomicBool,
}

impl Status {
    /// Liveness: false once a component died.
    pub fn is_healthy(&self) -> bool {
        !self.failed.load(Ordering::Acquire)
    }

    /// Readiness: the pipeline started and is not draining for shutdown. A reload in progress
    /// (its old topology draining, its new one starting) stays ready.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
            && self.is_healthy()
            && (!self.is_draining() || self.reloading.load(Ordering::Acquire))
    }

    /// A drain (for shutdown or reload) is under way.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Read every file to its end, deliver, and stop.
    pub once: bool,
    /// Shared state for probes.
    pub status: Arc<Status>,
    /// This topology replaces another one in the same process (a reload): sources resume from
    /// checkpoints and never start a file at its end.
    pub resumed: bool,
}

/// Why a running topology is asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    /// Shutdown: drain everything, including lines not yet ended.
    Shutdown,
    /// Config reload: drain what is complete; unfinished lines stay in the files for the next
    /// topology, which resumes from the checkpoints.
    Reload,
}

enum Ended {
    Stop(StopKind),
    SourcesDone,
    Sentinel(PathBuf),
    Failed(TopologyError),
}

/// Runs `config` until `shutdown` resolves (or, with `once`, until everything was read), then
/// drains.
pub async fn run(
    config: Config,
    opts: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TopologyError> {
    start(config, opts)
        .await?
        .wait(async {
            shutdown.await;
            StopKind::Shutdown
        })
        .await
}

/// The running sinks, each returning its name with its result.
type SinkTasks = JoinSet<(String, Result<(), SinkError>)>;

/// A started topology; [`Running::wait`] runs it to its end.
pub struct Running {
    opts: RunOptions,
    shutdown_timeout: Duration,
    exit_on_file: Option<PathBuf>,
    abort: CancellationToken,
    signal_txs: Vec<std::sync::mpsc::Sender<Signal>>,
    source_threads: JoinSet<()>,
    sinks: SinkTasks,
    transforms: JoinSet<()>,
}

/// The channels of a graph: one bounded channel into each transform and sink.
struct Channels {
    senders: HashMap<String, mpsc::Sender<Batch>>,
    receivers: HashMap<String, mpsc::Receiver<Batch>>,
    /// Each consumer with the names it reads from.
    consumers: Vec<(String, Vec<String>)>,
}

impl Channels {
    fn new(config: &Config) -> Channels {
        let consumers: Vec<(String, Vec<String>)> = config
            .transforms
            .iter()
            .map(|c| (c.name.clone(), c.inputs.clone()))
            .chain(
                config
                    .sinks
                    .iter()
                    .map(|c| (c.name.clone(), c.inputs.clone())),
            )
            .collect();
        let mut senders = HashMap::new();
        let mut receivers = HashMap::new();
        for (name, _) in &consumers {
            let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
            senders.insert(name.clone(), tx);
            receivers.insert(name.clone(), rx);
        }
        Channels {
            senders,
            receivers,
            consumers,
        }
    }

    /// The receiving end of `name`'s channel (taken once).
    fn input(&mut self, name: &str) -> Result<mpsc::Receiver<Batch>, TopologyError> {
        self.receivers.remove(name).ok_or_else(|| internal(name))
    }

    /// Where `producer`'s output goes: every consumer that lists it.
    fn fanout_for(&self, producer: &str) -> Fanout {
        Fanout::new(
            self.consumers
                .iter()
                .filter(|(_, inputs)| inputs.iter().any(|i| i == producer))
                .filter_map(|(name, _)| self.senders.get(name).cloned())
                .collect(),
        )
    }
}

/// Builds the graph of `config` and starts every component. On error nothing is left running.
pub async fn start(config: Config, opts: RunOptions) -> Result<Running, TopologyError> {
    // Without checkpoints a restart would read everything again: nothing starts first.
    crate::data_dir::prepare(&config.data_dir)?;
    let mut channels = Channels::new(&config);
    let abort = CancellationToken::new();
    let sinks = start_sinks(&config, &mut channels, &abort)?;
    let transforms = start_transforms(&config, &mut channels)?;
    let (signal_txs, handles) = match start_sources(&config, &channels, &opts).await {
        Ok(started) => started,
        Err(e) => {
            drop((sinks, transforms));
            return Err(e);
        }
    };
    // Only producers hold senders now: channels close as producers finish.
    drop(channels);
    opts.status.draining.store(false, Ordering::Release);
    opts.status.running.store(true, Ordering::Release);
    opts.status.ready.store(true, Ordering::Release);

    let mut source_threads = JoinSet::new();
    for handle in handles {
        source_threads.spawn_blocking(move || {
            let _ = handle.join();
        });
    }
    Ok(Running {
        opts,
        shutdown_timeout: config.shutdown_timeout,
        exit_on_file: config.exit_on_file.clone(),
        abort,
        signal_txs,
        source_threads,
        sinks,
        transforms,
    })
}

/// Builds and spawns every sink on its channel.
fn start_sinks(
    config: &Config,
    channels: &mut Channels,
    abort: &CancellationToken,
) -> Result<SinkTasks, TopologyError> {
    let mut sinks = JoinSet::new();
    for c in &config.sinks {
        let rx = channels.input(&c.name)?;
        let ctx = SinkContext {
            name: c.name.clone(),
            data_dir: config.data_dir.clone(),
            abort: abort.clone(),
        };
        let fut = c
            .config
            .build(ctx, rx)
            .map_err(|error| TopologyError::Sink {
                name: c.name.clone(),
                error,
            })?;
        let name = c.name.clone();
        sinks.spawn(async move { (name, fut.await) });
    }
    Ok(sinks)
}

/// Spawns every transform stage: fused chains and stateless transforms on one instance per
/// core (order kept), the rest on one task each.
fn start_transforms(
    config: &Config,
    channels: &mut Channels,
) -> Result<JoinSet<()>, TopologyError> {
    let mut transforms = JoinSet::new();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    for chain in fuse::chains(config) {
        let (Some(head), Some(last)) = (chain.first(), chain.last()) else {
            continue;
        };
        let rx = channels.input(&head.name)?;
        let out = channels.fanout_for(&last.name);
        // A parallel stage whose only consumer is a sink with an encoder encodes for it.
        let sink = sole_sink_consumer(config, &last.name);
        let with_encoder = |t: Box<dyn Transform>| match sink.and_then(|s| s.encoder()) {
            Some(encoder) => Box::new(encode::Encode::new(t, encoder)) as Box<dyn Transform>,
            None => t,
        };
        if chain.len() > 1 {
            // Each part counts its own events; the runner counts nothing more.
            let instances = (0..workers.max(1))
                .map(|_| with_encoder(Box::new(fuse::Fused::build(&chain))))
                .collect();
            transforms.spawn(parallel::run(fuse::name(&chain), false, instances, rx, out));
        } else if head.config.stateless() && workers > 1 {
            let instances = (0..workers)
                .map(|_| with_encoder(head.config.build(&head.name)))
                .collect();
            transforms.spawn(parallel::run(head.name.clone(), true, instances, rx, out));
        } else {
            let t = head.config.build(&head.name);
            transforms.spawn(run_transform(head.name.clone(), t, rx, out));
        }
    }
    Ok(transforms)
}

/// A started source's signal channel and thread.
type StartedSources = (Vec<std::sync::mpsc::Sender<Signal>>, Vec<JoinHandle<()>>);

/// Starts every source on its own thread. When one cannot start, those already started are
/// stopped and joined before the error returns: nothing may reuse their checkpoints while
/// they run.
async fn start_sources(
    config: &Config,
    channels: &Channels,
    opts: &RunOptions,
) -> Result<StartedSources, TopologyError> {
    let mut signal_txs = Vec::new();
    let mut handles = Vec::new();
    for c in &config.sources {
        let (signal_tx, signals) = std::sync::mpsc::channel();
        let ctx = SourceContext {
            name: c.name.clone(),
            data_dir: config.data_dir.clone(),
            out: channels.fanout_for(&c.name),
            once: opts.once,
            resumed: opts.resumed,
            signal_tx: signal_tx.clone(),
            signals,
        };
        match c.config.start(ctx) {
            Ok(handle) => {
                signal_txs.push(signal_tx);
                handles.push(handle);
            }
            Err(e) => {
                for tx in &signal_txs {
                    let _ = tx.send(Signal::Stop);
                }
                let _ = tokio::task::spawn_blocking(move || {
                    for h in handles {
                        let _ = h.join();
                    }
                })
                .await;
                return Err(e.into());
            }
        }
    }
    Ok((signal_txs, handles))
}

impl Running {
    /// Runs until `stop` resolves (or the sentinel file appears, or with `once` every file was
    /// read, or a component fails), then drains within `shutdown_timeout`. When this returns,
    /// every source thread has returned and written its last checkpoint.
    pub async fn wait(mut self, stop: impl Future<Output = StopKind>) -> Result<(), TopologyError> {
        let ended = self.wait_for_end(stop).await;
        let status = &self.opts.status;
        status.draining.store(true, Ordering::Release);
        let mut result = Ok(());
        let mut for_reload = false;
        match ended {
            Ended::Stop(StopKind::Shutdown) => {
                tracing::info!(message = "Shutting down: draining the pipeline.", timeout = ?self.shutdown_timeout)
            }
            Ended::Stop(StopKind::Reload) => {
                tracing::info!(message = "Reloading: draining the current pipeline.", timeout = ?self.shutdown_timeout);
                for_reload = true;
            }
            Ended::Sentinel(p) => {
                tracing::info!(message = "Sentinel file found: draining the pipeline, then exiting.", path = %p.display())
            }
            Ended::SourcesDone => {}
            Ended::Failed(e) => {
                // The reason is logged once, with the exit code, when skiff stops.
                tracing::error!(
                    message = "A component failed; draining what was read, then stopping."
                );
                status.failed.store(true, Ordering::Release);
                result = Err(e);
            }
        }
        for tx in &self.signal_txs {
            let _ = tx.send(if for_reload {
                Signal::DrainForReload
            } else {
                Signal::Drain
            });
        }
        let drained = tokio::time::timeout(self.shutdown_timeout, async {
            while self.source_threads.join_next().await.is_some() {}
            while let Some(r) = self.sinks.join_next().await {
                if let Ok((name, Err(error))) = r {
                    // Not everything was delivered: the run fails (its reason logged once, when
                    // skiff stops), or, when it already failed, this is a second reason.
                    if result.is_ok() {
                        result = Err(TopologyError::Sink { name, error });
                    } else {
                        tracing::error!(message = "Sink failed while draining.", sink = %name, %error);
                    }
                }
            }
            while self.transforms.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                message =
                    "Drain took longer than shutdown_timeout; stopping with what was delivered."
            );
            self.abort.cancel();
            for tx in &self.signal_txs {
                let _ = tx.send(Signal::Stop);
            }
            self.sinks.abort_all();
            self.transforms.abort_all();
            // Sources write their last checkpoint and return promptly once told to stop (their
            // blocked sends fail as the aborted consumers drop their inputs).
            while self.source_threads.join_next().await.is_some() {}
            if result.is_ok() {
                result = Err(TopologyError::DrainTimeout(self.shutdown_timeout));
            }
        }
        status.running.store(false, Ordering::Release);
        result
    }

    async fn wait_for_end(&mut self, stop: impl Future<Output = StopKind>) -> Ended {
        let sentinel = self.exit_on_file.clone();
        let watch_sentinel = async move {
            let Some(path) = sentinel else {
                return std::future::pending().await;
            };
            loop {
                if path.exists() {
                    return path;
                }
                tokio::time::sleep(SENTINEL_POLL).await;
            }
        };
        let once = self.opts.once;
        tokio::pin!(stop);
        tokio::pin!(watch_sentinel);
        loop {
            tokio::select! {
                kind = &mut stop => return Ended::Stop(kind),
                path = &mut watch_sentinel => return Ended::Sentinel(path),
                Some(r) = self.sinks.join_next() => match r {
                    Ok((name, Err(error))) => return Ended::Failed(TopologyError::Sink { name, error }),
                    Ok((name, Ok(()))) => tracing::debug!(message = "Sink finished.", sink = %name),
                    Err(e) => return Ended::Failed(TopologyError::Sink { name: "?".into(), error: SinkError::Other(e.to_string()) }),
                },
                Some(_) = self.source_threads.join_next(), if once => {
                    if self.source_threads.is_empty() {
                        return Ended::SourcesDone;
                    }
                }
            }
        }
    }
}

/// How often the sentinel file (`exit_on_file`) is looked for.
pub const SENTINEL_POLL: Duration = Duration::from_millis(500);

/// The sink that is the only consumer of `producer`'s output, if there is one.
fn sole_sink_consumer<'a>(config: &'a Config, producer: &str) -> Option<&'a dyn SinkConfig> {
    let feeds = |inputs: &[String]| inputs.iter().any(|i| i == producer);
    let transforms = config
        .transforms
        .iter()
        .filter(|c| feeds(&c.inputs))
        .count();
    let mut sinks = config.sinks.iter().filter(|c| feeds(&c.inputs));
    match (transforms, sinks.next(), sinks.next()) {
        (0, Some(sink), None) => Some(sink.config.as_ref()),
        _ => None,
    }
}

fn internal(name: &str) -> TopologyError {
    TopologyError::Sink {
        name: name.to_owned(),
        error: SinkError::Other("internal error: channel missing".into()),
    }
}

/// A transform's task: batches in, batches out, timers, and a flush when the input closes.
async fn run_transform(
    name: String,
    mut t: Box<dyn Transform>,
    mut rx: mpsc::Receiver<Batch>,
    out: Fanout,
) {
    let labels = component(&name);
    let m = metrics();
    let mut produced = Vec::new();
    let mut ticker = t.tick_interval().map(|d| {
        let mut iv = tokio::time::interval(d);
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        iv
    });
    loop {
        let input = match ticker.as_mut() {
            Some(iv) => tokio::select! {
                b = rx.recv() => Some(b),
                _ = iv.tick() => None,
            },
            None => Some(rx.recv().await),
        };
        let done = match input {
            None => {
                t.tick(&mut produced);
                false
            }
            Some(Some(batch)) => {
                m.events_in
                    .get_or_create(&labels)
                    .inc_by(batch.len() as u64);
                t.transform(batch, &mut produced);
                false
            }
            Some(None) => {
                t.finish(&mut produced);
                true
            }
        };
        for batch in produced.drain(..) {
            m.events_out
                .get_or_create(&labels)
                .inc_by(batch.len() as u64);
            if out.send(batch).await.is_err() {
                tracing::warn!(message = "Downstream is gone; the transform stops.", transform = %name);
                return;
            }
        }
        if done {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(sinks: &str) -> Config {
        let text = format!(
            r#"data_dir = "/tmp"
[sources.in]
type = "file"
include = ["/tmp/none-*.log"]
[transforms.parse]
type = "parse_json"
inputs = ["in"]
{sinks}"#
        );
        crate::components::load_str(std::path::Path::new("t.toml"), &text, |_| None).unwrap()
    }

    #[test]
    fn encodes_ahead_only_of_a_sole_sink_consumer() {
        let one = config("[sinks.out]\ntype = \"console\"\ninputs = [\"parse\"]\n");
        let sink = sole_sink_consumer(&one, "parse").expect("console is the sole consumer");
        assert!(sink.encoder().is_some());
        assert!(
            sole_sink_consumer(&one, "in").is_none(),
            "a transform consumes `in`"
        );
        let two = config(
            "[sinks.out]\ntype = \"console\"\ninputs = [\"parse\"]\n\
             [sinks.other]\ntype = \"blackhole\"\ninputs = [\"parse\"]\n",
        );
        assert!(sole_sink_consumer(&two, "parse").is_none());
        let blackhole = config("[sinks.out]\ntype = \"blackhole\"\ninputs = [\"parse\"]\n");
        let sink = sole_sink_consumer(&blackhole, "parse").expect("sole consumer");
        assert!(sink.encoder().is_none(), "the blackhole encodes nothing");
    }
}
