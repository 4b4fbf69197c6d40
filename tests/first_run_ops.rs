//! A new user's first runs, through the binary: what skiff prints while it runs and when it
//! stops. Each message once (a missing file, an address in use, a closed stdout), the signal and
//! the exit code at shutdown, the help, the console's text encoding, the lag gauge.

mod support;

use std::process::Command;

use support::skiff::{bin, occurrences, skiff, Skiff};
use support::workspace::Workspace;

#[test]
fn a_missing_config_file_is_reported_once() {
    let expected = "skiff: cannot read config file /nonexistent/skiff.toml: No such file or \
                    directory (os error 2)\n";
    for cmd in ["validate", "run"] {
        let out = skiff(&[cmd, "--config", "/nonexistent/skiff.toml"], &[]);
        assert_eq!((out.code, out.stderr.as_str()), (1, expected), "{cmd}");
    }
}

#[test]
fn an_api_address_in_use_is_reported_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let env = Workspace::new();
    let path = env.console_config_with("");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("enabled = false", &format!("address = \"{address}\""));
    std::fs::write(&path, text).unwrap();
    let out = skiff(&["run", "--once", "--config", &path], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let reason = format!(
        "cannot listen on {address} for the API ([api] address): Address already in use (os error 98)"
    );
    assert_eq!(occurrences(&out.stderr, &reason), 1, "{}", out.stderr);
    assert_eq!(
        occurrences(&out.stderr, "Address already in use"),
        1,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "ERROR skiff: skiff stopped. exit_code=1 error={reason}"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_closed_stdout_is_reported_once() {
    let env = Workspace::new();
    let path = env.console_config_with("");
    // More than a pipe holds: a write fails even if another test's child, between its fork and
    // its exec, briefly held the pipe's read end open.
    let lines: Vec<String> = (0..20_000).map(|i| format!("line {i}")).collect();
    support::writers::append(&env.logs().join("app.log"), &lines);
    let mut child = Command::new(bin())
        .args(["run", "--once", "--config", &path])
        .env("SKIFF_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Nobody reads stdout.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        occurrences(&stderr, "stdout was closed by the reader; stopping"),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "ERROR skiff: skiff stopped. exit_code=1 error=sink `out` failed: stdout was closed \
             by the reader; stopping"
        ),
        "{stderr}"
    );
}

#[test]
fn the_shutdown_log_names_the_signal_and_the_exit_code() {
    let env = Workspace::new();
    let path = env.console_config_with("");
    let mut s = Skiff::start(std::path::Path::new(&path), &[]);
    s.wait_for_log("Source started.", std::time::Duration::from_secs(20));
    let exit = s.terminate(std::time::Duration::from_secs(30));
    let stderr = exit.stderr;
    assert_eq!(exit.code, 0, "{stderr}");
    assert!(
        stderr.contains(
            "INFO skiff::app: Signal received: draining, then exiting. signal=\"SIGTERM\""
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("INFO skiff: skiff stopped. exit_code=0"),
        "{stderr}"
    );
}

#[test]
fn every_help_names_the_exit_codes_and_skiff_log() {
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["validate", "--help"],
        &["migrate", "--help"],
    ] {
        let out = skiff(args, &[]);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        for needle in ["Exit codes:\n", "SKIFF_LOG"] {
            assert!(out.stdout.contains(needle), "{args:?}: {}", out.stdout);
        }
    }
    let run = skiff(&["run", "--help"], &[]);
    for code in ["  0 ", "  1 ", "  2 ", "  130 "] {
        assert!(run.stdout.contains(code), "{code}: {}", run.stdout);
    }
}

#[test]
fn the_lag_counts_a_line_not_yet_ended() {
    let env = Workspace::new();
    let path = env.console_config_with("");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("enabled = false", "address = \"127.0.0.1:0\"");
    std::fs::write(&path, &text).unwrap();
    let log = env.logs().join("app.log");
    support::writers::append(&log, &["one".into(), "two".into()]);
    let mut s = Skiff::start(std::path::Path::new(&path), &[]);
    let lag = |s: &mut Skiff| {
        s.scrape()
            .get("skiff_file_lag_bytes", &[("file", log.to_str().unwrap())])
    };
    let caught_up = support::wait::wait_until(std::time::Duration::from_secs(20), || {
        s.line_count() == 2 && lag(&mut s) == Some(0.0)
    });
    assert!(caught_up, "{}", s.stderr());
    // The app writes the start of a line and has not ended it yet.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"partial"))
        .unwrap();
    let lagging = support::wait::wait_until(std::time::Duration::from_secs(20), || {
        lag(&mut s) == Some(7.0)
    });
    assert!(lagging, "lag {:?}; log:\n{}", lag(&mut s), s.stderr());
}

#[test]
fn text_encoding_writes_an_event_without_message_as_json() {
    let env = Workspace::new();
    std::fs::write(
        env.logs().join("app.log"),
        "{\"level\":\"INFO\",\"msg\":\"no message field\"}\nplain\n",
    )
    .unwrap();
    let path = env.console_config_with("encoding = \"text\"\n");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("inputs = [\"app\"]", "inputs = [\"parse\"]")
        + "[transforms.parse]\ntype = \"parse_json\"\ninputs = [\"app\"]\n";
    std::fs::write(&path, text).unwrap();
    let out = skiff(
        &["run", "--once", "--config", &path],
        &[("SKIFF_LOG", "warn")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(
        lines[0].starts_with("{\"timestamp\":")
            && lines[0].contains("\"level\":\"INFO\",\"msg\":\"no message field\""),
        "{}",
        out.stdout
    );
    assert_eq!(lines[1], "plain");
    assert_eq!(
        occurrences(
            &out.stderr,
            "Events without a `message` field were written as JSON lines"
        ),
        1,
        "{}",
        out.stderr
    );
}
