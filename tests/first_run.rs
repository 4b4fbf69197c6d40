//! A new user's first runs, through the binary: each mistake in a config or in the environment
//! (log level, keys, types, variables, regexes, time formats, paths, data_dir) gives the exact
//! message expected, once, and nothing fails silently. Running skiff: `first_run_ops.rs`.

mod support;

use std::process::Command;

use support::skiff::{bin, occurrences, skiff, validate_body};
use support::workspace::Workspace;

const LEVELS_HINT: &str = "use one of off, error, warn (or warning), info, debug, trace, or \
    directives such as `skiff=debug,warn` (a module at every level is `MODULE=trace`)";

#[test]
fn an_unknown_log_level_in_the_environment_is_refused() {
    let env = Workspace::new();
    let path = env.console_config_with("");
    let expected = format!("skiff: SKIFF_LOG: unknown log level `verbose`: {LEVELS_HINT}\n");
    let run = skiff(
        &["run", "--once", "--config", &path],
        &[("SKIFF_LOG", "verbose")],
    );
    assert_eq!((run.code, run.stderr.as_str()), (1, expected.as_str()));
    let validate = skiff(
        &["validate", "--config", &path],
        &[("SKIFF_LOG", "verbose")],
    );
    assert_eq!(
        (validate.code, validate.stderr.as_str()),
        (1, expected.as_str())
    );
}

#[test]
fn an_unknown_log_level_in_the_config_is_refused() {
    let env = Workspace::new();
    let path = env.console_config_with("[log]\nlevel = \"verbose\"\n");
    let out = skiff(&["validate", "--config", &path], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!("skiff: {path}:11:1: log.level: unknown log level `verbose`: {LEVELS_HINT}\n")
    );
}

