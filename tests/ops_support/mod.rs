//! Shared helpers for the operational end-to-end tests: run the real binary, read its logs,
//! talk to its API over real HTTP, parse its metrics with a Prometheus text parser.
//!
//! skiff is started with `[api] address = "127.0.0.1:0"`; the bound address is read from its
//! `API listening.` log line, so tests never race for a port.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to do with skiff's stdout.
pub enum Stdout {
    /// Read it on a thread, line by line.
    Collect,
    /// Keep the pipe and never read it (a stuck console sink).
    Hold,
}

/// A running skiff process.
pub struct Skiff {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    held: Option<ChildStdout>,
    api: Option<String>,
}

impl Skiff {
    /// Starts `skiff run --config CONFIG ARGS...`.
    pub fn start(config: &Path, args: &[&str], stdout: Stdout) -> Skiff {
        let mut child = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .arg("run")
            .arg("--config")
            .arg(config)
            .args(args)
            .env_remove("SKIFF_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start skiff");
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let stderr = Arc::clone(&stderr);
            let pipe = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut s = stderr.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
            });
        }
        let lines = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stdout.take().unwrap();
        let held = match stdout {
            Stdout::Hold => Some(pipe),
            Stdout::Collect => {
                let lines = Arc::clone(&lines);
                std::thread::spawn(move || {
                    for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                        lines.lock().unwrap().push(line);
                    }
                });
                None
            }
        };
        Skiff {
            child,
            lines,
            stderr,
            held,
            api: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// skiff's own log so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Lines written to stdout so far (with [`Stdout::Collect`]).
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Number of lines written to stdout so far.
    pub fn line_count(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// The held stdout pipe (with [`Stdout::Hold`]).
    pub fn take_stdout(&mut self) -> ChildStdout {
        self.held.take().expect("stdout held")
    }

    /// Waits for a log line containing `needle`; returns that line.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let mut found = None;
        wait_until(timeout, || {
            found = self
                .log()
                .lines()
                .find(|l| l.contains(needle))
                .map(str::to_owned);
            found.is_some()
        })
        .unwrap_or_else(|()| panic!("no log line with {needle:?}; log:\n{}", self.log()));
        found.unwrap()
    }

    /// The API address, from the `API listening.` log line.
    pub fn api(&mut self) -> String {
        if let Some(a) = &self.api {
            return a.clone();
        }
        let line = self.wait_for_log("API listening.", Duration::from_secs(10));
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("address="))
            .expect("address field")
            .to_owned();
        self.api = Some(addr.clone());
        addr
    }

    /// `GET path` on the API.
    pub fn get(&mut self, path: &str) -> HttpResponse {
        let addr = self.api();
        http_get(&addr, path).unwrap_or_else(|e| panic!("GET {path}: {e}; log:\n{}", self.log()))
    }

    /// Scrapes `/metrics`.
    pub fn scrape(&mut self) -> Metrics {
        let res = self.get("/metrics");
        assert_eq!(res.status, 200, "{}", res.body);
        Metrics::parse(&res.body)
    }

    /// Waits until the metric `name{labels}` equals `value`.
    pub fn wait_for_metric(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.wait_for_metric_where(name, labels, |v| v == value);
    }

    /// Waits until the metric `name{labels}` satisfies `pred`; returns its value.
    pub fn wait_for_metric_where(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        pred: impl Fn(f64) -> bool,
    ) -> f64 {
        let mut last = None;
        let ok = wait_until(Duration::from_secs(20), || {
            last = self.scrape().get(name, labels);
            last.is_some_and(&pred)
        });
        match (ok, last) {
            (Ok(()), Some(v)) => v,
            _ => panic!(
                "{name}{labels:?} is {last:?}, not what was expected; log:\n{}",
                self.log()
            ),
        }
    }

    /// Sends a signal (`TERM`, `HUP`...).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!(
                    "skiff did not exit within {timeout:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `n` lines were written to stdout.
    pub fn wait_for_lines(&self, n: usize, timeout: Duration) {
        if wait_until(timeout, || self.line_count() >= n).is_err() {
            panic!(
                "got {} lines, expected {n}; log:\n{}",
                self.line_count(),
                self.log()
            );
        }
    }
}

impl Drop for Skiff {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> Result<(), ()> {
    let start = Instant::now();
    loop {
        if cond() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl HttpResponse {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// A plain HTTP/1.1 GET.
pub fn http_get(addr: &str, path: &str) -> std::io::Result<HttpResponse> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let (status_line, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok(HttpResponse {
        status,
        headers: headers.replace("\r\n", "\n"),
        body: body.to_owned(),
    })
}

/// A parsed scrape.
pub struct Metrics(prometheus_parse::Scrape);

impl Metrics {
    /// Parses Prometheus / OpenMetrics text.
    pub fn parse(text: &str) -> Metrics {
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        Metrics(prometheus_parse::Scrape::parse(lines).expect("parsable metrics"))
    }

    /// The value of the sample `name` whose labels include `labels`.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.0.samples.iter().find_map(|s| {
            let matches =
                s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v));
            if !matches {
                return None;
            }
            match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => Some(v),
                _ => None,
            }
        })
    }

    /// Names of every sample.
    pub fn names(&self) -> Vec<String> {
        self.0.samples.iter().map(|s| s.metric.clone()).collect()
    }
}

/// Writes a config file.
pub fn write_config(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// Appends `count` lines `line-NNNNNN` (numbered from `from`) to `path`, in one write.
pub fn append_lines(path: &Path, from: usize, count: usize) {
    let mut text = String::with_capacity(count * 12);
    for i in from..from + count {
        text.push_str(&format!("line-{i:06}\n"));
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Length in bytes of one `line-NNNNNN\n`.
pub const LINE_LEN: u64 = 12;

/// The checkpointed offsets of `source` in `data_dir`, by file path.
pub fn checkpoints(data_dir: &Path, source: &str) -> Vec<(String, u64)> {
    let path = data_dir.join("checkpoints").join(format!("{source}.json"));
    let Ok(bytes) = std::fs::read(&path) else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["offset"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The message of an output line, whether JSON (`{"message": ...}`) or text.
pub fn message_of(line: &str) -> String {
    if line.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        v["message"].as_str().unwrap().to_owned()
    } else {
        line.to_owned()
    }
}

/// The expected messages `line-{from}`..`line-{to}`.
pub fn expected(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("line-{i:06}")).collect()
}
