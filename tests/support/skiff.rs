//! The real `skiff` binary, as the tests run it.
//!
//! Two ways: a command run to completion ([`skiff`], [`validate`], [`run_once`]: an [`Output`]
//! with stdout as printed), or a running `skiff run` ([`Skiff`]) whose stdout lines and stderr
//! are collected while the test writes logs, signals it and waits for its exit (an [`Exit`]).
//!
//! Every command gets the same environment whatever the test runner's: no `SKIFF_LOG` or
//! `SKIFF_CONFIG` (the config's log level applies, else `info`; a test sets `SKIFF_LOG` itself
//! when it needs another), none of the Downward API variables (a test sets the ones it checks),
//! and no proxy for the local test servers. A wait that fails panics with skiff's stderr.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::wait::wait_until;

/// How long a command run to completion may take before the test fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The Downward API variables skiff's `kubernetes` transform reads.
const DOWNWARD_API: [&str; 5] = [
    "POD_NAME",
    "POD_NAMESPACE",
    "NODE_NAME",
    "POD_IP",
    "CONTAINER_NAME",
];

/// The path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_skiff")
}

/// `skiff`, with the tests' environment (see the module doc) and stdin closed.
pub fn command() -> Command {
    command_via(&[])
}

/// `WRAPPER... skiff` (e.g. `setpriv --reuid=65534 ...`), with the tests' environment.
pub fn command_via(wrapper: &[&str]) -> Command {
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(bin());
            c
        }
        None => Command::new(bin()),
    };
    cmd.env_remove("SKIFF_LOG")
        .env_remove("SKIFF_CONFIG")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null());
    for k in DOWNWARD_API {
        cmd.env_remove(k);
    }
    cmd
}

/// `skiff run --config CONFIG ARGS...`.
pub fn run_command(config: &Path, args: &[&str]) -> Command {
    let mut cmd = command();
    cmd.arg("run").arg("--config").arg(config).args(args);
    cmd
}

/// What a command run to completion printed.
#[derive(Debug)]
pub struct Output {
    /// The exit code; -1 when a signal ended it.
    pub code: i32,
    /// Stdout exactly as printed.
    pub stdout: String,
    pub stderr: String,
    /// When the command started and ended (to recognise read times in its output).
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// Stdout's lines.
    pub fn lines(&self) -> Vec<String> {
        self.stdout.lines().map(str::to_owned).collect()
    }
}

/// Runs `cmd` to completion (panics after a minute) and returns what it printed.
pub fn output(mut cmd: Command) -> Output {
    let started = Utc::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn skiff");
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out = read_all(Box::new(child.stdout.take().expect("stdout piped")));
    let err = read_all(Box::new(child.stderr.take().expect("stderr piped")));
    let status = wait_child(&mut child, RUN_TIMEOUT);
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "skiff {:?} did not finish within {RUN_TIMEOUT:?}\nstderr:\n{}",
            cmd.get_args().collect::<Vec<_>>(),
            err.join().unwrap_or_default()
        );
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
        started,
        ended: Utc::now(),
    }
}

/// `skiff ARGS...` with `env`, to completion.
pub fn skiff(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command();
    cmd.args(args).envs(env.iter().copied());
    output(cmd)
}

/// `skiff validate --config CONFIG`.
pub fn validate(config: &Path) -> Output {
    let mut cmd = command();
    cmd.arg("validate").arg("--config").arg(config);
    output(cmd)
}

/// `skiff run --once --config CONFIG` with `env`, to completion.
pub fn run_once(config: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = run_command(config, &["--once"]);
    cmd.envs(env.iter().copied());
    output(cmd)
}

/// Polls `child` until it exits (its status) or `timeout` passes (`None`).
fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let mut status = None;
    wait_until(timeout, || {
        status = child.try_wait().expect("wait for skiff");
        status.is_some()
    });
    status
}

/// What to do with a running skiff's stdout.
pub enum Stdout {
    /// Read it on a thread, line by line.
    Collect,
    /// Keep the pipe and leave it unread (a console sink that gets stuck), or read it in the
    /// test ([`Skiff::take_stdout`]).
    Hold,
}

/// How a running skiff ended.
#[derive(Debug)]
pub struct Exit {
    /// The exit code; -1 when a signal ended it.
    pub code: i32,
    /// Every stdout line (with [`Stdout::Collect`]).
    pub lines: Vec<String>,
    pub stderr: String,
}

