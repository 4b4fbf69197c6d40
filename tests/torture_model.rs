//! Property tests: config interpolation on any input, and a model-based test of the file source.
//!
//! The model test applies random sequences of operations to a real directory while the real
//! binary follows it: writes of complete lines, partial writes (no newline), rotation by rename,
//! copytruncate, deletion, restarts (SIGTERM) and kills (-9). A model computes what must come
//! out, following the rules for partial lines in docs/guarantees.md: a line without its newline
//! is emitted when skiff stops (SIGTERM) or when its file is finished, and what is written after
//! it then makes a new line. After sequences without kills every line comes out exactly once;
//! with kills, at least once, each at most once more per kill, and nothing that is not a line.
//!
//! The glob matches rotated names (`app.log*`), so no line may be lost to a rotation. Two limits
//! the model respects, both documented: a file is deleted only once skiff has read it (data
//! deleted before skiff opened the file is gone), and copytruncate is applied only once skiff
//! has read the file and only to files of at least `fingerprint_bytes` (a copy is recognised by
//! the first `fingerprint_bytes` of the original as skiff last saw them; a copy of a file skiff
//! saw shorter than that is read again from its start: at least once, at most that many bytes
//! again).
//!
//! Cases: 8 in short mode, 64 with `SKIFF_TORTURE=long`; `PROPTEST_CASES` overrides both.

mod support;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use proptest::prelude::*;
use skiff::config::interpolate::interpolate;
use support::compare::compare_lines;
use support::skiff::Skiff;
use support::torture::pick;
use support::wait::wait_until;
use support::workspace::Workspace;
use support::writers::{open_append, truncate};

const T: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- interpolation

fn lookup(name: &str) -> Option<String> {
    match name {
        "A" => Some("alpha".into()),
        "EMPTY" => Some(String::new()),
        // A value that looks like a variable is inserted as it is, never expanded again.
        "TRICKY" => Some("${A} $$ ${".into()),
        _ => None,
    }
}

/// Text made mostly of the characters interpolation cares about.
fn config_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("$".to_owned()),
        Just("$$".to_owned()),
        Just("${".to_owned()),
        Just("}".to_owned()),
        Just(":-".to_owned()),
        Just("\n".to_owned()),
        Just("#".to_owned()),
        Just(" ".to_owned()),
        Just("${A}".to_owned()),
        Just("${TRICKY}".to_owned()),
        Just("${NOPE:-d}".to_owned()),
        "[A-Za-z0-9_]{1,4}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// Escapes every `$` as `$$`, except on comment lines, which are left alone.
fn escape(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            if line.trim_start().starts_with('#') {
                line.to_owned()
            } else {
                line.replace('$', "$$")
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: pick(2_000, 20_000), ..ProptestConfig::default() })]

    #[test]
    fn interpolation_never_panics_and_errors_point_at_a_dollar(text in config_text()) {
        match interpolate(&text, lookup) {
            Ok(_) => {}
            Err(e) => prop_assert_eq!(text.as_bytes().get(e.offset), Some(&b'$'), "{}", e.message),
        }
    }

    #[test]
    fn escaped_dollars_come_back_unchanged(text in config_text()) {
        prop_assert_eq!(interpolate(&escape(&text), lookup).unwrap(), text);
    }

    #[test]
    fn values_are_inserted_as_they_are(prefix in "[a-z ]{0,5}", suffix in "[a-z ]{0,5}") {
        let out = interpolate(&format!("{prefix}${{TRICKY}}{suffix}"), lookup).unwrap();
        prop_assert_eq!(out, format!("{prefix}${{A}} $$ ${{{suffix}"));
    }
}

// ---------------------------------------------------------------- the tailer's model

/// One step of a sequence.
#[derive(Debug, Clone)]
enum Op {
    /// Complete lines (the first one completes a partial line, if any).
    Write(usize),
    /// Bytes without a newline.
    Partial(usize),
    /// `app.log` → `app.log.N`; the next write creates a new `app.log`.
    Rename,
    /// Copy `app.log` to `app.log.N`, then truncate it.
    CopyTruncate,
    /// Delete `app.log` (once skiff has read it).
    Delete,
    /// SIGTERM, then start again.
    Restart,
    /// kill -9, then start again.
    Kill,
    /// Let skiff work for a moment.
    Pause(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1usize..40).prop_map(Op::Write),
        2 => (1usize..60).prop_map(Op::Partial),
        2 => Just(Op::Rename),
        2 => Just(Op::CopyTruncate),
        1 => Just(Op::Delete),
        2 => Just(Op::Restart),
        2 => Just(Op::Kill),
        2 => (0u64..150).prop_map(Op::Pause),
    ]
}

