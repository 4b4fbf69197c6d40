//! An in-process, Elasticsearch-compatible HTTP server for skiff's tests and
//! benchmarks.
//!
//! skiff ships documents through the Elasticsearch `_bulk` API. Testing that
//! sink against a real cluster is slow, heavy and hard to break on purpose, so
//! this module speaks the part of the protocol skiff uses (`GET /`, `_bulk`
//! with NDJSON and gzip, auth, data streams, dynamic mapping conflicts) with
//! the response shapes Elasticsearch 8 documents, keeps what it was sent so
//! tests can assert on it, and can misbehave on demand (item-level and
//! request-level rejections, dropped connections, slow answers, outages).
//!
//! The server runs on its own thread with its own tokio runtime, so it works
//! the same from synchronous and asynchronous tests. Everything a test can
//! change at runtime (faults, credentials) goes through `&self` and is
//! thread-safe.
//!
//! Submodules: `store` keeps indices and documents, `mapping` checks sources
//! against dynamic mappings, `bulk` parses NDJSON bulk bodies and writes
//! responses, `service` is the HTTP layer (routing, auth, decoding, faults,
//! recording). The standalone example (`examples/es_test_server.rs`) includes
//! this directory by path.
//!
//! Faults are drawn from a seeded RNG, so a test that sends its requests one
//! after another sees the same faults on every run; concurrent requests draw
//! in arrival order.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

mod bulk;
mod mapping;
mod service;
mod store;

/// How the server is set up. Every field has a sensible default, so tests
/// write `EsServerOptions { basic_auth: Some(..), ..Default::default() }`.
#[derive(Clone, Debug)]
pub struct EsServerOptions {
    /// Address to listen on; `127.0.0.1:0` (any free port) by default.
    pub addr: SocketAddr,
    /// Require HTTP basic auth with this user and password.
    pub basic_auth: Option<(String, String)>,
    /// Require `Authorization: ApiKey <token>`; this is the token exactly as
    /// sent on the wire (the base64 of `id:key`). When both this and
    /// `basic_auth` are set, either one is accepted.
    pub api_key: Option<String>,
    /// Leave out `X-Elastic-Product: Elasticsearch`, as OpenSearch does.
    pub omit_product_header: bool,
    /// Index names starting with one of these behave as data streams.
    pub data_stream_prefixes: Vec<String>,
    /// Report mapping errors as `mapper_parsing_exception` (Elasticsearch 7)
    /// instead of `document_parsing_exception` (Elasticsearch 8).
    pub legacy_mapper_errors: bool,
    /// Seed for the fault RNG and generated ids, so runs are reproducible.
    pub seed: u64,
    /// Keep document sources. Benchmarks turn this off: ids and write counts
    /// are still kept, so counts and duplicate detection keep working.
    pub store_sources: bool,
    /// Keep the decoded body of every recorded request. Benchmarks turn this
    /// off; the rest of each request record is still kept.
    pub record_bodies: bool,
    /// `version.number` reported by `GET /`.
    pub version_number: String,
    /// Bodies larger than this (after decoding) get `413`, like
    /// `http.max_content_length` (100mb by default in Elasticsearch).
    pub max_content_length: usize,
    /// Ingest pipelines that exist; `None` accepts any pipeline name.
    pub pipelines: Option<Vec<String>>,
    /// Like `index.mapping.total_fields.limit` (1000 by default).
    pub total_fields_limit: usize,
    /// Faults active from the start.
    pub faults: Faults,
    /// Serve HTTPS instead of HTTP.
    pub tls: Option<ServerTls>,
}

/// HTTPS settings of the test server: PEM files.
#[derive(Clone, Debug)]
pub struct ServerTls {
    /// The server's certificate (chain).
    pub cert: std::path::PathBuf,
    /// The server's private key (PKCS#8).
    pub key: std::path::PathBuf,
    /// Require a client certificate signed by this CA (mutual TLS).
    pub client_ca: Option<std::path::PathBuf>,
}

