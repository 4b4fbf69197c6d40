//! The `http` sink into a real ClickHouse (Debian's `clickhouse-server`, started by the test on
//! 127.0.0.1 with a temp data path): 100,000 JSON lines parsed and inserted with
//! `INSERT INTO logs FORMAT JSONEachRow`, every one arriving, checked with SELECTs; then the same
//! with skiff killed with SIGKILL again and again mid-stream: nothing lost. MergeTree does not
//! deduplicate inserts, so a batch sent again after a kill (delivered, not yet checkpointed) is
//! stored twice: duplicates are allowed, counted and printed.

mod support;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use support::clickhouse::ClickHouse;
use support::skiff::Skiff;
use support::workspace::Workspace;

const LINES: u64 = 100_000;
const WAIT: Duration = Duration::from_secs(180);

const TABLE: &str = "CREATE TABLE logs (timestamp String, n UInt64, level String, msg String) \
                     ENGINE = MergeTree ORDER BY n";

/// Line `n`: a JSON object the `parse_json` transform turns into fields.
fn line(n: u64) -> String {
    let level = ["info", "warn", "error"][(n % 3) as usize];
    format!(
        r#"{{"n":{n},"level":"{level}","msg":"request {n} took {} ms \"quoted\""}}"#,
        n % 977
    )
}

fn write_lines(path: &Path, range: std::ops::Range<u64>) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut buf = String::new();
    for n in range {
        buf.push_str(&line(n));
        buf.push('\n');
    }
    f.write_all(buf.as_bytes()).unwrap();
}

fn config(ws: &Workspace, ch: &ClickHouse) -> std::path::PathBuf {
    ws.config(&format!(
        r#"data_dir = "{{dir}}/data"
shutdown_timeout = "30s"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{{dir}}/logs/*.log"]
glob_interval = "100ms"
file_key = ""
[transforms.json]
type = "parse_json"
inputs = ["app"]
[sinks.clickhouse]
type = "http"
inputs = ["json"]
uri = "{}/?query=INSERT INTO logs FORMAT JSONEachRow&input_format_skip_unknown_fields=1"
compression = "gzip"
batch = {{ max_events = 5000, timeout = "200ms" }}
retry = {{ max_backoff = "1s" }}
"#,
        ch.url()
    ))
}

/// Checks every line is there with its values (a sample compared in full); returns the duplicates.
fn check_every_line(ch: &ClickHouse) -> u64 {
    assert_eq!(ch.number("SELECT uniqExact(n) FROM logs"), LINES);
    assert_eq!(ch.number("SELECT min(n) FROM logs"), 0);
    assert_eq!(ch.number("SELECT max(n) FROM logs"), LINES - 1);
    let sample = ch.query(
        "SELECT DISTINCT n, level, msg FROM logs WHERE n IN (0, 1, 4242, 77777, 99999) \
         ORDER BY n FORMAT JSONEachRow",
    );
    let rows: Vec<serde_json::Value> = sample
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5, "{sample}");
    for row in rows {
        let n: u64 = match &row["n"] {
            serde_json::Value::String(s) => s.parse().unwrap(),
            v => v.as_u64().unwrap(),
        };
        let want: serde_json::Value = serde_json::from_str(&line(n)).unwrap();
        assert_eq!(row["level"], want["level"]);
        assert_eq!(row["msg"], want["msg"]);
    }
    assert_eq!(
        ch.number("SELECT count() FROM logs WHERE timestamp NOT LIKE '20__-__-__T__:__:__.___Z'"),
        0,
        "every row has skiff's timestamp"
    );
    ch.number("SELECT count() FROM logs") - LINES
}

#[test]
fn a_hundred_thousand_parsed_lines_reach_clickhouse() {
    let ch = ClickHouse::start();
    ch.query(TABLE);
    let ws = Workspace::new();
    write_lines(&ws.log("app.log"), 0..LINES);
    let mut skiff = Skiff::start(&config(&ws, &ch), &[]);
    skiff.wait_for("every row", WAIT, || {
        ch.number("SELECT count() FROM logs") >= LINES
    });
    assert!(skiff.terminate(WAIT).success());
    assert_eq!(check_every_line(&ch), 0, "no duplicate without a crash");
}

#[test]
fn kill9_loop_into_clickhouse_loses_nothing() {
    let ch = ClickHouse::start();
    ch.query(TABLE);
    let ws = Workspace::new();
    let config = config(&ws, &ch);
    let chunk = LINES / 10;
    let mut kills = 0;
    for round in 0..10 {
        write_lines(&ws.log("app.log"), round * chunk..(round + 1) * chunk);
        let mut skiff = Skiff::start(&config, &[]);
        // Let some of the chunk through, then kill mid-stream.
        let before = ch.number("SELECT count() FROM logs");
        skiff.wait_for("progress", WAIT, || {
            ch.number("SELECT count() FROM logs") > before
        });
        skiff.kill9();
        kills += 1;
    }
    let mut skiff = Skiff::start(&config, &[]);
    skiff.wait_for("every line after the kills", WAIT, || {
        ch.number("SELECT uniqExact(n) FROM logs") >= LINES
    });
    assert!(skiff.terminate(WAIT).success());
    let duplicates = check_every_line(&ch);
    println!("{kills} kills: {LINES} lines, {duplicates} duplicate rows (MergeTree does not deduplicate)");
    assert!(
        duplicates < LINES,
        "at most a few batches per kill are sent twice"
    );
}

#[test]
fn the_documented_example_validates() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = support::skiff::validate(&repo.join("config/clickhouse.toml"));
    assert!(out.success(), "{}", out.stderr);
}
