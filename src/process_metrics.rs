//! The process's own resources, under Prometheus' standard `process_*` names, read from
//! `/proc/self` at each scrape: what dashboards and alerts written for any exporter expect
//! (`process_resident_memory_bytes`, `rate(process_cpu_seconds_total[5m])`...).
//!
//! Reading them costs a few small file reads per scrape and nothing between scrapes. Where
//! `/proc` is not there (not Linux), nothing is exported.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Clock ticks per second in `/proc/*/stat`: the kernel reports `USER_HZ`, which is 100 on
/// every Linux architecture (the ABI fixes it, whatever the kernel's own tick rate).
const TICKS_PER_SECOND: f64 = 100.0;

/// One reading of the process's resources.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    pub cpu_seconds: f64,
    pub resident_bytes: i64,
    pub virtual_bytes: i64,
    pub start_time_seconds: f64,
    pub open_fds: i64,
    pub max_fds: Option<i64>,
}

/// Reads `/proc/self`; `None` where it cannot be read.
pub fn read() -> Option<Reading> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| boot_time(&s));
    let mut r = parse(&stat, &status, boot)?;
    r.open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as i64);
    r.max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| max_open_files(&l));
    Some(r)
}

/// Reads the fields of `/proc/self/stat` and `/proc/self/status` (`boot`: `btime` of
/// `/proc/stat`, seconds since the epoch).
fn parse(stat: &str, status: &str, boot: Option<f64>) -> Option<Reading> {
    // The command name is in parentheses and may hold spaces: count fields after its end.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state); utime is field 14, stime 15, starttime 22, vsize 23.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    let cpu_seconds = (field(14)? + field(15)?) / TICKS_PER_SECOND;
    let start_time_seconds = boot.map_or(0.0, |b| b + field(22).unwrap_or(0.0) / TICKS_PER_SECOND);
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
            .map(|k| k * 1024)
    };
    Some(Reading {
        cpu_seconds,
        resident_bytes: kib("VmRSS:").unwrap_or(0),
        virtual_bytes: field(23).map_or(0, |v| v as i64),
        start_time_seconds,
        open_fds: 0,
        max_fds: None,
    })
}

fn boot_time(proc_stat: &str) -> Option<f64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn max_open_files(limits: &str) -> Option<i64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Encodes a [`Reading`] at each scrape.
#[derive(Debug)]
pub struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(r) = read() else { return Ok(()) };
        let cpu = ConstCounter::new(r.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        let gauges: [(&str, &str, f64); 4] = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                r.resident_bytes as f64,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                r.virtual_bytes as f64,
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds",
                r.start_time_seconds,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors",
                r.open_fds as f64,
            ),
        ];
        for (name, help, value) in gauges {
            let g = ConstGauge::new(value);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
        }
        if let Some(max) = r.max_fds {
            let g = ConstGauge::new(max as f64);
            g.encode(encoder.encode_descriptor(
                "process_max_fds",
                "Maximum number of open file descriptors",
                None,
                g.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn now_seconds() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }

    #[test]
    fn parses_stat_with_a_command_holding_spaces() {
        let stat = "4242 (skiff worker (1)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 \
                    20 0 8 0 12345 104857600 2048 18446744073709551615";
        let status = "Name:\tskiff\nVmSize:\t  102400 kB\nVmRSS:\t    8192 kB\n";
        let r = parse(stat, status, Some(1_700_000_000.0)).unwrap();
        assert_eq!(r.cpu_seconds, 3.0);
        assert_eq!(r.resident_bytes, 8192 * 1024);
        assert_eq!(r.virtual_bytes, 104_857_600);
        assert_eq!(r.start_time_seconds, 1_700_000_000.0 + 123.45);
    }

    #[test]
    fn reads_this_process() {
        let r = read().unwrap();
        assert!(r.resident_bytes > 0 && r.open_fds > 0, "{r:?}");
        assert!(r.start_time_seconds > 1e9 && r.start_time_seconds <= now_seconds());
        assert!(r.max_fds.is_some_and(|m| m > 0), "{r:?}");
    }

    #[test]
    fn limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units\n\
                    Max open files            1024                 524288               files\n";
        assert_eq!(max_open_files(text), Some(1024));
    }
}
