//! skiff's HTTP API from a test: plain HTTP/1.1 requests to a running [`Skiff`], and its
//! `/metrics` parsed by a Prometheus text parser.
//!
//! skiff is started with `[api] address = "127.0.0.1:0"`; the bound address is read from its
//! `API listening.` log line, so tests never race for a port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::skiff::Skiff;
use super::wait::wait_until;

impl Skiff {
    /// The API address, from the `API listening.` log line.
    pub fn api(&self) -> String {
        let line = self.wait_for_log("API listening.", Duration::from_secs(10));
        line.split_whitespace()
            .find_map(|w| w.strip_prefix("address="))
            .expect("address field")
            .to_owned()
    }

    /// `GET path` on the API.
    pub fn get(&self, path: &str) -> HttpResponse {
        http_get(&self.api(), path)
            .unwrap_or_else(|e| panic!("GET {path}: {e}; log:\n{}", self.stderr()))
    }

    /// Scrapes `/metrics`.
    pub fn scrape(&self) -> Metrics {
        let res = self.get("/metrics");
        assert_eq!(res.status, 200, "{}", res.body);
        Metrics::parse(&res.body)
    }

    /// Waits until the metric `name{labels}` equals `value`.
    pub fn wait_for_metric(&self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.wait_for_metric_where(name, labels, |v| v == value);
    }

    /// Waits until the metric `name{labels}` satisfies `pred`; returns its value.
    pub fn wait_for_metric_where(
        &self,
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
            (true, Some(v)) => v,
            _ => panic!(
                "{name}{labels:?} is {last:?}, not what was expected; log:\n{}",
                self.stderr()
            ),
        }
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

/// The `Accept` header Prometheus 2.x sends when it scrapes.
pub const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// A plain HTTP/1.1 GET.
pub fn http_get(addr: &str, path: &str) -> std::io::Result<HttpResponse> {
    http_get_accept(addr, path, None)
}

/// A plain HTTP/1.1 GET with an `Accept` header.
pub fn http_get_accept(
    addr: &str,
    path: &str,
    accept: Option<&str>,
) -> std::io::Result<HttpResponse> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n"
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
}
