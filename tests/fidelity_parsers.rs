//! Golden vectors from the peers' own test suites and documentation, run through skiff's
//! transforms and compared field by field, types and times included. The fixtures, and the
//! repository and path each vector comes from, are under `tests/fixtures/fidelity/` (see its
//! `SOURCES`). Run with `--nocapture` for the tally per suite.

mod support;

use support::compare::masked_lines;
use support::fidelity::run_suite;
use support::skiff::run_once;
use support::workspace::{pipeline, Workspace};

/// What `run --once` of `config` printed for `input` in `logs/app.log`, read times masked.
struct Run {
    lines: Vec<String>,
    stderr: String,
}

fn run_on(config: &str, input: &str) -> Run {
    let ws = Workspace::new();
    ws.write("logs/app.log", input);
    let out = run_once(&ws.config(config), &[]);
    Run {
        lines: masked_lines(&out),
        stderr: out.stderr,
    }
}

#[test]
fn fluent_bit_parsers() {
    run_suite("parsers");
}

#[test]
fn fluent_bit_multiline() {
    run_suite("multiline");
}

#[test]
fn vector_cri() {
    run_suite("cri");
}

#[test]
fn vector_docker() {
    run_suite("docker");
}

#[test]
fn logfmt_decoders() {
    run_suite("logfmt");
}

/// JSONTestSuite: every document as one record through `parse_json`: y_ files accepted with
/// their value, n_ files refused and kept, i_ files as the fixture records; none lost.
#[test]
fn json_test_suite() {
    let path = support::fidelity::fixtures().join("json/JSONTestSuite.tsv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut chain =
        support::fidelity::build(&[
            toml::from_str("type = \"parse_json\"\ntarget = \"doc\"").unwrap()
        ])
        .unwrap();
    let (mut checked, mut failures) = ([0usize; 3], Vec::new());
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.splitn(4, '\t').collect();
        let [name, expect, enc, data] = cols[..] else {
            panic!("bad line: {line}");
        };
        let doc = match enc {
            "hex" => (0..data.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&data[i..i + 2], 16).unwrap())
                .collect(),
            _ => support::fidelity::expand(&serde_json::from_str::<String>(data).unwrap())
                .into_bytes(),
        };
        let read = String::from_utf8_lossy(&doc).into_owned();
        let events = support::fidelity::run(&mut chain, &[doc]);
        let got = match events.as_slice() {
            [ev] if ev.fields.get("_skiff_error").is_none() => {
                let want: Option<serde_json::Value> = serde_json::from_str(&read).ok();
                let value = ev.fields.get("doc").map(support::fidelity::json);
                if value != want {
                    failures.push(format!("{name}: value {value:?}, expected {want:?}"));
                }
                "accept"
            }
            [ev] => {
                if ev.fields.get("message").and_then(|m| m.as_str()) != Some(read.as_str()) {
                    failures.push(format!("{name}: the refused record lost its text"));
                }
                "refuse"
            }
            other => {
                failures.push(format!("{name}: {} events out of one record", other.len()));
                continue;
            }
        };
        checked["yni".find(&name[..1]).unwrap()] += 1;
        if got != expect {
            failures.push(format!(
                "{name}: skiff would {got}, the fixture says {expect}"
            ));
        }
    }
    eprintln!(
        "json/JSONTestSuite.tsv: {} y_ accepted with their value, {} n_ refused and kept, {} i_ as recorded",
        checked[0], checked[1], checked[2]
    );
    assert_eq!(
        checked.iter().sum::<usize>(),
        318,
        "every file of test_parsing"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A few vectors through the real binary (`run --once`): named parsers, the container
/// multiline list, a stack trace rule, a JSON document the suite refuses.
#[test]
fn through_the_binary() {
    let config = pipeline(
        r#"
[transforms.last]
type = "parse"
inputs = ["in"]
parsers = ["nginx", "syslog-rfc5424"]
"#,
    );
    let input = concat!(
        "192.168.1.1 - - [26/Nov/2026:04:00:00 +0100] \"GET / HTTP/1.1\" 200 512 \"-\" \"curl/8.0\"\n",
        "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed\n",
        "neither\n",
    );
    let run = run_on(&config, input);
    assert_eq!(
        run.lines,
        [
            r#"{"timestamp":"2026-11-26T03:00:00.000Z","remote":"192.168.1.1","host":"-","user":"-","method":"GET","path":"/","code":"200","size":"512","referer":"-","agent":"curl/8.0"}"#,
            r#"{"timestamp":"2003-10-11T22:14:15.003Z","pri":"34","time":"2003-10-11T22:14:15.003Z","host":"mymachine.example.com","ident":"su","pid":"-","msgid":"ID47","extradata":"-","message":"'su root' failed"}"#,
            r#"{"timestamp":"<read_at>","message":"neither","_skiff_error":"the text is in none of the parsers' formats"}"#,
        ],
        "stderr:\n{}",
        run.stderr
    );

    let config = pipeline(
        r#"
[transforms.last]
type = "multiline"
inputs = ["in"]
parsers = ["docker", "cri"]
"#,
    );
    let input = concat!(
        "2019-05-07T18:57:50.904275087+00:00 stdout P 1a. some \n",
        "{\"log\":\"bb\",\"stream\":\"stdout\",\"time\":\"2021-02-01T16:45:03.01232Z\"}\n",
        "2019-05-07T18:57:52.904275089+00:00 stdout F log\n",
        "{\"log\":\"cc\\n\",\"stream\":\"stdout\",\"time\":\"2021-02-01T16:45:03.01233Z\"}\n",
    );
    let run = run_on(&config, input);
    assert_eq!(
        run.lines,
        [
            r#"{"timestamp":"2019-05-07T18:57:50.904Z","log":"1a. some log","stream":"stdout","time":"2019-05-07T18:57:50.904275087+00:00","_p":"P"}"#,
            r#"{"timestamp":"2021-02-01T16:45:03.012Z","log":"bbcc\n","stream":"stdout","time":"2021-02-01T16:45:03.01232Z"}"#,
        ],
        "stderr:\n{}",
        run.stderr
    );

    let config = pipeline(
        r#"
[transforms.last]
type = "multiline"
inputs = ["in"]
parser = "python"
"#,
    );
    let input = "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n    f()\nValueError: bad\nnext\n";
    let run = run_on(&config, input);
    assert_eq!(
        run.lines,
        [
            r#"{"timestamp":"<read_at>","message":"Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n    f()\nValueError: bad"}"#,
            r#"{"timestamp":"<read_at>","message":"next"}"#,
        ],
        "stderr:\n{}",
        run.stderr
    );
}