/// A file as the model sees it.
#[derive(Debug, Default)]
struct MFile {
    /// Bytes of an unfinished line, as skiff will emit them.
    current: String,
    size: usize,
}

/// What must come out, and the files the operations work on.
struct Model {
    dir: PathBuf,
    files: Vec<MFile>,
    /// Index of `app.log` in `files`.
    live: Option<usize>,
    /// Every line skiff must emit, in the order they were made.
    lines: Vec<String>,
    next: usize,
    rotations: usize,
}

/// `fingerprint_bytes` (the default): copytruncate is applied only to files at least this big.
const FINGERPRINT: usize = 256;

impl Model {
    fn live_path(&self) -> PathBuf {
        self.dir.join("app.log")
    }

    fn append(&mut self, text: &str) {
        let live = match self.live {
            Some(i) => i,
            None => {
                self.files.push(MFile::default());
                self.live = Some(self.files.len() - 1);
                self.files.len() - 1
            }
        };
        let mut f = open_append(&self.live_path());
        f.write_all(text.as_bytes()).unwrap();
        self.files[live].size += text.len();
    }

    fn write(&mut self, n: usize) {
        let mut text = String::new();
        let live_before = self.live;
        let mut current = live_before.map(|i| std::mem::take(&mut self.files[i].current));
        for _ in 0..n {
            let body = format!("w{:06} {}", self.next, "b".repeat(self.next * 13 % 90));
            self.next += 1;
            text.push_str(&body);
            text.push('\n');
            let line = current.take().unwrap_or_default() + &body;
            self.lines.push(line);
        }
        self.append(&text);
    }

    fn partial(&mut self, len: usize) {
        let frag = format!("p{:06}-{}", self.next, "q".repeat(len));
        self.next += 1;
        self.append(&frag);
        let live = self.live.unwrap();
        self.files[live].current.push_str(&frag);
    }

    fn rename(&mut self) {
        if self.live.take().is_some() {
            self.rotations += 1;
            let to = self.dir.join(format!("app.log.{}", self.rotations));
            std::fs::rename(self.live_path(), to).unwrap();
        }
    }

    fn copytruncate(&mut self) {
        let Some(live) = self.live else { return };
        if self.files[live].size < FINGERPRINT {
            return;
        }
        self.rotations += 1;
        let to = self.dir.join(format!("app.log.{}", self.rotations));
        std::fs::copy(self.live_path(), to).unwrap();
        truncate(&self.live_path());
        let copy = MFile {
            current: std::mem::take(&mut self.files[live].current),
            size: self.files[live].size,
        };
        self.files[live].size = 0;
        self.files.push(copy);
    }

    /// SIGTERM: skiff emits every unfinished line it holds.
    fn stopped(&mut self) {
        for f in &mut self.files {
            if !f.current.is_empty() {
                self.lines.push(std::mem::take(&mut f.current));
            }
        }
    }
}

/// The runs of skiff over one sequence.
struct Runs {
    config: PathBuf,
    skiff: Option<Skiff>,
    done: Vec<String>,
}

impl Runs {
    fn start(&mut self) {
        self.skiff = Some(Skiff::start(&self.config, &[]));
    }

    fn shipped(&self) -> Vec<String> {
        let mut all = self.done.clone();
        if let Some(s) = &self.skiff {
            all.extend(s.lines());
        }
        all
    }

    /// Waits until every line in `lines` was shipped.
    fn sync(&self, lines: &[String]) -> bool {
        wait_until(T, || {
            let shipped = self.shipped();
            let got: std::collections::HashSet<&String> = shipped.iter().collect();
            lines.iter().all(|l| got.contains(l))
        })
    }

    fn terminate(&mut self) {
        if let Some(mut s) = self.skiff.take() {
            let exit = s.terminate(T);
            assert_eq!(exit.code, 0, "{}", exit.stderr);
            self.done.extend(exit.lines);
        }
    }

    fn kill(&mut self) {
        if let Some(mut s) = self.skiff.take() {
            self.done.extend(s.kill9().lines);
        }
    }
}

