//! A real Prometheus server (Debian's `prometheus` package; `.ci/run` installs it) on a free
//! port of 127.0.0.1, with its own scrape config and temp storage, scraping skiff every second,
//! and queried through its HTTP API.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::api::http_get;
use super::wait::wait_until;

const WAIT: Duration = Duration::from_secs(20);

/// A Prometheus server on a free port, scraping `target` every second.
pub struct Prometheus {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    pub fn start(target: &str) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: skiff\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start prometheus ({e}): install Debian's `prometheus` package")
            });
        let p = Prometheus {
            child,
            addr,
            _dir: dir,
        };
        let ready = wait_until(WAIT, || {
            http_get(&p.addr, "/-/ready").is_ok_and(|r| r.status == 200)
        });
        assert!(ready, "prometheus did not become ready on {}", p.addr);
        p
    }

    /// `GET /api/v1/query`: the result vector, or Prometheus' error.
    pub fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let path = format!("/api/v1/query?query={}", percent_encode(expr));
        let res = http_get(&self.addr, &path).map_err(|e| e.to_string())?;
        let body: Value = serde_json::from_str(&res.body)
            .map_err(|e| format!("{e}: {} {}", res.status, res.body))?;
        if body["status"] != "success" {
            return Err(format!("{}: {}", body["errorType"], body["error"]));
        }
        Ok(body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Prometheus {
    /// The single value of an instant query (`None`: no result or an error).
    pub fn value(&self, expr: &str) -> Option<f64> {
        let result = self.query(expr).ok()?;
        let [one] = result.as_slice() else {
            return None;
        };
        one["value"][1].as_str()?.parse().ok()
    }

    /// An instant query's values by one label.
    pub fn values_by(&self, expr: &str, label: &str) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = self
            .query(expr)
            .unwrap_or_default()
            .iter()
            .filter_map(|s| {
                let key = s["metric"][label].as_str()?.to_owned();
                let v = s["value"][1].as_str()?.parse().ok()?;
                Some((key, v))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}
