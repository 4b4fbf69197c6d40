//! Test harness for end-to-end tests: runs the real skiff binary on a config in a temp dir,
//! collects its stdout lines, and offers polling waits (no fixed sleeps) and signals.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A temp dir with `logs/` and `data/` and a config file.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        Env { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn logs(&self) -> PathBuf {
        self.path("logs")
    }

    /// Writes `skiff.toml`; `{dir}` in `body` is replaced by the temp dir.
    pub fn config(&self, body: &str) -> PathBuf {
        let p = self.path("skiff.toml");
        let text = body.replace("{dir}", &self.dir.path().display().to_string());
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A console config over `include` patterns (relative to logs/), with extra source options.
    pub fn console_config(&self, include: &str, source_extra: &str) -> PathBuf {
        self.config(&format!(
            r#"
data_dir = "{{dir}}/data"
shutdown_timeout = "10s"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{{dir}}/logs/{include}"]
glob_interval = "100ms"
rotate_wait = "1s"
{source_extra}
[sinks.out]
type = "console"
inputs = ["app"]
encoding = "text"
"#
        ))
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_skiff")
}

/// A running skiff with its stdout collected line by line.
pub struct Skiff {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<String>>,
}

impl Skiff {
    pub fn start(config: &Path, extra_args: &[&str]) -> Skiff {
        Self::start_with_env(config, extra_args, &[])
    }

    pub fn start_with_env(config: &Path, extra_args: &[&str], env: &[(&str, &str)]) -> Skiff {
        let mut cmd = Command::new(bin());
        cmd.arg("run").arg("--config").arg(config).args(extra_args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self::spawn(cmd)
    }

    /// Runs `cmd` (skiff, maybe behind a wrapper such as `setpriv`) with its output collected.
    pub fn spawn(mut cmd: Command) -> Skiff {
        if !cmd.get_envs().any(|(k, _)| k == "SKIFF_LOG") {
            cmd.env("SKIFF_LOG", "info");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn skiff");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().unwrap();
        let l = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                match line {
                    Ok(line) => l.lock().unwrap().push(line),
                    Err(_) => break,
                }
            }
        });
        let err = child.stderr.take().unwrap();
        let e = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                match line {
                    Ok(line) => {
                        let mut s = e.lock().unwrap();
                        s.push_str(&line);
                        s.push('\n');
                    }
                    Err(_) => break,
                }
            }
        });
        Skiff {
            child,
            lines,
            stderr,
        }
    }

    pub fn count(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until at least `n` lines arrived; panics with a dump after `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) {
        let ok = wait_until(timeout, || self.count() >= n);
        assert!(
            ok,
            "expected {n} lines, got {} after {timeout:?}\nstderr:\n{}",
            self.count(),
            self.stderr()
        );
    }

    /// Waits until stderr contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        let ok = wait_until(timeout, || self.stderr().contains(needle));
        assert!(
            ok,
            "log line {needle:?} did not appear\nstderr:\n{}",
            self.stderr()
        );
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Sends SIGTERM and waits for the exit; returns the exit code.
    pub fn terminate(mut self, timeout: Duration) -> (i32, Vec<String>, String) {
        self.signal("TERM");
        self.wait_exit(timeout)
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> (i32, Vec<String>, String) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads drain the pipes.
                std::thread::sleep(Duration::from_millis(50));
                return (status.code().unwrap_or(-1), self.lines(), self.stderr());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "skiff did not exit within {timeout:?}\nstderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill9(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(50));
        self.lines()
    }
}

impl Drop for Skiff {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `skiff run --once` to completion; returns (exit code, stdout lines, stderr).
pub fn run_once(config: &Path, env: &[(&str, &str)]) -> (i32, Vec<String>, String) {
    let mut s = Skiff::start_with_env(config, &["--once"], env);
    s.wait_exit(Duration::from_secs(60))
}

pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// Appends lines to a file (opened in append mode each call, like many loggers).
pub fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut buf = String::new();
    for l in lines {
        buf.push_str(l);
        buf.push('\n');
    }
    f.write_all(buf.as_bytes()).unwrap();
}

/// `count` numbered lines with a prefix.
pub fn numbered(prefix: &str, from: usize, count: usize) -> Vec<String> {
    (from..from + count)
        .map(|i| format!("{prefix} {i:08}"))
        .collect()
}

/// How many times each line occurs.
pub fn counts(lines: &[String]) -> std::collections::HashMap<&str, usize> {
    let mut m = std::collections::HashMap::new();
    for l in lines {
        *m.entry(l.as_str()).or_default() += 1;
    }
    m
}

/// Exact-once comparison of two multisets of lines (order ignored); `Err` describes the
/// difference.
pub fn compare_exactly_once(got: &[String], expected: &[String]) -> Result<(), String> {
    let want = counts(expected);
    let have = counts(got);
    let missing: Vec<&&str> = want.keys().filter(|k| !have.contains_key(*k)).collect();
    let unexpected: Vec<&&str> = have.keys().filter(|k| !want.contains_key(*k)).collect();
    let repeated: Vec<(&&str, &usize)> = have
        .iter()
        .filter(|(k, n)| want.get(*k).is_some_and(|w| *n > w))
        .collect();
    if missing.is_empty() && unexpected.is_empty() && repeated.is_empty() {
        return Ok(());
    }
    Err(format!(
        "missing {} (e.g. {:?}), unexpected {} (e.g. {:?}), repeated {} (e.g. {:?}); got {} lines, expected {}",
        missing.len(),
        missing.iter().take(3).collect::<Vec<_>>(),
        unexpected.len(),
        unexpected.iter().take(3).collect::<Vec<_>>(),
        repeated.len(),
        repeated.iter().take(3).collect::<Vec<_>>(),
        got.len(),
        expected.len()
    ))
}

/// Asserts that `got` holds every line of `expected` exactly once (order ignored); `context`
/// (a seed, skiff's stderr) is added to the failure message.
pub fn assert_exactly_once(got: &[String], expected: &[String], context: &str) {
    if let Err(e) = compare_exactly_once(got, expected) {
        panic!(
            "{e}
{context}"
        );
    }
}
