//! The exposition: skiff's metrics and the log-derived ones, as Prometheus text (0.0.4) or
//! OpenMetrics (1.0.0), chosen by the scraper's `Accept` header.
//!
//! Negotiation follows Prometheus' client library: OpenMetrics when the `Accept` header names
//! `application/openmetrics-text` with a weight at least that of `text/plain`, else the classic
//! text format (also when there is no header). Prometheus itself sends an `Accept` that prefers
//! OpenMetrics.
//!
//! skiff's own registry (`prometheus-client`) encodes OpenMetrics only; [`to_text_format`]
//! rewrites it into the text format: counter and info families are named by their samples
//! (`_total`, `_info`), `# UNIT` and `# EOF` lines go.

use std::fmt::Write;

use bytes::Bytes;

use super::{store, Family, MetricKind};

/// The two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics text 1.0.0.
    OpenMetrics,
}

impl Format {
    /// The response's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format an `Accept` header asks for.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let (mut open, mut text) = (None::<f32>, None::<f32>);
        for part in accept.split(',') {
            let mut params = part.split(';').map(str::trim);
            let media = params.next().unwrap_or_default().to_ascii_lowercase();
            let q = params
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let slot = match media.as_str() {
                "application/openmetrics-text" => &mut open,
                "text/plain" => &mut text,
                _ => continue,
            };
            *slot = Some(slot.map_or(q, |v| v.max(q)));
        }
        match (open, text) {
            (Some(o), t) if o > 0.0 && o >= t.unwrap_or(0.0) => Format::OpenMetrics,
            _ => Format::Text,
        }
    }
}

/// Everything to expose: `own` (skiff's registry, OpenMetrics) and, when `log_metrics`, the
/// log-derived metrics, in `format`.
pub fn render(own: Option<&str>, log_metrics: bool, format: Format) -> String {
    let mut out = String::with_capacity(4096);
    if let Some(own) = own {
        let body = own.strip_suffix("# EOF\n").unwrap_or(own);
        match format {
            Format::OpenMetrics => out.push_str(body),
            Format::Text => to_text_format(body, &mut out),
        }
    }
    if log_metrics {
        for family in store().families() {
            encode_family(&family, format, &mut out);
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// Rewrites OpenMetrics text (without `# EOF`) into the Prometheus text format.
pub fn to_text_format(openmetrics: &str, out: &mut String) {
    // A family's HELP comes before its TYPE, which tells the name the text format uses.
    let mut pending_help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            pending_help = Some((name, help));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (sample_name, kind) = match kind {
                "counter" => (format!("{name}_total"), "counter"),
                "info" => (format!("{name}_info"), "gauge"),
                "gauge" | "histogram" | "summary" => (name.to_owned(), kind),
                _ => (name.to_owned(), "untyped"),
            };
            if let Some((_, help)) = pending_help.take() {
                let _ = writeln!(out, "# HELP {sample_name} {help}");
            }
            let _ = writeln!(out, "# TYPE {sample_name} {kind}");
        } else if line.starts_with("# UNIT ") || line.starts_with("# EOF") {
            continue;
        } else if line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
        } else if line.ends_with("_created") || line.contains("_created{") {
            // OpenMetrics' creation times have no place in the text format.
            continue;
        } else {
            // An exemplar (` # {...}`) is OpenMetrics only.
            let sample = line.split_once(" # ").map_or(line, |(s, _)| s);
            out.push_str(sample);
            out.push('\n');
        }
    }
}

