//! The `blackhole` sink: counts and acknowledges everything, writes nothing. For benchmarks and
//! for measuring the cost of sources and transforms alone.

use serde::Deserialize;
use tokio::sync::mpsc;

use super::{SinkConfig, SinkContext, SinkError, SinkFuture};
use crate::event::Batch;
use crate::metrics::{component, metrics};

/// `[sinks.NAME] type = "blackhole"`: no options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlackholeConfig {}

impl SinkConfig for BlackholeConfig {
    fn kind(&self) -> &'static str {
        "blackhole"
    }

    fn build(
        &self,
        ctx: SinkContext,
        mut input: mpsc::Receiver<Batch>,
    ) -> Result<SinkFuture, SinkError> {
        Ok(Box::pin(async move {
            let labels = component(&ctx.name);
            let m = metrics();
            while let Some(batch) = input.recv().await {
                let n = batch.len() as u64;
                m.events_in.get_or_create(&labels).inc_by(n);
                m.events_out.get_or_create(&labels).inc_by(n);
                batch.confirm();
            }
            Ok(())
        }))
    }
}
