//! End-to-end benchmark: the release binary on generated files, `skiff run --once`, per scenario.
//!
//! `cargo bench --bench e2e` generates deterministic data (fixed seed) under
//! `target/bench-data`, runs each scenario `SKIFF_BENCH_RUNS` times (default 3) and prints the
//! median (min–max) of MB/s, lines/s, CPU seconds (user+sys) and peak RSS, beside the time of
//! `cat FILE > /dev/null` on the same file as the machine's reference.
//!
//! Environment: `SKIFF_BENCH_LINES` (default 2,000,000), `SKIFF_BENCH_RUNS` (default 3),
//! `SKIFF_BENCH_ONLY` (comma-separated scenario names), `SKIFF_BENCH_IDLE_SECS` (default 60),
//! `SKIFF_BENCH_SCRAPE_MS` (scrape /metrics this often during runs, to measure its cost),
//! `SKIFF_BENCH_BIN` (another skiff binary, e.g. one built with symbols for `perf`).
//!
//! `f_plain_http*`: plain lines → the `http` sink (NDJSON; plain and gzip) → an in-process HTTP
//! server that counts lines (tests/support/http_server.rs): CPU seconds per GB read, peak RSS.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../tests/support/http_server.rs"]
mod http_server;

const LEVELS: [&str; 4] = ["INFO", "WARN", "ERROR", "DEBUG"];
const WORDS: [&str; 16] = [
    "request", "handled", "user", "session", "cache", "miss", "database", "query", "retry",
    "timeout", "upstream", "payment", "order", "checkout", "login", "token",
];

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn timestamp(i: u64) -> String {
    let ms = i % 1000;
    let s = i / 1000;
    format!(
        "2026-11-26T{:02}:{:02}:{:02}.{ms:03}",
        4 + (s / 3600) % 20,
        (s / 60) % 60,
        s % 60
    )
}

fn message(rng: &mut Rng) -> String {
    let n = 3 + rng.below(8);
    (0..n)
        .map(|_| WORDS[rng.below(16) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a scenario's input file holds.
#[derive(Clone, Copy, PartialEq)]
enum Data {
    /// `timestamp level message request_id=... latency_ms=...`.
    Plain,
    /// The same as JSON objects.
    Json,
    /// nginx combined access lines with `$request_time` appended (config/nginx-metrics.toml).
    Nginx,
    /// The same, each line with a path of its own, 1,000,000 distinct paths at most (the
    /// cardinality attack).
    NginxDistinct,
}

impl Data {
    fn file(self, root: &Path, lines: u64) -> PathBuf {
        let name = match self {
            Data::Plain => "plain",
            Data::Json => "json",
            Data::Nginx => "nginx",
            Data::NginxDistinct => "nginx-distinct",
        };
        root.join(format!("{name}-{lines}.log"))
    }
}

/// nginx line `i`: statuses, methods and request times in fixed shares.
fn nginx_line(i: u64, rng: &mut Rng, distinct: bool) -> String {
    const STATUSES: [u16; 8] = [200, 200, 200, 200, 304, 404, 500, 201];
    const METHODS: [&str; 4] = ["GET", "GET", "POST", "PUT"];
    let status = STATUSES[rng.below(8) as usize];
    let method = METHODS[rng.below(4) as usize];
    let path = if distinct {
        format!("/u/{}", i % 1_000_000)
    } else {
        format!("/api/{}/{}", WORDS[rng.below(16) as usize], rng.below(100))
    };
    let bytes = rng.below(50_000);
    let ms = rng.below(2_000);
    format!(
        "10.{}.{}.{} - - [26/Nov/2026:04:{:02}:{:02} +0000] \"{method} {path} HTTP/1.1\" {status} {bytes} \"https://example.com/\" \"Mozilla/5.0 (X11; Linux x86_64) bench/1.0\" {}.{:03}\n",
        rng.below(256),
        rng.below(256),
        rng.below(256),
        (i / 60) % 60,
        i % 60,
        ms / 1000,
        ms % 1000
    )
}

fn generate(path: &Path, lines: u64, data: Data) {
    if path.exists() {
        return;
    }
    if matches!(data, Data::Nginx | Data::NginxDistinct) {
        let mut rng = Rng(0x5eed_cafe_f00d_0002);
        let mut out = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(path).expect("create data"),
        );
        for i in 0..lines {
            let line = nginx_line(i, &mut rng, data == Data::NginxDistinct);
            out.write_all(line.as_bytes()).expect("write data");
        }
        out.flush().expect("flush data");
        return;
    }
    let json = data == Data::Json;
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let mut out = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).expect("create data"),
    );
    for i in 0..lines {
        let (ts, level, msg) = (timestamp(i), LEVELS[(i % 4) as usize], message(&mut rng));
        let (id, lat) = (rng.next(), rng.below(500));
        let line = if json {
            format!("{{\"timestamp\":\"{ts}\",\"level\":\"{level}\",\"message\":\"{msg}\",\"request_id\":\"{id:016x}\",\"latency_ms\":{lat}}}\n")
        } else {
            format!("{ts} {level} {msg} request_id={id:016x} latency_ms={lat}\n")
        };
        out.write_all(line.as_bytes()).expect("write data");
    }
    out.flush().expect("flush data");
}

