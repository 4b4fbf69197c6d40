//! The in-process Elasticsearch test server as a standalone process, for
//! skiff's benchmark harness (and for poking at skiff by hand).
//!
//! It prints the bound address (`127.0.0.1:PORT`) as the first line on
//! stdout, serves until SIGTERM or Ctrl-C, then prints a summary line
//! `final_docs=N duplicates=N requests=N bulk_items=N` on stderr. With
//! `--dump FILE` it then writes every live document to FILE, one JSON object
//! a line: `{"index":..,"id":..,"writes":N,"source":{..}}` (`writes` above 1
//! means the same id was written again: a duplicate). `ci/run-pods.sh` checks
//! what the pods shipped this way.
//!
//! ```text
//! cargo run --release --example es_test_server -- --addr 127.0.0.1:9200 --no-store-sources
//! ```

#[allow(dead_code)]
#[path = "../tests/support/es_server/mod.rs"]
mod es_server;

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use es_server::{EsServer, EsServerOptions, Faults};

#[derive(Parser, Debug)]
#[command(about = "Elasticsearch-compatible test server for skiff")]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Require basic auth, as USER:PASSWORD.
    #[arg(long)]
    basic_auth: Option<String>,
    /// Require `Authorization: ApiKey TOKEN`.
    #[arg(long)]
    api_key: Option<String>,
    /// Leave out `X-Elastic-Product` (mimic OpenSearch).
    #[arg(long)]
    no_product_header: bool,
    /// Report `mapper_parsing_exception` like Elasticsearch 7.
    #[arg(long)]
    legacy_mapper_errors: bool,
    /// Index name prefixes treated as data streams (repeatable; replaces the
    /// default logs-, metrics-, traces-).
    #[arg(long = "data-stream-prefix")]
    data_stream_prefixes: Vec<String>,
    /// Seed for fault injection and generated ids.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Count documents without keeping their sources (saves memory).
    #[arg(long)]
    no_store_sources: bool,
    /// Record requests without their bodies (saves memory).
    #[arg(long)]
    no_record_bodies: bool,
    /// Probability that a bulk item is rejected with 429.
    #[arg(long, default_value_t = 0.0)]
    item_429: f64,
    /// Probability that a request gets 503.
    #[arg(long, default_value_t = 0.0)]
    fail_503: f64,
    /// Probability that a request gets 429.
    #[arg(long, default_value_t = 0.0)]
    fail_429: f64,
    /// Probability that a connection is dropped without an answer.
    #[arg(long, default_value_t = 0.0)]
    drop: f64,
    /// Delay before answering each request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Apply faults to every endpoint, not only `_bulk`.
    #[arg(long)]
    faults_all_endpoints: bool,
    /// On stop, write every live document to this file as NDJSON.
    #[arg(long)]
    dump: Option<std::path::PathBuf>,
}

fn main() {
    let args = Args::parse();
    let basic_auth = args.basic_auth.as_deref().map(|s| {
        let (user, pass) = s.split_once(':').unwrap_or((s, ""));
        (user.to_string(), pass.to_string())
    });
    let mut opts = EsServerOptions {
        addr: args.addr,
        basic_auth,
        api_key: args.api_key,
        omit_product_header: args.no_product_header,
        legacy_mapper_errors: args.legacy_mapper_errors,
        seed: args.seed,
        store_sources: !args.no_store_sources,
        record_bodies: !args.no_record_bodies,
        faults: Faults {
            item_429_prob: args.item_429,
            status_503_prob: args.fail_503,
            status_429_prob: args.fail_429,
            drop_prob: args.drop,
            delay: Duration::from_millis(args.delay_ms),
            all_endpoints: args.faults_all_endpoints,
            ..Faults::default()
        },
        ..EsServerOptions::default()
    };
    if !args.data_stream_prefixes.is_empty() {
        opts.data_stream_prefixes = args.data_stream_prefixes;
    }

    let server = EsServer::start(opts);
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", server.addr());
        let _ = out.flush();
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(wait_for_stop());

    eprintln!(
        "final_docs={} duplicates={} requests={} bulk_items={}",
        server.total_docs(),
        server.duplicates(),
        server.request_count(),
        server.bulk_items_received()
    );
    if let Some(path) = &args.dump {
        if let Err(e) = dump_docs(&server, path) {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
    server.shutdown();
}

/// Every live document, one JSON object a line, with how often its id was written.
fn dump_docs(server: &EsServer, path: &std::path::Path) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (index, id, source) in server.all_docs() {
        let line = serde_json::json!({
            "index": index,
            "id": id,
            "writes": server.writes_of(&index, &id),
            "source": source,
        });
        writeln!(out, "{line}")?;
    }
    out.flush()
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
