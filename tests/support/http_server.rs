//! A generic in-process HTTP server for the `http` sink's tests and bench: it records every
//! request (method, path and query, headers, body gunzipped), answers 200, and misbehaves on
//! demand: scripted answers for the next requests (a status with `Retry-After`, a dropped
//! connection, a slow answer), or faults drawn at random with a seeded RNG. A validator can
//! refuse bodies with a 400 (the Loki stand-in checks the push API's shape this way).
//!
//! Like `es_server`, it runs on its own thread with its own runtime, so sync tests use it as is.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What the server does with one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer this status, with `Retry-After` when given, and a short body.
    Status(u16, Option<String>),
    /// Read the request, then close the connection without answering.
    Drop,
    /// Wait this long, then accept (a client that gave up before sends again: a duplicate).
    Slow(Duration),
}

/// Faults drawn at random, each with its probability (the rest are accepted).
#[derive(Clone, Debug, Default)]
pub struct Chaos {
    pub p429: f64,
    pub p503: f64,
    pub pdrop: f64,
    pub pslow: f64,
    /// How long a slow answer takes.
    pub slow: Duration,
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    /// The body, gunzipped when it was sent gzipped.
    pub body: Vec<u8>,
    /// The status answered; 0 for a dropped connection.
    pub status: u16,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Recorded {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body's lines.
    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.body)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

type Validator = Box<dyn Fn(&Recorded) -> Result<(), String> + Send + Sync>;

struct Shared {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Fault>>,
    chaos: Mutex<Chaos>,
    rng: Mutex<fastrand::Rng>,
    validator: Option<Validator>,
    /// Keep request bodies (benches turn it off: only lines are counted).
    keep_bodies: bool,
    lines: std::sync::atomic::AtomicU64,
}

/// The server; stops when dropped.
pub struct HttpServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    /// A server that accepts everything.
    pub fn start() -> HttpServer {
        Self::with_validator(None)
    }

    /// A server that accepts everything and keeps no body, only counts lines (benches).
    pub fn counting() -> HttpServer {
        Self::spawn(None, false)
    }

    /// A server that answers 400 (with the reason as body) to requests `validator` refuses.
    pub fn with_validator(validator: Option<Validator>) -> HttpServer {
        Self::spawn(validator, true)
    }

    fn spawn(validator: Option<Validator>, keep_bodies: bool) -> HttpServer {
        let shared = Arc::new(Shared {
            keep_bodies,
            lines: std::sync::atomic::AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            chaos: Mutex::new(Chaos::default()),
            rng: Mutex::new(fastrand::Rng::with_seed(0x5eed)),
            validator,
        });
        let stop = CancellationToken::new();
        let (tx, rx) = std::sync::mpsc::channel();
        let (s, c) = (Arc::clone(&shared), stop.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                tx.send(listener.local_addr().expect("addr"))
                    .expect("ready");
                loop {
                    let (stream, _) = tokio::select! {
                        () = c.cancelled() => return,
                        r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
                    };
                    let s = Arc::clone(&s);
                    let c = c.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| handle(Arc::clone(&s), req));
                        let conn =
                            http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                        tokio::select! {
                            () = c.cancelled() => {}
                            _ = conn => {}
                        }
                    });
                }
            });
        });
        let addr = rx.recv().expect("server started");
        HttpServer {
            shared,
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next requests with `faults`, in order (before any chaos).
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.script.lock().unwrap().extend(faults);
    }

    /// Random faults from now on (`Chaos::default()` turns them off).
    pub fn set_chaos(&self, chaos: Chaos) {
        *self.shared.chaos.lock().unwrap() = chaos;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    /// Lines (newlines) received in accepted bodies, bodies kept or not.
    pub fn line_count(&self) -> u64 {
        self.shared.lines.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The lines of every accepted body, in arrival order.
    pub fn accepted_lines(&self) -> Vec<String> {
        self.accepted().iter().flat_map(Recorded::lines).collect()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let wire = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let gzipped = parts
        .headers
        .get("content-encoding")
        .is_some_and(|v| v == "gzip");
    let body = if gzipped {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&wire[..])
            .read_to_end(&mut out)
            .expect("gzip body");
        out
    } else {
        wire.to_vec()
    };
    let mut rec = Recorded {
        method: parts.method.to_string(),
        uri: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body,
        status: 200,
        at: std::time::Instant::now(),
    };
    let fault = shared.script.lock().unwrap().pop_front().or_else(|| {
        let chaos = shared.chaos.lock().unwrap().clone();
        let x = shared.rng.lock().unwrap().f64();
        let mut edge = chaos.p429;
        if x < edge {
            return Some(Fault::Status(429, Some("0".into())));
        }
        edge += chaos.p503;
        if x < edge {
            return Some(Fault::Status(503, None));
        }
        edge += chaos.pdrop;
        if x < edge {
            return Some(Fault::Drop);
        }
        edge += chaos.pslow;
        (x < edge).then_some(Fault::Slow(chaos.slow))
    });
    let refused = shared.validator.as_ref().and_then(|v| v(&rec).err());
    let (status, retry_after, text) = match (fault, refused) {
        (Some(Fault::Drop), _) => {
            rec.status = 0;
            shared.requests.lock().unwrap().push(rec);
            return Err(std::io::Error::other("connection dropped on purpose"));
        }
        (Some(Fault::Status(s, ra)), _) => (s, ra, format!("fault {s}")),
        (Some(Fault::Slow(d)), refused) => {
            tokio::time::sleep(d).await;
            match refused {
                Some(r) => (400, None, r),
                None => (200, None, String::new()),
            }
        }
        (None, Some(r)) => (400, None, r),
        (None, None) => (200, None, String::new()),
    };
    rec.status = status;
    if (200..300).contains(&status) {
        let n = rec.body.iter().filter(|&&b| b == b'\n').count() as u64;
        shared
            .lines
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
    if !shared.keep_bodies {
        rec.body = Vec::new();
    }
    shared.requests.lock().unwrap().push(rec);
    let mut resp = Response::builder().status(status);
    if let Some(ra) = retry_after {
        resp = resp.header("retry-after", ra);
    }
    Ok::<_, Infallible>(resp.body(Full::new(Bytes::from(text))).expect("response"))
        .map_err(|e| match e {})
}