struct Scenario {
    name: &'static str,
    data: Data,
    /// The pipeline after `[sources.app]`; the source is added by the harness.
    pipeline: &'static str,
}

const SCENARIOS: &[Scenario] = &[
    Scenario { name: "a_plain_blackhole", data: Data::Plain, pipeline: "[sinks.out]\ntype = \"blackhole\"\ninputs = [\"app\"]\n" },
    Scenario { name: "plain_console", data: Data::Plain, pipeline: "[sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n" },
    Scenario {
        name: "b_json_parse_console",
        data: Data::Json,
        pipeline: "[transforms.parse]\ntype = \"parse_json\"\ninputs = [\"app\"]\n[sinks.out]\ntype = \"console\"\ninputs = [\"parse\"]\n",
    },
    Scenario {
        name: "c_regex_time_fields_console",
        data: Data::Plain,
        pipeline: r#"[transforms.parse]
type = "parse_regex"
inputs = ["app"]
pattern = '^(?P<timestamp>\S+) (?P<level>\S+) (?P<message>.*)$'
timestamp = { field = "timestamp", format = "%Y-%m-%dT%H:%M:%S%.3f" }
[transforms.enrich]
type = "add_fields"
inputs = ["parse"]
fields = { "kubernetes.pod_name" = "bench-pod", "kubernetes.namespace" = "bench" }
[sinks.out]
type = "console"
inputs = ["enrich"]
"#,
    },
    // The metrics adapter (config/nginx-metrics.toml): parse, then metrics; events consumed.
    Scenario {
        name: "f_nginx_parse_metrics",
        data: Data::Nginx,
        pipeline: NGINX_METRICS,
    },
    // The cardinality attack: a label from the path, 1,000,000 distinct values, 10,000 series
    // kept (the default max_series), the rest refused; peak RSS is the figure.
    Scenario {
        name: "g_nginx_cardinality_attack",
        data: Data::NginxDistinct,
        pipeline: NGINX_ATTACK,
    },
];

const NGINX_METRICS: &str = concat!(
    r#"[transforms.request_time]
type = "parse_regex"
inputs = ["app"]
pattern = '" (?P<request_time>[0-9]+(?:\.[0-9]+)?)$'
types = { request_time = "float" }
keep_source = true
[transforms.access]
type = "parse"
inputs = ["request_time"]
parser = "nginx"
[sinks.out]
type = "blackhole"
inputs = ["nginx_metrics"]
"#,
    r#"[transforms.nginx_metrics]
type = "log_to_metric"
inputs = ["access"]
consume = true
[[transforms.nginx_metrics.metrics]]
name = "nginx_http_requests_total"
kind = "counter"
labels = { status = "{{ code }}", method = "{{ method }}" }
[[transforms.nginx_metrics.metrics]]
name = "nginx_http_request_duration_seconds"
kind = "histogram"
field = "request_time"
buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
[[transforms.nginx_metrics.metrics]]
name = "nginx_http_response_bytes_total"
kind = "counter"
field = "size"
labels = { status = "{{ code }}" }
"#
);