impl ServerTls {
    /// An acceptor for these settings. Panics on unreadable or invalid files (test setup).
    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        use tokio_rustls::rustls;
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .expect("server certificate file")
            .collect::<Result<_, _>>()
            .expect("server certificate PEM");
        let key = PrivateKeyDer::from_pem_file(&self.key).expect("server key PEM");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("TLS versions");
        let builder = match &self.client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_file_iter(ca).expect("client CA file") {
                    roots.add(cert.expect("client CA PEM")).expect("client CA");
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .expect("client verifier");
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let config = builder
            .with_single_cert(certs, key)
            .expect("server certificate and key");
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }
}

impl Default for EsServerOptions {
    fn default() -> Self {
        EsServerOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            basic_auth: None,
            api_key: None,
            omit_product_header: false,
            data_stream_prefixes: vec!["logs-".into(), "metrics-".into(), "traces-".into()],
            legacy_mapper_errors: false,
            seed: 0x5eed_5c1f,
            store_sources: true,
            record_bodies: true,
            version_number: "8.15.0".into(),
            max_content_length: 100 * 1024 * 1024,
            pipelines: None,
            total_fields_limit: 1000,
            faults: Faults::default(),
            tls: None,
        }
    }
}

/// Faults to inject. Probabilities are in `0.0..=1.0` and drawn from the
/// seeded RNG; `*_next` counters fail exactly the next N eligible requests (or
/// items) and count down as they are used.
///
/// Eligible requests are `_bulk` requests only, unless `all_endpoints` is set.
/// Per request the order is: `delay`, then dropped connection, then
/// authentication, then 503, then 429, then the bulk itself with item-level
/// 429s.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Each bulk item is rejected with 429 `es_rejected_execution_exception`
    /// (inside a 200 response with `errors: true`) with this probability.
    pub item_429_prob: f64,
    /// Reject the next N bulk items with 429.
    pub item_429_next: u64,
    /// Answer a whole request with 503 with this probability.
    pub status_503_prob: f64,
    /// Answer the next N requests with 503.
    pub status_503_next: u64,
    /// Answer a whole request with 429 with this probability.
    pub status_429_prob: f64,
    /// Answer the next N requests with 429.
    pub status_429_next: u64,
    /// Read the request, then close the connection without answering, with
    /// this probability.
    pub drop_prob: f64,
    /// Drop the connection for the next N requests.
    pub drop_next: u64,
    /// Wait this long before handling each request.
    pub delay: Duration,
    /// Apply faults to every endpoint, not just `_bulk`.
    pub all_endpoints: bool,
}

/// A shareable handle to the live fault settings of a server.
#[derive(Clone)]
pub struct FaultsHandle {
    state: Arc<Mutex<FaultState>>,
}

impl FaultsHandle {
    /// Replaces all fault settings.
    pub fn set(&self, faults: Faults) {
        self.state.lock().unwrap().faults = faults;
    }
    /// The current settings, with `*_next` counters as far as they got.
    pub fn get(&self) -> Faults {
        self.state.lock().unwrap().faults.clone()
    }
    /// Changes some settings in place.
    pub fn update(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.state.lock().unwrap().faults);
    }
    /// Turns every fault off.
    pub fn clear(&self) {
        self.set(Faults::default());
    }
}

pub(crate) struct FaultState {
    faults: Faults,
    rng: fastrand::Rng,
}

/// What the server decided to do about one request, before handling it.
#[derive(Debug, PartialEq)]
enum RequestFault {
    None,
    Status503,
    Status429,
}

impl FaultState {
    fn chance(rng: &mut fastrand::Rng, p: f64) -> bool {
        p > 0.0 && (p >= 1.0 || rng.f64() < p)
    }
    fn take(counter: &mut u64) -> bool {
        if *counter > 0 {
            *counter -= 1;
            true
        } else {
            false
        }
    }
    fn drop_connection(&mut self) -> bool {
        let f = &mut self.faults;
        Self::take(&mut f.drop_next) || Self::chance(&mut self.rng, f.drop_prob)
    }
    fn request_status(&mut self) -> RequestFault {
        let f = &mut self.faults;
        if Self::take(&mut f.status_503_next) || Self::chance(&mut self.rng, f.status_503_prob) {
            RequestFault::Status503
        } else if Self::take(&mut f.status_429_next)
            || Self::chance(&mut self.rng, f.status_429_prob)
        {
            RequestFault::Status429
        } else {
            RequestFault::None
        }
    }
    fn reject_item(&mut self) -> bool {
        let f = &mut self.faults;
        Self::take(&mut f.item_429_next) || Self::chance(&mut self.rng, f.item_429_prob)
    }
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Arrival order, starting at 0.
    pub seq: u64,
    /// When the request head arrived.
    pub received_at: Instant,
    pub method: String,
    /// Path without the query string, not percent-decoded.
    pub path: String,
    /// Raw query string without `?`.
    pub query: Option<String>,
    /// Header names are lowercase; repeated headers appear repeatedly.
    pub headers: Vec<(String, String)>,
    /// Body after `Content-Encoding` was decoded (empty when the server was
    /// started with `record_bodies: false`).
    pub body: bytes::Bytes,
    /// Body length as it came over the wire (compressed if it was).
    pub wire_body_len: usize,
    /// Status sent back; `None` when the connection was dropped instead.
    pub status: Option<u16>,
}

