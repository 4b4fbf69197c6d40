//! Running the real `skiff` binary in a temp dir: config, log files, stderr, signals, polling.
//!
//! Each test gets its own directory with `logs/` (what skiff tails), `data/` (checkpoints, dead
//! letters), `skiff.toml` and `stderr.log`. Waiting is always by polling with a timeout; a failed
//! wait dumps skiff's stderr so the failure explains itself.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A test's directory.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        Workspace { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn logs(&self) -> PathBuf {
        self.path().join("logs")
    }

    pub fn data(&self) -> PathBuf {
        self.path().join("data")
    }

    /// A config with a `file` source `app` on `logs/*.log` (checkpoints every `checkpoint`) and
    /// an `elasticsearch` sink `es` with `endpoints` and the `extra` lines.
    pub fn config(&self, endpoints: &[String], checkpoint: &str, extra: &str) -> String {
        let eps: Vec<String> = endpoints.iter().map(|e| format!("{e:?}")).collect();
        format!(
            r#"data_dir = {data:?}

[api]
enabled = false

[sources.app]
type = "file"
include = [{glob:?}]
glob_interval = "200ms"
checkpoint_interval = "{checkpoint}"

[sinks.es]
type = "elasticsearch"
inputs = ["app"]
endpoints = [{eps}]
{extra}
"#,
            data = self.data().display().to_string(),
            glob = self.logs().join("*.log").display().to_string(),
            eps = eps.join(", "),
        )
    }

    /// Appends `lines` to `logs/NAME`.
    pub fn append(&self, name: &str, lines: impl IntoIterator<Item = String>) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs().join(name))
            .unwrap();
        let mut buf = String::new();
        for l in lines {
            buf.push_str(&l);
            buf.push('\n');
        }
        f.write_all(buf.as_bytes()).unwrap();
        f.flush().unwrap();
    }

    /// Starts skiff with `config`.
    pub fn start(&self, config: &str) -> Skiff {
        Skiff::start(self.path(), config)
    }
}

/// A running skiff process; killed when dropped.
pub struct Skiff {
    child: Child,
    stderr: PathBuf,
}

impl Skiff {
    /// Writes `dir/skiff.toml` and starts `skiff run` on it, stderr appended to `dir/stderr.log`.
    pub fn start(dir: &Path, config: &str) -> Skiff {
        let config_path = dir.join("skiff.toml");
        std::fs::write(&config_path, config).unwrap();
        let stderr = dir.join("stderr.log");
        let err = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(["run", "--config"])
            .arg(&config_path)
            .env("SKIFF_LOG", "info")
            // The test server is local: never through a proxy from the environment.
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        Skiff { child, stderr }
    }

    /// Waits for skiff to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "skiff did not exit within {timeout:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything skiff wrote to stderr so far (all runs in this directory).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGKILL: no drain, no last checkpoint.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "cannot signal skiff");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "skiff did not exit within {timeout:?} after SIGTERM; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Panics with skiff's stderr unless `cond` holds within `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
        if !poll(timeout, &mut cond) {
            panic!(
                "timed out after {timeout:?} waiting for {what}; skiff stderr:\n{}",
                self.stderr()
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

/// Polls `cond` every 20ms until it holds (true) or `timeout` passes (false).
pub fn poll(timeout: Duration, cond: &mut impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An address where nothing listens (connections are refused).
pub fn dead_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

/// Lines `prefix-000000`...: easy to check one by one.
pub fn numbered(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}-{i:06}")).collect()
}

/// The lines of a file, parsed as JSON.
pub fn read_ndjson(path: &Path) -> Vec<serde_json::Value> {
    let Ok(f) = File::open(path) else {
        return Vec::new();
    };
    use std::io::BufRead;
    std::io::BufReader::new(f)
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}