#[test]
fn fluent_bit_level_names_and_tracing_directives_are_accepted() {
    let env = Workspace::new();
    // A transform that feeds nothing: a warning, logged once logging is set up.
    let path =
        env.console_config_with("[transforms.unused]\ntype = \"parse_json\"\ninputs = [\"app\"]\n");
    for level in ["warning", "WARN", "skiff=warning", "skiff=debug,warn"] {
        let out = skiff(
            &["run", "--once", "--config", &path],
            &[("SKIFF_LOG", level)],
        );
        assert_eq!(out.code, 0, "{level}: {}", out.stderr);
        assert!(
            out.stderr.contains("WARN") && out.stderr.contains("[transforms.unused] feeds nothing"),
            "{level}: {}",
            out.stderr
        );
        let infos = out.stderr.lines().filter(|l| l.contains(" INFO ")).count();
        assert_eq!(
            infos > 0,
            level.contains("debug"),
            "{level}: {}",
            out.stderr
        );
    }
    let out = skiff(&["validate", "--config", &path], &[("SKIFF_LOG", "error")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(": ok: 1 source(s)"), "{}", out.stdout);
}

#[test]
fn a_misspelt_key_is_one_error_not_a_cascade() {
    // The case a new user met: the typo also made the sink's input unknown.
    let (code, stderr) = validate_body(
        "[sources.app]\ntype = \"file\"\nincluds = [\"/var/log/app/*.log\"]\n\
         [sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "skiff: skiff.toml:3:1: sources.app.includs: unknown field `includs`, expected one of \
         `include`, `exclude`, `read_from`, `glob_interval`, `rotate_wait`, `idle_timeout`, \
         `max_line_bytes`, `read_buffer`, `fingerprint_bytes`, `file_key`, `checkpoint_interval`\n"
    );
    // A component without `type` is still an input, and its own `inputs` still count.
    let (code, stderr) = validate_body(
        "[sources.app]\ntype = \"file\"\ninclude = [\"/var/log/app/*.log\"]\n\
         [transforms.parse]\ninputs = [\"app\"]\n\
         [sinks.out]\ntype = \"console\"\ninputs = [\"parse\"]\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "skiff: skiff.toml:4:13: transforms.parse: missing `type`: expected one of: parse, \
         parse_json, parse_regex, parse_logfmt, parse_cri, parse_docker, multiline, parse_timestamp, \
         add_fields, rename_fields, remove_fields, filter, kubernetes, log_to_metric\n"
    );
}

#[test]
fn validate_reports_every_error_in_one_run() {
    let (code, stderr) = validate_body(
        "data_dir = \"${SKIFF_TEST_UNSET_A}\"\n\
         [sources.app]\ntype = \"file\"\ninclude = [\"${SKIFF_TEST_UNSET_B}\"]\n\
         glob_interval = \"5 parsecs\"\nrotate_wait = \"forever\"\n\
         [sinks.out]\ntype = \"console\"\ninputs = [\"app\"]\n",
    );
    assert_eq!(code, 1);
    let hint = "expected a number and a unit such as `250ms`, `5s`, `1m` or `2h`";
    assert_eq!(
        stderr,
        format!(
            "skiff: skiff.toml:1:13: environment variable `SKIFF_TEST_UNSET_A` is not set (use \
             `${{SKIFF_TEST_UNSET_A:-default}}` for a default)\n\
             skiff.toml:4:13: environment variable `SKIFF_TEST_UNSET_B` is not set (use \
             `${{SKIFF_TEST_UNSET_B:-default}}` for a default)\n\
             skiff.toml:5:1: sources.app.glob_interval: invalid duration `5 parsecs`: {hint}\n\
             skiff.toml:6:1: sources.app.rotate_wait: invalid duration `forever`: {hint}\n"
        )
    );
}

#[test]
fn type_errors_speak_of_values_not_rust_types() {
    let (code, stderr) = validate_body(
        "[sources.app]\ntype = \"file\"\ninclude = \"/var/log/app/*.log\"\nread_buffer = true\n\
         [transforms.join]\ntype = \"multiline\"\ninputs = [\"app\"]\n\
         start_pattern = '^\\S'\nmax_lines = \"ten\"\n\
         [sinks.out]\ntype = \"console\"\ninputs = [\"join\"]\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "skiff: skiff.toml:3:1: sources.app.include: expected a list such as [\"a\", \"b\"], found \
         the string \"/var/log/app/*.log\"\n\
         skiff.toml:4:1: sources.app.read_buffer: expected a size such as \"64KiB\", \"5MiB\" or a \
         number of bytes, found true\n\
         skiff.toml:9:1: transforms.join.max_lines: expected a whole number (0 or more), found \
         the string \"ten\"\n"
    );
}

#[test]
fn the_quick_start_works_from_any_directory() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .current_dir(elsewhere.path())
        .args(["run", "--once", "--config"])
        .arg(repo.join("config/quickstart.toml"))
        .env("SKIFF_DATA_DIR", elsewhere.path().join("data"))
        .env_remove("SKIFF_LOG")
        .env_remove("POD_NAME")
        .env_remove("POD_NAMESPACE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sample = std::fs::read_to_string(repo.join("config/sample/app.log")).unwrap();
    assert_eq!(stdout.lines().count(), sample.lines().count(), "{stdout}");
    let file = repo.join("config/sample/app.log").display().to_string();
    assert!(stdout.contains(&format!("\"file\":\"{file}\"")), "{stdout}");
}

#[test]
fn a_bad_regex_shows_the_engine_reason_and_the_right_pattern() {
    let (code, stderr) = validate_body(
        "[sources.app]\ntype = \"file\"\ninclude = [\"/var/log/app/*.log\"]\n\
         [transforms.parse]\ntype = \"parse_regex\"\ninputs = [\"app\"]\n\
         patterns = ['^(?P<a>\\d+)$', '^(x']\n\
         [transforms.ahead]\ntype = \"parse_regex\"\ninputs = [\"parse\"]\n\
         pattern = '^(?=x)(?P<b>.*)'\n\
         [sinks.out]\ntype = \"console\"\ninputs = [\"ahead\"]\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "skiff: skiff.toml:7:29: transforms.parse.patterns.1: invalid regex: regex parse error:\n    \
         ^(x\n     ^\nerror: unclosed group\n\
         skiff.toml:11:1: transforms.ahead.pattern: invalid regex: regex parse error:\n    \
         ^(?=x)(?P<b>.*)\n     ^^^\nerror: look-around, including look-ahead and look-behind, is \
         not supported\n"
    );
}

#[test]
fn a_timestamp_that_does_not_parse_is_named_with_its_value_and_format() {
    let env = Workspace::new();
    std::fs::write(
        env.logs().join("app.log"),
        "{\"time\":\"2026-11-26 04:00:00.123\",\"msg\":\"x\"}\n",
    )
    .unwrap();
    let path = env.console_config_with("");
    // The sink reads the parser's output.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("inputs = [\"app\"]", "inputs = [\"parse\"]")
        + "[transforms.parse]\ntype = \"parse_json\"\ninputs = [\"app\"]\n\
         timestamp = { field = \"time\", format = \"%Y-%m-%dT%H:%M:%S%.3f\" }\n";
    std::fs::write(&path, text).unwrap();
    let out = skiff(
        &["run", "--once", "--config", &path],
        &[("SKIFF_LOG", "warn")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "Kept an event whose timestamp did not parse. component=parse reason=timestamp field \
             `time` = \"2026-11-26 04:00:00.123\" does not match the format \
             `%Y-%m-%dT%H:%M:%S%.3f`"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn percent_l_is_refused_with_a_hint() {
    let (code, stderr) = validate_body(
        "[sources.app]\ntype = \"file\"\ninclude = [\"/var/log/app/*.log\"]\n\
         [transforms.parse]\ntype = \"parse_json\"\ninputs = [\"app\"]\n\
         timestamp = { format = \"%Y-%m-%d %H:%M:%S.%L\" }\n\
         [sinks.out]\ntype = \"console\"\ninputs = [\"parse\"]\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "skiff: skiff.toml:7:15: transforms.parse.timestamp.format: `%L` (at character 19) is \
         not a chrono format directive: it is Fluent Bit's fraction of a second; write `%.f` (or \
         `%.3f`), or set dialect = \"fluentbit\" to read Fluent Bit's formats\n"
    );
}

#[test]
fn a_missing_downward_api_file_is_a_warning_printed_after_logging_is_set_up() {
    let env = Workspace::new();
    std::fs::write(env.logs().join("app.log"), "hello\n").unwrap();
    let path = env.console_config_with("");
    let missing = env.path("podinfo/labels").display().to_string();
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("inputs = [\"app\"]", "inputs = [\"pod\"]")
        + &format!(
            "[transforms.pod]\ntype = \"kubernetes\"\ninputs = [\"app\"]\nlabels_file = \"{missing}\"\n"
        );
    std::fs::write(&path, text).unwrap();
    let warning = format!(
        "transforms.pod.labels_file: the Downward API file {missing} does not exist: the pod's \
         labels are not added (in a pod, mount a downwardAPI volume with metadata.labels there)"
    );
    let run = skiff(
        &["run", "--once", "--config", &path],
        &[("SKIFF_LOG", "warn")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(occurrences(&run.stderr, &warning), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("WARN skiff: Config warning. warning={warning}")),
        "{}",
        run.stderr
    );
    let validate = skiff(&["validate", "--config", &path], &[]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert!(
        validate.stderr.contains(&format!("warning: {warning}\n")),
        "{}",
        validate.stderr
    );
}

#[test]
fn a_pattern_whose_directory_is_missing_is_warned_about_at_validate_and_at_start() {
    let env = Workspace::new();
    let path = env.console_config_with("");
    let missing = env.path("nope").display().to_string();
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("/logs/*.log", "/nope/*.log");
    std::fs::write(&path, text).unwrap();
    let validate = skiff(&["validate", "--config", &path], &[]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert_eq!(
        validate.stderr,
        format!(
            "warning: sources.app.include.0: the directory {missing} does not exist: the pattern \
             `{missing}/*.log` matches nothing until it is created\n"
        )
    );
    let run = skiff(
        &["run", "--once", "--config", &path],
        &[("SKIFF_LOG", "warn")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let warning = format!(
        "WARN skiff::sources::file::unmatched: The directory an include pattern starts from does \
         not exist; nothing is read from it until it is created. source=app \
         pattern={missing}/*.log directory={missing}"
    );
    assert_eq!(occurrences(&run.stderr, &warning), 1, "{}", run.stderr);
    // A directory that exists but holds no match yet: validate says so; run waits a minute.
    let empty = skiff(&["validate", "--config", &env.console_config_with("")], &[]);
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    let logs = env.logs().display().to_string();
    assert_eq!(
        empty.stderr,
        format!(
            "warning: sources.app.include.0: the pattern `{logs}/*.log` matches no file in \
             {logs} now (files that appear later are followed)\n"
        )
    );
}

#[test]
fn a_data_dir_that_cannot_be_used_is_refused_at_validate_and_at_start() {
    let env = Workspace::new();
    let path = env.console_config_with("");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        &format!("data_dir = \"{}\"", env.path("data").display()),
        "data_dir = \"/proc/skiff-data\"",
    );
    std::fs::write(&path, text).unwrap();
    std::fs::write(env.logs().join("app.log"), "hello\n").unwrap();
    let reason = "data_dir /proc/skiff-data: cannot be created: No such file or directory (os \
                  error 2): skiff keeps its checkpoints there; set data_dir to a writable \
                  directory (in a pod, mount a volume there)";
    let validate = skiff(&["validate", "--config", &path], &[]);
    assert_eq!(
        (validate.code, validate.stderr.as_str()),
        (1, format!("skiff: {reason}\n").as_str())
    );
    let run = skiff(&["run", "--once", "--config", &path], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!(
            "ERROR skiff: skiff stopped. exit_code=1 error={reason}"
        )),
        "{}",
        run.stderr
    );
    // A file where the directory should be.
    let file = env.path("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("/proc/skiff-data", &file.display().to_string());
    std::fs::write(&path, text).unwrap();
    let validate = skiff(&["validate", "--config", &path], &[]);
    assert_eq!(validate.code, 1, "{}", validate.stderr);
    assert!(
        validate.stderr.starts_with(&format!(
            "skiff: data_dir {}: it exists and is not a directory",
            file.display()
        )),
        "{}",
        validate.stderr
    );
}