impl RecordedRequest {
    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// First value of a query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        service::query_pairs(self.query.as_deref().unwrap_or(""))
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
    /// Whether this went to a `_bulk` endpoint.
    pub fn is_bulk(&self) -> bool {
        self.path == "/_bulk" || self.path.ends_with("/_bulk")
    }
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body's NDJSON lines parsed as JSON (unparsable lines become
    /// strings), for asserting on exactly what was sent.
    pub fn ndjson(&self) -> Vec<serde_json::Value> {
        self.body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_slice(l).unwrap_or_else(|_| {
                    serde_json::Value::String(String::from_utf8_lossy(l).into_owned())
                })
            })
            .collect()
    }
}

/// How an outage looks to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutageMode {
    /// The listening socket is closed: connecting fails with "connection
    /// refused". The same port is bound again afterwards.
    Refuse,
    /// Connections are accepted and closed at once without an answer.
    Reset,
}

#[derive(Default)]
struct Credentials {
    basic: Option<(String, String)>,
    api_key: Option<String>,
}

/// State shared between the handle and the server thread.
struct Shared {
    opts: EsServerOptions,
    creds: RwLock<Credentials>,
    faults: Arc<Mutex<FaultState>>,
    store: Mutex<store::Store>,
    requests: Mutex<Vec<RecordedRequest>>,
    request_seq: AtomicU64,
    bulk_items: AtomicU64,
}

enum Control {
    Outage {
        until: Instant,
        mode: OutageMode,
        ack: std::sync::mpsc::Sender<()>,
    },
    EndOutage,
    Shutdown,
}