const NGINX_ATTACK: &str = concat!(
    r#"[transforms.request_time]
type = "parse_regex"
inputs = ["app"]
pattern = '" (?P<request_time>[0-9]+(?:\.[0-9]+)?)$'
types = { request_time = "float" }
keep_source = true
[transforms.access]
type = "parse"
inputs = ["request_time"]
parser = "nginx"
[sinks.out]
type = "blackhole"
inputs = ["nginx_metrics"]
"#,
    r#"[transforms.nginx_metrics]
type = "log_to_metric"
inputs = ["access"]
consume = true
[[transforms.nginx_metrics.metrics]]
name = "nginx_http_requests_by_path_total"
kind = "counter"
labels = { path = "{{ path }}", status = "{{ code }}" }
"#
);

struct Sample {
    wall: f64,
    cpu: f64,
    rss_kib: i64,
}

fn wait_rusage(child: &mut Child) -> (std::process::ExitStatus, f64, i64) {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: plain FFI call with valid out-pointers; `rusage` is plain data.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        std::process::ExitStatus::from_raw(status),
        tv(usage.ru_utime) + tv(usage.ru_stime),
        usage.ru_maxrss,
    )
}

fn run_skiff(
    bin: &Path,
    config: &Path,
    data_dir: &Path,
    scrape: Option<u64>,
) -> Result<Sample, String> {
    let _ = std::fs::remove_dir_all(data_dir);
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(["run", "--once", "--config"])
        .arg(config)
        .env("SKIFF_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stderr = child.stderr.take();
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr {
            for l in BufReader::new(e).lines().map_while(Result::ok) {
                s.push_str(&l);
                s.push('\n');
            }
        }
        s
    });
    let scraper = scrape.map(|ms| {
        std::thread::spawn(move || {
            let mut n = 0;
            while let Ok(mut s) = std::net::TcpStream::connect("127.0.0.1:18081") {
                let _ = s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n");
                let _ = std::io::Read::read_to_end(&mut s, &mut Vec::new());
                n += 1;
                std::thread::sleep(Duration::from_millis(ms));
            }
            n
        })
    });
    let (status, cpu, rss) = wait_rusage(&mut child);
    let wall = start.elapsed().as_secs_f64();
    let errs = errs.join().unwrap_or_default();
    if let Some(s) = scraper {
        let _ = s.join();
    }
    if !status.success() {
        return Err(format!(
            "exit {status}: {}",
            errs.lines().last().unwrap_or("")
        ));
    }
    Ok(Sample {
        wall,
        cpu,
        rss_kib: rss,
    })
}