fn encode_family(f: &Family, format: Format, out: &mut String) {
    let name = &f.def.name;
    let (family_name, kind) = match (&f.def.kind, format) {
        (MetricKind::Counter, Format::OpenMetrics) => {
            (name.strip_suffix("_total").unwrap_or(name), "counter")
        }
        (MetricKind::Counter, Format::Text) => (name.as_str(), "counter"),
        (MetricKind::Gauge, _) => (name.as_str(), "gauge"),
        (MetricKind::Histogram { .. }, _) => (name.as_str(), "histogram"),
    };
    let _ = writeln!(out, "# HELP {family_name} {}", escape_help(&f.def.help));
    let _ = writeln!(out, "# TYPE {family_name} {kind}");
    let labels = &f.def.labels;
    f.visit(|values, series| match &f.def.kind {
        MetricKind::Counter | MetricKind::Gauge => {
            sample(out, name, labels, values, None, series.value());
        }
        MetricKind::Histogram { buckets } => {
            let counts = series.bucket_counts();
            let mut cumulative = 0u64;
            for (i, n) in counts.iter().enumerate() {
                cumulative += n;
                let le = buckets.get(i).map_or_else(|| "+Inf".to_owned(), |b| le(*b));
                let bucket = format!("{name}_bucket");
                sample(out, &bucket, labels, values, Some(&le), cumulative as f64);
            }
            sample(
                out,
                &format!("{name}_sum"),
                labels,
                values,
                None,
                series.value(),
            );
            sample(
                out,
                &format!("{name}_count"),
                labels,
                values,
                None,
                cumulative as f64,
            );
        }
    });
}

/// A bucket bound as both formats write it (`0.5`, `1.0`).
fn le(b: f64) -> String {
    let s = format!("{b}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn sample(
    out: &mut String,
    name: &str,
    labels: &[String],
    values: &[Bytes],
    le: Option<&str>,
    value: f64,
) {
    out.push_str(name);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        for (k, v) in labels.iter().zip(values) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(k);
            out.push_str("=\"");
            escape_label(&String::from_utf8_lossy(v), out);
            out.push('"');
        }
        if let Some(le) = le {
            if !first {
                out.push(',');
            }
            let _ = write!(out, "le=\"{le}\"");
        }
        out.push('}');
    }
    out.push(' ');
    if value.fract() == 0.0 && value.abs() < 1e15 {
        let _ = write!(out, "{}", value as i64);
    } else {
        let _ = write!(out, "{value}");
    }
    out.push('\n');
}

fn escape_label(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(h: &str) -> String {
    h.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_like_prometheus() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(Format::negotiate(None), Format::Text);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
        assert_eq!(
            Format::negotiate(Some("text/plain;version=0.0.4")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some(
                "text/plain;version=0.0.4,application/openmetrics-text;q=0.5"
            )),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;q=0")),
            Format::Text
        );
    }

    #[test]
    fn openmetrics_becomes_text_format() {
        let om = "# HELP a_requests Requests.\n# TYPE a_requests counter\na_requests_total{x=\"1\"} 3\na_requests_created{x=\"1\"} 1.7e9\n# HELP b_build Build.\n# TYPE b_build info\nb_build_info{version=\"1\"} 1\n# HELP c_bytes Bytes.\n# TYPE c_bytes gauge\n# UNIT c_bytes bytes\nc_bytes 5\n";
        let mut out = String::new();
        to_text_format(om, &mut out);
        assert_eq!(
            out,
            "# HELP a_requests_total Requests.\n# TYPE a_requests_total counter\na_requests_total{x=\"1\"} 3\n# HELP b_build_info Build.\n# TYPE b_build_info gauge\nb_build_info{version=\"1\"} 1\n# HELP c_bytes Bytes.\n# TYPE c_bytes gauge\nc_bytes 5\n"
        );
    }

    #[test]
    fn bounds_and_values() {
        assert_eq!(le(1.0), "1.0");
        assert_eq!(le(0.25), "0.25");
        let mut out = String::new();
        sample(
            &mut out,
            "m",
            &["a".into()],
            &[Bytes::from_static(b"q\"\\\n")],
            Some("+Inf"),
            2.5,
        );
        assert_eq!(out, "m{a=\"q\\\"\\\\\\n\",le=\"+Inf\"} 2.5\n");
    }
}