impl Exit {
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

/// A running skiff with its stdout lines and stderr collected; killed when dropped.
pub struct Skiff {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    held: Option<ChildStdout>,
}

impl Skiff {
    /// Starts `skiff run --config CONFIG ARGS...`.
    pub fn start(config: &Path, args: &[&str]) -> Skiff {
        Self::start_with_env(config, args, &[])
    }

    /// Like [`start`](Self::start), with `env` set.
    pub fn start_with_env(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Skiff {
        let mut cmd = run_command(config, args);
        cmd.envs(env.iter().copied());
        Self::spawn(cmd, Stdout::Collect)
    }

    /// Starts `cmd` (from [`run_command`] or [`command_via`]) with its output collected.
    pub fn spawn(mut cmd: Command, stdout: Stdout) -> Skiff {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn skiff");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().expect("stderr piped");
        let e = Arc::clone(&stderr);
        let mut readers = vec![std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = e.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        })];
        let out = child.stdout.take().expect("stdout piped");
        let held = match stdout {
            Stdout::Hold => Some(out),
            Stdout::Collect => {
                let l = Arc::clone(&lines);
                readers.push(std::thread::spawn(move || {
                    for line in BufReader::new(out).lines().map_while(Result::ok) {
                        l.lock().unwrap().push(line);
                    }
                }));
                None
            }
        };
        Skiff {
            child,
            lines,
            stderr,
            readers,
            held,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The stdout lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub fn line_count(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// skiff's own log (stderr) so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The stdout pipe, with [`Stdout::Hold`].
    pub fn take_stdout(&mut self) -> ChildStdout {
        self.held.take().expect("stdout held")
    }

    /// Panics with skiff's stderr unless `cond` holds within `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
        if !wait_until(timeout, cond) {
            panic!(
                "timed out after {timeout:?} waiting for {what}; skiff's stderr:\n{}",
                self.stderr()
            );
        }
    }

    /// Waits until at least `n` stdout lines arrived.
    pub fn wait_for_lines(&self, n: usize, timeout: Duration) {
        if !wait_until(timeout, || self.line_count() >= n) {
            panic!(
                "expected {n} lines, got {} after {timeout:?}; skiff's stderr:\n{}",
                self.line_count(),
                self.stderr()
            );
        }
    }

    /// Waits for a log line containing `needle`; returns that line.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let mut found = None;
        self.wait_for(&format!("a log line with {needle:?}"), timeout, || {
            found = self
                .stderr()
                .lines()
                .find(|l| l.contains(needle))
                .map(str::to_owned);
            found.is_some()
        });
        found.expect("found when the wait succeeded")
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("wait for skiff").is_none()
    }

    /// Sends a signal (`TERM`, `HUP`, `STOP`...).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// SIGTERM, then waits for the exit.
    pub fn terminate(&mut self, timeout: Duration) -> Exit {
        self.signal("TERM");
        self.wait_exit(timeout)
    }

    /// SIGKILL: no drain, no last checkpoint.
    pub fn kill9(&mut self) -> Exit {
        let _ = self.child.kill();
        self.wait_exit(RUN_TIMEOUT)
    }

    /// Waits for the process to exit, then for its output to be read to the end.
    pub fn wait_exit(&mut self, timeout: Duration) -> Exit {
        let Some(status) = wait_child(&mut self.child, timeout) else {
            panic!(
                "skiff did not exit within {timeout:?}; its stderr:\n{}",
                self.stderr()
            );
        };
        // The pipes close with the process; give the readers the last bytes.
        let readers = std::mem::take(&mut self.readers);
        wait_until(Duration::from_secs(5), || {
            readers.iter().all(JoinHandle::is_finished)
        });
        Exit {
            code: status.code().unwrap_or(-1),
            lines: self.lines(),
            stderr: self.stderr(),
        }
    }
}

impl Drop for Skiff {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `skiff validate` on `body` (written as `skiff.toml` in a fresh workspace): the exit code and
/// stderr, with the file's path shown as `skiff.toml`.
pub fn validate_body(body: &str) -> (i32, String) {
    let ws = crate::support::workspace::Workspace::new();
    let path = ws.config(body);
    let out = validate(&path);
    let shown = path.display().to_string();
    (out.code, out.stderr.replace(&shown, "skiff.toml"))
}

/// How many times `needle` occurs in `text`.
pub fn occurrences(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}