fn cat_time(file: &Path, runs: usize) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let st = Command::new("cat")
                .arg(file)
                .stdout(Stdio::null())
                .status()
                .expect("cat");
            assert!(st.success());
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn median_min_max(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not: then run a smoke
    // version that checks the harness works without taking minutes.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let bin = std::env::var_os("SKIFF_BENCH_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_skiff")), PathBuf::from);
    let lines = if smoke {
        20_000
    } else {
        env_num("SKIFF_BENCH_LINES", 2_000_000)
    };
    let runs = if smoke {
        1
    } else {
        env_num("SKIFF_BENCH_RUNS", 3) as usize
    };
    let only: Option<Vec<String>> = std::env::var("SKIFF_BENCH_ONLY")
        .ok()
        .map(|s| s.split(',').map(str::to_owned).collect());
    let scrape = std::env::var("SKIFF_BENCH_SCRAPE_MS")
        .ok()
        .and_then(|s| s.parse().ok());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&root).expect("bench dir");
    let plain = Data::Plain.file(&root, lines);
    generate(&plain, lines, Data::Plain);
    println!(
        "skiff end-to-end bench: {lines} lines, {runs} runs, medians (min-max); binary {}",
        bin.display()
    );
    println!(
        "{:<30} {:>9} {:>22} {:>12} {:>10} {:>9} {:>9} {:>7}",
        "scenario", "MB", "MB/s", "lines/s", "CPU s", "RSS MiB", "cat MB/s", "x cat"
    );
    for sc in SCENARIOS {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == sc.name))
        {
            continue;
        }
        let file = &sc.data.file(&root, lines);
        generate(file, lines, sc.data);
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
        let dir = root.join(sc.name);
        let api = if scrape.is_some() {
            "[api]\naddress = \"127.0.0.1:18081\"\n"
        } else {
            "[api]\nenabled = false\n"
        };
        let config = dir.join("skiff.toml");
        std::fs::create_dir_all(&dir).expect("scenario dir");
        std::fs::write(
            &config,
            format!(
                "data_dir = \"{}\"\n{api}[sources.app]\ntype = \"file\"\ninclude = [\"{}\"]\n{}",
                dir.join("data").display(),
                file.display(),
                sc.pipeline
            ),
        )
        .expect("config");
        let samples: Result<Vec<Sample>, String> = (0..runs)
            .map(|_| run_skiff(&bin, &config, &dir.join("data"), scrape))
            .collect();
        let samples = match samples {
            Ok(s) => s,
            Err(e) => {
                println!("{:<30} skipped: {e}", sc.name);
                // Under `cargo test` a scenario that cannot run means the harness is broken.
                assert!(!smoke, "scenario {} failed: {e}", sc.name);
                continue;
            }
        };
        let cat = cat_time(file, runs);
        let (mbs, mbs_min, mbs_max) =
            median_min_max(samples.iter().map(|s| size / s.wall).collect());
        let (wall, _, _) = median_min_max(samples.iter().map(|s| s.wall).collect());
        let (cpu, _, _) = median_min_max(samples.iter().map(|s| s.cpu).collect());
        let (rss, _, _) =
            median_min_max(samples.iter().map(|s| s.rss_kib as f64 / 1024.0).collect());
        println!(
            "{:<30} {:>9.1} {:>7.0} ({:>5.0}-{:>5.0}) {:>12.0} {:>10.2} {:>9.1} {:>9.0} {:>7.2}",
            sc.name,
            size,
            mbs,
            mbs_min,
            mbs_max,
            lines as f64 / wall,
            cpu,
            rss,
            size / cat,
            cat / wall
        );
    }
    if only
        .as_ref()
        .is_none_or(|o| o.iter().any(|n| n == "e_plain_elasticsearch"))
    {
        elasticsearch(&bin, &root, &plain, lines, runs);
    }
    for gzip in [false, true] {
        let name = if gzip {
            "f_plain_http_gzip"
        } else {
            "f_plain_http"
        };
        if only.as_ref().is_none_or(|o| o.iter().any(|n| n == name)) {
            http(&bin, &root, &plain, lines, runs, gzip, smoke);
        }
    }
    if only
        .as_ref()
        .is_none_or(|o| o.iter().any(|n| n == "d_idle"))
    {
        idle(
            &bin,
            &root,
            if smoke {
                1
            } else {
                env_num("SKIFF_BENCH_IDLE_SECS", 60)
            },
        );
    }
}

