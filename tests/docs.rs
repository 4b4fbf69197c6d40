//! The documentation is checked against the code and against itself: README.md and every
//! `docs/**/*.md`. docs/development.md explains the conventions to contributors.
//!
//! - Config keys: the keys each part of the config accepts are asked from the config loader
//!   itself ([`code`]), and compared both ways with the option tables of the docs. An option
//!   table follows a marker naming what it documents: `<!-- keys: sinks.elasticsearch -->` (a
//!   component), `<!-- keys: transforms.parse_json.timestamp -->` (a nested table of one) or
//!   `<!-- keys: global -->`; its rows start with the key in backticks, `batch.max_events` for
//!   a key of a nested table. A table may serve several components.
//! - Metrics: every metric the registry holds is a row of the metrics table
//!   (`<!-- metrics -->`), and every row is a metric.
//! - Links: relative links point at files that exist, `#anchors` at a heading of the target
//!   (GitHub's slugs), and no file has two headings with the same anchor.
//! - Figures: each figure of the README is stated in `docs/`, and the figures that used to
//!   disagree (binary size, channel capacity) agree with each other and with the code.
//! - The README's two commands come first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// A regex compiled once (compiling one per call makes the debug build crawl).
macro_rules! regex {
    ($re:literal) => {{
        static RE: std::sync::LazyLock<Regex> =
            std::sync::LazyLock::new(|| Regex::new($re).unwrap());
        &*RE
    }};
}

#[path = "docs/code.rs"]
mod code;

/// A markdown file of the documentation.
struct Doc {
    path: PathBuf,
    text: String,
}

impl Doc {
    /// Lines outside code fences, with their 1-based numbers.
    fn prose(&self) -> Vec<(usize, &str)> {
        let mut fence: Option<&str> = None;
        let mut out = Vec::new();
        for (i, line) in self.text.lines().enumerate() {
            let t = line.trim_start();
            let marker = ["```", "~~~"].into_iter().find(|m| t.starts_with(m));
            match (fence, marker) {
                (None, Some(m)) => fence = Some(m),
                (Some(f), Some(m)) if f == m => fence = None,
                (None, None) => out.push((i + 1, line)),
                _ => {}
            }
        }
        out
    }

