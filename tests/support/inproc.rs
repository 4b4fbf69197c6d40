//! skiff's pipeline run inside the test process, with a sink that collects what it is given:
//! for checks that need skiff's metrics (process-wide), or more runs than spawning the binary
//! allows.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use skiff::components::{self as config, Component};
use skiff::event::{Batch, Payload, Value};
use skiff::sinks::{SinkConfig, SinkContext, SinkError, SinkFuture};
use skiff::topology::{self, RunOptions, TopologyError};
use tokio::sync::mpsc;

/// A sink that keeps every line (or event message) and confirms each batch. While `held`, it
/// takes nothing from its input (a sink that cannot deliver: downstream fills up).
#[derive(Debug, Clone, Default)]
pub struct Collect {
    pub lines: Arc<Mutex<Vec<String>>>,
    pub held: Arc<AtomicBool>,
}

impl SinkConfig for Collect {
    fn kind(&self) -> &'static str {
        "collect"
    }

    fn build(
        &self,
        _ctx: SinkContext,
        mut input: mpsc::Receiver<Batch>,
    ) -> Result<SinkFuture, SinkError> {
        let lines = Arc::clone(&self.lines);
        let held = Arc::clone(&self.held);
        Ok(Box::pin(async move {
            loop {
                while held.load(Ordering::Acquire) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let Some(batch) = input.recv().await else {
                    break;
                };
                {
                    let mut out = lines.lock().expect("lines lock");
                    match &batch.payload {
                        Payload::Lines(l) => out.extend(
                            l.spans
                                .iter()
                                .map(|s| String::from_utf8_lossy(l.line(s)).into_owned()),
                        ),
                        Payload::Events(events) => {
                            out.extend(events.iter().map(|e| match e.fields.get("message") {
                                Some(Value::Str(s)) => String::from_utf8_lossy(s).into_owned(),
                                Some(other) => skiff::codec::json::to_text(other),
                                None => String::new(),
                            }))
                        }
                        // This sink offers no encoder: nothing is encoded ahead of it.
                        Payload::Encoded(_) => unreachable!("collect sink has no encoder"),
                    }
                }
                batch.confirm();
            }
            Ok(())
        }))
    }
}

/// A pipeline running on its own runtime: the sources of `toml`, all feeding one [`Collect`].
pub struct InProc {
    rt: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), TopologyError>>>,
    pub lines: Arc<Mutex<Vec<String>>>,
    held: Arc<AtomicBool>,
}

impl InProc {
    /// Starts the pipeline of `toml` (sources only; sinks are added here).
    pub fn start(toml: &str) -> InProc {
        Self::start_with(toml, false, true)
    }

    /// Starts the pipeline of `toml` as it is (its own sinks; [`count`](Self::count) stays 0).
    pub fn start_as_configured(toml: &str) -> InProc {
        Self::start_with(toml, false, false)
    }

    /// Like [`start`](Self::start), with the sink holding back until [`release`](Self::release).
    pub fn start_held(toml: &str) -> InProc {
        Self::start_with(toml, true, true)
    }

    /// Lets a held sink take batches.
    pub fn release(&self) {
        self.held.store(false, Ordering::Release);
    }

    fn start_with(toml: &str, held: bool, collect_all: bool) -> InProc {
        // A source must reach a sink: a `blackhole` named `collect` reads every source in the
        // file, and is replaced below by the collecting sink, which no config can name.
        let text = if collect_all {
            let table: toml::Table = toml::from_str(toml).expect("torture TOML");
            let sources: Vec<String> = table
                .get("sources")
                .and_then(toml::Value::as_table)
                .map(|t| t.keys().map(|k| format!("{k:?}")).collect())
                .unwrap_or_default();
            format!(
                "{toml}\n[sinks.collect]\ntype = \"blackhole\"\ninputs = [{}]\n",
                sources.join(", ")
            )
        } else {
            toml.to_owned()
        };
        let mut config = config::load_str(Path::new("inproc.toml"), &text, |_| None)
            .unwrap_or_else(|e| panic!("config: {e}\n{text}"));
        config.sinks.retain(|s| s.name != "collect");
        let collect = Collect::default();
        collect.held.store(held, Ordering::Release);
        let lines = Arc::clone(&collect.lines);
        let held = Arc::clone(&collect.held);
        if collect_all {
            config.sinks.push(Component {
                name: "collect".into(),
                kind: "collect",
                inputs: config.sources.iter().map(|s| s.name.clone()).collect(),
                config: Box::new(collect),
            });
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let opts = RunOptions::default();
        let handle = rt.spawn(topology::run(config, opts, async {
            let _ = stopped.await;
        }));
        InProc {
            rt: Some(rt),
            stop: Some(stop),
            handle: Some(handle),
            lines,
            held,
        }
    }

    pub fn count(&self) -> usize {
        self.lines.lock().expect("lines lock").len()
    }

    /// Drains (as SIGTERM would) and returns the run's result and every line collected.
    pub fn stop(mut self) -> (Result<(), TopologyError>, Vec<String>) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = match (self.handle.take(), self.rt.as_ref()) {
            (Some(h), Some(rt)) => rt.block_on(h).expect("topology task"),
            _ => Ok(()),
        };
        let lines = self.lines.lock().expect("lines lock").clone();
        (result, lines)
    }
}

impl Drop for InProc {
    /// A test that failed half way must not hang on a pipeline still waiting for its sink.
    fn drop(&mut self) {
        self.held.store(false, Ordering::Release);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(5));
        }
    }
}