/// A running test server. Dropping it stops the server.
pub struct EsServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    control: mpsc::UnboundedSender<Control>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EsServer {
    /// Starts the server on its own thread and returns once it is listening.
    /// Panics if the address cannot be bound.
    pub fn start(opts: EsServerOptions) -> EsServer {
        let faults = Arc::new(Mutex::new(FaultState {
            faults: opts.faults.clone(),
            rng: fastrand::Rng::with_seed(opts.seed),
        }));
        let shared = Arc::new(Shared {
            creds: RwLock::new(Credentials {
                basic: opts.basic_auth.clone(),
                api_key: opts.api_key.clone(),
            }),
            faults,
            store: Mutex::new(store::Store::new(&opts)),
            requests: Mutex::new(Vec::new()),
            request_seq: AtomicU64::new(0),
            bulk_items: AtomicU64::new(0),
            opts,
        });
        let (control, control_rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("es-test-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime for the test server");
                rt.block_on(async move {
                    let listener = match bind(thread_shared.opts.addr).await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let addr = listener.local_addr().expect("listener address");
                    let _ = ready_tx.send(Ok(addr));
                    accept_loop(thread_shared, listener, addr, control_rx).await;
                });
            })
            .expect("spawn test server thread");
        let addr = match ready_rx.recv() {
            Ok(Ok(addr)) => addr,
            Ok(Err(e)) => panic!("test server could not bind: {e}"),
            Err(_) => panic!("test server thread died while starting"),
        };
        EsServer {
            shared,
            addr,
            control,
            thread: Some(thread),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        match &self.shared.opts.tls {
            // The certificate names `localhost`.
            Some(_) => format!("https://localhost:{}", self.addr.port()),
            None => format!("http://{}", self.addr),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to change faults at runtime, also from other threads.
    pub fn faults(&self) -> FaultsHandle {
        FaultsHandle {
            state: self.shared.faults.clone(),
        }
    }

    /// Replaces all fault settings.
    pub fn set_faults(&self, faults: Faults) {
        self.faults().set(faults);
    }

    /// Changes which credentials are accepted; `(None, None)` turns
    /// authentication off.
    pub fn set_credentials(&self, basic: Option<(String, String)>, api_key: Option<String>) {
        *self.shared.creds.write().unwrap() = Credentials { basic, api_key };
    }

    /// Live documents of one index or data stream (by the name used in the
    /// request), in the order they were first created. Sources are `Null`
    /// when the server does not store sources.
    pub fn docs(&self, index: &str) -> Vec<(String, serde_json::Value)> {
        self.shared.store.lock().unwrap().docs(index)
    }

    /// Like [`EsServer::docs`] but with the source exactly as it was sent.
    pub fn raw_docs(&self, index: &str) -> Vec<(String, String)> {
        self.shared.store.lock().unwrap().raw_docs(index)
    }

    /// One document's source, if it exists.
    pub fn doc(&self, index: &str, id: &str) -> Option<serde_json::Value> {
        self.shared.store.lock().unwrap().doc(index, id)
    }

    /// Every live document as `(index, id, source)`, by index name then
    /// creation order.
    pub fn all_docs(&self) -> Vec<(String, String, serde_json::Value)> {
        self.shared.store.lock().unwrap().all_docs()
    }

    /// Names of all indices and data streams that exist.
    pub fn indices(&self) -> Vec<String> {
        self.shared.store.lock().unwrap().index_names()
    }

    /// Live documents in indices matching `pattern`: comma-separated names
    /// where `*` matches any run of characters (`logs-*`, `a,b`, `*`).
    pub fn doc_count(&self, pattern: &str) -> usize {
        self.shared.store.lock().unwrap().doc_count(pattern)
    }

    /// Live document count of every index, by name.
    pub fn doc_counts(&self) -> Vec<(String, usize)> {
        let store = self.shared.store.lock().unwrap();
        store
            .index_names()
            .into_iter()
            .map(|n| {
                let c = store.doc_count(&n);
                (n, c)
            })
            .collect()
    }

    /// Live documents in all indices.
    pub fn total_docs(&self) -> usize {
        self.shared.store.lock().unwrap().total_docs()
    }

    /// How many times `index`/`id` was written successfully (creates and
    /// index operations, including replacements).
    pub fn writes_of(&self, index: &str, id: &str) -> u32 {
        self.shared.store.lock().unwrap().writes_of(index, id)
    }

    /// Number of ids that were written successfully more than once.
    pub fn duplicates(&self) -> usize {
        self.shared.store.lock().unwrap().duplicates()
    }

    /// The dynamic mapping of an index as `(dotted path, type)`, sorted by
    /// path. Types are `long`, `float`, `boolean`, `text`, `date`, `object`.
    pub fn mapping(&self, index: &str) -> Vec<(String, String)> {
        self.shared.store.lock().unwrap().mapping(index)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let mut v = self.shared.requests.lock().unwrap().clone();
        v.sort_by_key(|r| r.seq);
        v
    }

    /// Only the `_bulk` requests, in arrival order.
    pub fn bulk_requests(&self) -> Vec<RecordedRequest> {
        let mut v: Vec<_> = self
            .shared
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.is_bulk())
            .cloned()
            .collect();
        v.sort_by_key(|r| r.seq);
        v
    }

    /// Number of requests received so far (cheaper than `requests().len()`).
    pub fn request_count(&self) -> u64 {
        self.shared.request_seq.load(Ordering::SeqCst)
    }

    /// Bulk action lines received in well-formed bulk requests, whatever
    /// happened to them.
    pub fn bulk_items_received(&self) -> u64 {
        self.shared.bulk_items.load(Ordering::SeqCst)
    }

    /// Forgets all documents, mappings and recorded requests.
    pub fn reset(&self) {
        self.shared.store.lock().unwrap().clear();
        self.shared.requests.lock().unwrap().clear();
        self.shared.bulk_items.store(0, Ordering::SeqCst);
    }

    /// Polls until at least `n` live documents exist; false on timeout.
    pub fn wait_for_docs(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.total_docs() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// [`EsServer::wait_for_docs`] for async tests: does not block the
    /// caller's runtime.
    pub async fn wait_for_docs_async(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.total_docs() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Makes the server unreachable for `d`: connections are refused and open
    /// connections are closed. Returns once the outage has begun.
    pub fn outage(&self, d: Duration) {
        self.outage_with(d, OutageMode::Refuse);
    }

    /// Like [`EsServer::outage`] with a choice of how the outage looks.
    pub fn outage_with(&self, d: Duration, mode: OutageMode) {
        let (ack, ack_rx) = std::sync::mpsc::channel();
        let until = Instant::now() + d;
        if self
            .control
            .send(Control::Outage { until, mode, ack })
            .is_ok()
        {
            let _ = ack_rx.recv_timeout(Duration::from_secs(5));
        }
    }

    /// Ends an outage early (the port is listening again shortly after).
    pub fn end_outage(&self) {
        let _ = self.control.send(Control::EndOutage);
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.control.send(Control::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for EsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Binds the same address again after an outage, retrying for a while in case
/// the port is briefly unavailable.
async fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match bind(addr).await {
            Ok(l) => return Some(l),
            Err(e) if Instant::now() >= deadline => {
                eprintln!("es test server: cannot listen on {addr} again after an outage: {e}");
                return None;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    mut listener: TcpListener,
    addr: SocketAddr,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let tls = shared.opts.tls.as_ref().map(ServerTls::acceptor);
    loop {
        let connections = CancellationToken::new();
        let tasks = TaskTracker::new();
        let (until, mode, ack) = loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        let (shared, cancel) = (shared.clone(), connections.child_token());
                        match tls.clone() {
                            Some(acceptor) => tasks.spawn(async move {
                                // A failed handshake (an untrusted client) just ends the
                                // connection, as a real server does.
                                if let Ok(stream) = acceptor.accept(stream).await {
                                    service::serve_connection(shared, stream, cancel).await;
                                }
                            }),
                            None => tasks.spawn(service::serve_connection(shared, stream, cancel)),
                        };
                    }
                    // Out of file descriptors or similar: back off briefly.
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                },
                msg = control.recv() => match msg {
                    None | Some(Control::Shutdown) => {
                        connections.cancel();
                        return;
                    }
                    Some(Control::EndOutage) => {}
                    Some(Control::Outage { until, mode, ack }) => break (until, mode, ack),
                },
            }
        };
        // Only report the outage as begun once no connection can answer.
        connections.cancel();
        tasks.close();
        tasks.wait().await;
        match mode {
            OutageMode::Refuse => {
                drop(listener);
                let _ = ack.send(());
                if !wait_outage(&mut control, until, None).await {
                    return;
                }
                match rebind(addr).await {
                    Some(l) => listener = l,
                    None => return,
                }
            }
            OutageMode::Reset => {
                let _ = ack.send(());
                if !wait_outage(&mut control, until, Some(&listener)).await {
                    return;
                }
            }
        }
    }
}

/// Waits out an outage, dropping connections accepted meanwhile if a
/// listener is given. Returns false if the server is shutting down.
async fn wait_outage(
    control: &mut mpsc::UnboundedReceiver<Control>,
    mut until: Instant,
    listener: Option<&TcpListener>,
) -> bool {
    loop {
        let accept = async {
            match listener {
                Some(l) => l.accept().await.map(|(s, _)| s),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => return true,
            accepted = accept => drop(accepted),
            msg = control.recv() => match msg {
                None | Some(Control::Shutdown) => return false,
                Some(Control::EndOutage) => return true,
                Some(Control::Outage { until: later, ack, .. }) => {
                    until = until.max(later);
                    let _ = ack.send(());
                }
            },
        }
    }
}

/// Matches `name` against comma-separated patterns where `*` matches any run
/// of characters.
pub(crate) fn matches_pattern(patterns: &str, name: &str) -> bool {
    patterns
        .split(',')
        .map(str::trim)
        .any(|p| glob_match(p, name))
}

/// `*`-only glob matching, linear in practice (greedy with backtracking to
/// the last star).
pub(crate) fn glob_match(pattern: &str, s: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), s.as_bytes());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|b| *b == b'*')
}
