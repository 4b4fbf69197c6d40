//! Runs the real binary on a config and input files in a temp dir, with `run --once`, and
//! returns what it wrote to stdout, ready for exact comparison.

#![allow(dead_code)]

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// How long one run may take before the test fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// What a run printed.
pub struct Run {
    /// Stdout lines, with read times replaced by `<read_at>`.
    pub lines: Vec<String>,
    /// Stderr, for failure messages.
    pub stderr: String,
}

/// Writes `files` (name, content) into a fresh temp dir, then runs `config` with `{dir}`
/// replaced by that dir, `env` set, and `--once`.
pub fn run_once(config: &str, files: &[(&str, &str)], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let config = config.replace("{dir}", &dir.path().display().to_string());
    let config_path = dir.path().join("skiff.toml");
    std::fs::write(&config_path, config).unwrap();
    run_config(&config_path, dir.path(), env)
}

/// Runs the binary on `config_path` with `--once`; `SKIFF_DATA_DIR` points into `dir`.
pub fn run_config(config_path: &Path, dir: &Path, env: &[(&str, &str)]) -> Run {
    let started = Utc::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skiff"));
    cmd.args(["run", "--once", "--config"])
        .arg(config_path)
        .env("SKIFF_DATA_DIR", dir.join("data"))
        .env("SKIFF_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The Downward API variables of wherever the tests run must not leak into the output.
    for k in [
        "POD_NAME",
        "POD_NAMESPACE",
        "NODE_NAME",
        "POD_IP",
        "CONTAINER_NAME",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("skiff did not finish within {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    assert!(status.success(), "skiff failed: {status}\n{stderr}");
    let ended = Utc::now();
    let lines = out
        .lines()
        .map(|l| mask_read_time(l, started, ended))
        .collect();
    Run { lines, stderr }
}

/// Replaces a leading `"timestamp":"..."` that falls within the run (the read time of an event
/// without its own time) by `<read_at>`.
fn mask_read_time(line: &str, started: DateTime<Utc>, ended: DateTime<Utc>) -> String {
    const PREFIX: &str = "{\"timestamp\":\"";
    let Some(rest) = line.strip_prefix(PREFIX) else {
        return line.to_owned();
    };
    let Some(end) = rest.find('"') else {
        return line.to_owned();
    };
    let slack = chrono::Duration::seconds(2);
    match DateTime::parse_from_rfc3339(&rest[..end]) {
        Ok(t) if t >= started - slack && t <= ended + slack => {
            format!("{PREFIX}<read_at>{}", &rest[end..])
        }
        _ => line.to_owned(),
    }
}

/// A config with one file source reading `{dir}/*.log` (without the path field), `transforms`
/// (TOML text of `[transforms.*]` tables, the first reading `in`, the last named `last`), and a
/// console sink.
pub fn pipeline(transforms: &str) -> String {
    format!(
        r#"data_dir = "${{SKIFF_DATA_DIR}}"

[api]
enabled = false

[sources.in]
type = "file"
include = ["{{dir}}/*.log"]
file_key = ""

{transforms}

[sinks.out]
type = "console"
inputs = ["last"]
encoding = "json"
"#
    )
}