/// (d) idle: one empty file tailed with the API on; RSS and CPU over `SKIFF_BENCH_IDLE_SECS`.
fn idle(bin: &Path, root: &Path, secs: u64) {
    let dir = root.join("d_idle");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("logs")).expect("idle dir");
    std::fs::write(dir.join("logs/quiet.log"), b"").expect("idle file");
    let config = dir.join("skiff.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{d}/data\"\n[api]\naddress = \"127.0.0.1:0\"\n[sources.app]\ntype = \"file\"\ninclude = [\"{d}/logs/*.log\"]\n[sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n",
            d = dir.display()
        ),
    )
    .expect("idle config");
    let mut child = Command::new(bin)
        .args(["run", "--config"])
        .arg(&config)
        .env("SKIFF_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn idle skiff");
    std::thread::sleep(Duration::from_secs(secs.min(3)));
    let pid = child.id();
    let rss = || -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|k| k.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    let t0 = cpu_of(pid);
    std::thread::sleep(Duration::from_secs(secs));
    let cpu = cpu_of(pid) - t0;
    println!(
        "d_idle: RSS {:.1} MiB, CPU {:.3} s over {secs} s = {:.3}%",
        rss(),
        cpu,
        cpu / secs as f64 * 100.0
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// CPU seconds a running process has used so far.
fn cpu_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = fields
        .get(11)
        .and_then(|u| u.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
    // SAFETY: sysconf is always safe to call.
    ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// (e) plain lines → the Elasticsearch-compatible test server (`examples/es_test_server.rs`):
/// skiff's CPU per GB shipped, and the server's share.
fn elasticsearch(bin: &Path, root: &Path, file: &Path, lines: u64, runs: usize) {
    let server_bin = bin.with_file_name("examples").join("es_test_server");
    if !server_bin.exists() {
        println!("e_plain_elasticsearch          skipped: run `cargo build --release --example es_test_server` first");
        return;
    }
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    let dir = root.join("e_plain_elasticsearch");
    std::fs::create_dir_all(&dir).expect("scenario dir");
    let mut results = Vec::new();
    for _ in 0..runs {
        let mut server = Command::new(&server_bin)
            .args(["--no-store-sources", "--no-record-bodies"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start es_test_server");
        let mut addr = String::new();
        if let Some(out) = server.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut addr);
        }
        let config = dir.join("skiff.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = \"{}\"\n[api]\nenabled = false\n[sources.app]\ntype = \"file\"\ninclude = [\"{}\"]\n[sinks.es]\ntype = \"elasticsearch\"\ninputs = [\"app\"]\nendpoints = [\"http://{}\"]\nindex = \"bench-%Y.%m.%d\"\n",
                dir.join("data").display(),
                file.display(),
                addr.trim()
            ),
        )
        .expect("config");
        let server_cpu0 = cpu_of(server.id());
        let r = run_skiff(bin, &config, &dir.join("data"), None);
        let server_cpu = cpu_of(server.id()) - server_cpu0;
        let _ = server.kill();
        let _ = server.wait();
        match r {
            Ok(s) => results.push((s, server_cpu)),
            Err(e) => {
                println!("e_plain_elasticsearch          skipped: {e}");
                return;
            }
        }
    }
    let (wall, _, _) = median_min_max(results.iter().map(|(s, _)| s.wall).collect());
    let (cpu, _, _) = median_min_max(results.iter().map(|(s, _)| s.cpu).collect());
    let (server, _, _) = median_min_max(results.iter().map(|(_, c)| *c).collect());
    let (rss, _, _) = median_min_max(
        results
            .iter()
            .map(|(s, _)| s.rss_kib as f64 / 1024.0)
            .collect(),
    );
    println!(
        "e_plain_elasticsearch: {:.0} MB/s, {:.0} lines/s, skiff {:.2} CPU s ({:.2} CPU s per GB), test server {:.2} CPU s ({:.0}% of the total), skiff RSS {:.1} MiB",
        size / wall,
        lines as f64 / wall,
        cpu,
        cpu / (size / 1000.0),
        server,
        server / (server + cpu) * 100.0,
        rss
    );
}

/// (f) plain lines → the `http` sink → an in-process server that counts lines: skiff's CPU per
/// GB read and peak RSS.
fn http(bin: &Path, root: &Path, file: &Path, lines: u64, runs: usize, gzip: bool, smoke: bool) {
    let name = if gzip {
        "f_plain_http_gzip"
    } else {
        "f_plain_http"
    };
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("scenario dir");
    let mut samples = Vec::new();
    for _ in 0..runs {
        let server = http_server::HttpServer::counting();
        let config = dir.join("skiff.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = \"{}\"\n[api]\nenabled = false\n[sources.app]\ntype = \"file\"\ninclude = [\"{}\"]\n[sinks.out]\ntype = \"http\"\ninputs = [\"app\"]\nuri = \"{}/?query=INSERT INTO logs FORMAT JSONEachRow\"\ncompression = \"{}\"\n",
                dir.join("data").display(),
                file.display(),
                server.url(),
                if gzip { "gzip" } else { "none" }
            ),
        )
        .expect("config");
        match run_skiff(bin, &config, &dir.join("data"), None) {
            Ok(s) => {
                assert_eq!(server.line_count(), lines, "every line reached the server");
                samples.push(s);
            }
            Err(e) => {
                println!("{name:<30} skipped: {e}");
                assert!(!smoke, "scenario {name} failed: {e}");
                return;
            }
        }
    }
    let (wall, _, _) = median_min_max(samples.iter().map(|s| s.wall).collect());
    let (cpu, _, _) = median_min_max(samples.iter().map(|s| s.cpu).collect());
    let (rss, _, _) = median_min_max(samples.iter().map(|s| s.rss_kib as f64 / 1024.0).collect());
    println!(
        "{name}: {:.0} MB/s, {:.0} lines/s, skiff {:.2} CPU s ({:.2} CPU s per GB read), skiff RSS {:.1} MiB",
        size / wall,
        lines as f64 / wall,
        cpu,
        cpu / (size / 1000.0),
        rss
    );
}