fn config(ws: &Workspace) -> PathBuf {
    ws.config(
        r#"
data_dir = "{dir}/data"
shutdown_timeout = "10s"
[api]
enabled = false
[sources.app]
type = "file"
include = ["{dir}/logs/app.log*"]
glob_interval = "50ms"
rotate_wait = "200ms"
checkpoint_interval = "50ms"
read_buffer = "4KiB"
[sinks.out]
type = "console"
inputs = ["app"]
encoding = "text"
"#,
    )
}

/// Runs `ops` and checks the output against the model; `Err` explains a mismatch.
fn check(ops: &[Op]) -> Result<(), String> {
    let ws = Workspace::new();
    let mut model = Model {
        dir: ws.logs(),
        files: Vec::new(),
        live: None,
        lines: Vec::new(),
        next: 0,
        rotations: 0,
    };
    let mut runs = Runs {
        config: config(&ws),
        skiff: None,
        done: Vec::new(),
    };
    runs.start();
    let mut kills = 0;
    for op in ops {
        match op {
            Op::Write(n) => model.write(*n),
            Op::Partial(n) => model.partial(*n),
            Op::Rename => model.rename(),
            Op::CopyTruncate => {
                // Only a copy of a file of which skiff saw `fingerprint_bytes` can be recognised.
                if !runs.sync(&model.lines) {
                    return Err("lines did not arrive before a copytruncate".into());
                }
                model.copytruncate();
            }
            Op::Delete => {
                if let Some(live) = model.live {
                    if !model.files[live].current.is_empty() {
                        model.write(1);
                    }
                    if !runs.sync(&model.lines) {
                        return Err("lines did not arrive before a delete".into());
                    }
                    std::fs::remove_file(model.live_path()).unwrap();
                    model.live = None;
                }
            }
            Op::Restart => {
                settle(&runs, &model)?;
                runs.terminate();
                model.stopped();
                runs.start();
            }
            Op::Kill => {
                runs.kill();
                kills += 1;
                runs.start();
            }
            Op::Pause(ms) => std::thread::sleep(Duration::from_millis(*ms)),
        }
    }
    settle(&runs, &model)?;
    runs.terminate();
    model.stopped();
    compare_lines(&runs.done, &model.lines, kills).map_err(|e| format!("{kills} kills: {e}"))
}

/// Before a SIGTERM: skiff has found every file (it drains what it knows) and read what it can.
fn settle(runs: &Runs, model: &Model) -> Result<(), String> {
    if !runs.sync(&model.lines) {
        return Err(format!(
            "lines did not arrive: {} expected so far",
            model.lines.len()
        ));
    }
    std::thread::sleep(Duration::from_millis(150));
    Ok(())
}

fn model_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(pick(8, 64))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: model_cases(),
        // Each case runs the binary for a second or two: shrink a little, not for minutes.
        max_shrink_iters: 32,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_file_source_follows_its_model(ops in prop::collection::vec(op(), 1..20)) {
        if let Err(e) = check(&ops) {
            prop_assert!(false, "{}\nops: {:?}", e, ops);
        }
    }
}

/// Sequences that once went wrong or are easy to get wrong, run every time.
#[test]
fn the_model_holds_for_known_sequences() {
    use Op::*;
    let sequences: Vec<Vec<Op>> = vec![
        // A partial line, completed after a restart: two lines (docs/guarantees.md).
        vec![Write(3), Partial(10), Restart, Write(2)],
        // A partial line across a kill: one line, complete.
        vec![Write(3), Partial(10), Kill, Write(2)],
        // copytruncate holding a partial line: the copy ends with it.
        vec![
            Write(10),
            Partial(5),
            CopyTruncate,
            Write(3),
            Restart,
            Write(1),
        ],
        // Renames, a kill between them, a delete.
        vec![
            Write(5),
            Rename,
            Write(5),
            Kill,
            Rename,
            Write(5),
            Delete,
            Write(2),
        ],
        // Copy, kill before skiff saw it, rename of the truncated file.
        vec![
            Write(8),
            CopyTruncate,
            Kill,
            Write(4),
            Rename,
            Partial(3),
            Restart,
        ],
    ];
    for ops in sequences {
        if let Err(e) = check(&ops) {
            panic!("{e}\nops: {ops:?}");
        }
    }
}