    /// The GitHub anchors of the headings, in order.
    fn anchors(&self) -> Vec<(usize, String)> {
        let heading = regex!(r"^#{1,6}\s+(.*?)\s*#*\s*$");
        self.prose()
            .into_iter()
            .filter_map(|(n, l)| heading.captures(l).map(|c| (n, slug(&c[1]))))
            .collect()
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// README.md and every markdown file under docs/.
fn docs() -> Vec<Doc> {
    let mut paths = vec![PathBuf::from("README.md")];
    let mut dirs = vec![PathBuf::from("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| Doc {
            text: std::fs::read_to_string(&path).unwrap(),
            path,
        })
        .collect()
}

/// GitHub's anchor for a heading: markup and punctuation removed, lowercase, spaces to dashes.
fn slug(heading: &str) -> String {
    let link = regex!(r"\[([^\]]*)\]\([^)]*\)");
    link.replace_all(heading, "$1")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The links of a file: (line, target), inline code left out.
fn links(doc: &Doc) -> Vec<(usize, String)> {
    let code = regex!(r"`[^`]*`");
    let link = regex!(r#"\]\(([^)\s]+)(?:\s+"[^"]*")?\)"#);
    let mut out = Vec::new();
    for (n, line) in doc.prose() {
        let line = code.replace_all(line, "");
        for c in link.captures_iter(&line) {
            out.push((n, c[1].to_owned()));
        }
    }
    out
}

#[test]
fn every_link_and_anchor_resolves() {
    let docs = docs();
    let anchors: BTreeMap<PathBuf, BTreeSet<String>> = docs
        .iter()
        .map(|d| {
            (
                d.path.clone(),
                d.anchors().into_iter().map(|a| a.1).collect(),
            )
        })
        .collect();
    let mut problems = Vec::new();
    for doc in &docs {
        for (n, target) in links(doc) {
            if ["http://", "https://", "mailto:"]
                .iter()
                .any(|p| target.starts_with(p))
            {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                doc.path.clone()
            } else {
                normalize(&doc.path.parent().unwrap().join(file))
            };
            let place = format!("{}:{n}: `{target}`", doc.name());
            if !path.exists() {
                problems.push(format!("{place}: {} does not exist", path.display()));
            } else if !anchor.is_empty() && path.extension().is_some_and(|e| e == "md") {
                match anchors.get(&path) {
                    Some(a) if a.contains(anchor) => {}
                    Some(_) => problems.push(format!("{place}: no heading `#{anchor}`")),
                    None => problems.push(format!("{place}: not a documentation file")),
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

/// `docs/sinks/../README.md` as `docs/README.md` (relative to the crate's root).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn headings_are_unique_within_each_file() {
    let mut problems = Vec::new();
    for doc in docs() {
        let mut seen = BTreeMap::new();
        for (n, anchor) in doc.anchors() {
            if let Some(first) = seen.insert(anchor.clone(), n) {
                problems.push(format!(
                    "{}:{n}: heading `#{anchor}` repeats line {first}",
                    doc.name()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_readme_starts_with_the_two_commands() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let first_block = readme.split("```").nth(1).unwrap_or_default();
    let commands: Vec<&str> = first_block
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("sh"))
        .collect();
    assert_eq!(
        commands,
        [
            "cargo run --release -- run --once --config config/quickstart.toml",
            "bash .ci/run"
        ]
    );
}

/// The rows of the table after each marker `<!-- NAME: ARGS -->`: (args, keys in backticks of
/// the first cell, place).
fn marked_tables(name: &str) -> Vec<(Vec<String>, Vec<String>, String)> {
    let marker = Regex::new(&format!(r"^<!--\s*{name}:?\s*(.*?)\s*-->\s*$")).unwrap();
    let tick = regex!(r"`([^`]*)`");
    let mut out = Vec::new();
    for doc in docs() {
        let prose = doc.prose();
        for (i, (n, line)) in prose.iter().enumerate() {
            let Some(c) = marker.captures(line) else {
                continue;
            };
            let args = c[1].split_whitespace().map(str::to_owned).collect();
            let rows = prose[i + 1..]
                .iter()
                .skip_while(|(_, l)| l.trim().is_empty())
                .take_while(|(_, l)| l.starts_with('|'))
                .skip(2); // the header and the separator
            let mut keys = Vec::new();
            for (_, row) in rows {
                let first = row.split('|').nth(1).unwrap_or_default();
                keys.extend(tick.captures_iter(first).map(|k| k[1].to_owned()));
            }
            out.push((args, keys, format!("{}:{n}", doc.name())));
        }
    }
    out
}

#[test]
fn every_config_key_is_documented_and_every_documented_key_exists() {
    let code = code::config_keys();
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (targets, keys, place) in marked_tables("keys") {
        for target in targets {
            let depth = if target.starts_with("global") { 1 } else { 2 };
            let parts: Vec<&str> = target.split('.').collect();
            let (part, prefix) = parts.split_at(depth.min(parts.len()));
            let part = part.join(".");
            if !code.contains_key(&part) {
                problems.push(format!("{place}: `{target}`: no such part of the config"));
                continue;
            }
            let set = documented.entry(part).or_default();
            for key in &keys {
                let full: Vec<&str> = prefix.iter().copied().chain(key.split('.')).collect();
                for i in 1..=full.len() {
                    set.insert(full[..i].join("."));
                }
            }
        }
    }
    for (part, keys) in &code {
        let Some(docs) = documented.get(part) else {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            problems.push(format!(
                "`{part}` has no option table (`<!-- keys: {part} -->`); it accepts: {}",
                keys.join(", ")
            ));
            continue;
        };
        for key in keys.difference(docs) {
            problems.push(format!(
                "`{part}` accepts `{key}`, which no option table lists"
            ));
        }
        for key in docs.difference(keys) {
            problems.push(format!(
                "`{part}`: the docs list `{key}`, which the config refuses"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the option tables disagree with the code:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_metric_is_documented() {
    let registered = code::registered_metrics();
    let encoded: BTreeSet<String> = skiff::metrics::metrics()
        .encode()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| match l.split_once(' ').unwrap() {
            (name, "counter") => format!("{name}_total"),
            (name, "info") => format!("{name}_info"),
            (name, _) => name.to_owned(),
        })
        .collect();
    assert!(
        !encoded.is_empty() && encoded.is_subset(&registered),
        "reading src/metrics.rs found {registered:?}, but the registry encodes {encoded:?}"
    );
    let tables = marked_tables("metrics");
    assert_eq!(
        tables.len(),
        1,
        "one metrics table, marked `<!-- metrics -->`"
    );
    let documented: BTreeSet<String> = tables[0].1.iter().cloned().collect();
    let missing: Vec<_> = registered.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&registered).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "the metrics table ({}) lacks {missing:?} and lists {unknown:?}, which skiff does not export",
        tables[0].2
    );
}

/// The numbers of the figures with a unit in `text`: `2,690` of `2,690 MB/s`.
fn figures(text: &str) -> BTreeSet<String> {
    let figure = regex!(r"\b(\d[\d,.–]*\d|\d)\s?(?:[KMG]i?B/s|[KMG]iB|[KMG]B|%|lines/s)");
    figure
        .captures_iter(text)
        .map(|c| c[1].to_owned())
        .collect()
}

#[test]
fn the_readme_quotes_its_figures_from_the_reference() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let number = regex!(r"\d[\d,.–]*\d|\d");
    let reference: BTreeSet<String> = docs()
        .iter()
        .filter(|d| d.path.starts_with("docs"))
        .flat_map(|d| {
            number
                .find_iter(&d.text)
                .map(|m| m.as_str().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let missing: Vec<String> = figures(&readme).difference(&reference).cloned().collect();
    assert!(
        missing.is_empty(),
        "figures in README.md that docs/ does not state: {missing:?}"
    );
}

#[test]
fn the_binary_size_and_the_channel_capacity_are_quoted_alike() {
    let all: String = docs().iter().map(|d| d.text.as_str()).collect();
    let binary = regex!(r"stripped release binary is (\d+(?:\.\d+)?) MiB");
    let sizes: BTreeSet<&str> = binary
        .captures_iter(&all)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(
        sizes.len(),
        1,
        "the stripped binary's size, quoted: {sizes:?}"
    );
    let other = regex!(r"(\d+(?:\.\d+)?) MiB binary|binary (?:of|is) (\d+(?:\.\d+)?) MiB");
    for c in other.captures_iter(&all) {
        let size = c.get(1).or(c.get(2)).unwrap().as_str();
        assert!(
            sizes.contains(size),
            "a binary of {size} MiB is quoted: {}",
            &c[0]
        );
    }
    let channel = regex!(r"(?i)(\w+) batch(?:es)? (?:per edge|each)");
    let words = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
    ];
    let quoted: Vec<String> = channel
        .captures_iter(&all)
        .map(|c| c[1].to_lowercase())
        .collect();
    assert!(
        !quoted.is_empty(),
        "no document says how many batches a channel holds"
    );
    let n = skiff::topology::CHANNEL_BATCHES;
    for q in quoted {
        assert!(
            q == n.to_string() || words.get(n) == Some(&q.as_str()),
            "a channel is said to hold {q} batches; the code says {n}"
        );
    }
}
