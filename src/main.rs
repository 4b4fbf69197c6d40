//! The skiff binary: parses the command line and hands over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use skiff::config::DEFAULT_CONFIG_PATH;

/// What `run`'s and the top level's help say about the environment.
macro_rules! environment_help {
    () => {
        "Environment:
  SKIFF_LOG     level of skiff's own logs (stderr), overriding [log] level: off, error,
                warn (or warning), info (default), debug, trace, or directives such as
                skiff=debug,warn. An unknown level is refused (exit 1).
  SKIFF_CONFIG  the config file, when --config is not given."
    };
}

const TOP_HELP: &str = concat!(
    "Exit codes:
  run       0 clean end, 1 error, 2 drain not finished within shutdown_timeout,
            130 second signal
  validate  0 valid (warnings may be printed), 1 invalid
  migrate   0 all converted, 1 unreadable input, 2 something left out
  import-offsets  0 every offset imported or safely dropped, 1 nothing written,
            2 written, but some files start elsewhere than the old agent stopped

",
    environment_help!()
);

const RUN_HELP: &str = concat!(
    "Exit codes:
  0    clean end: drained after SIGTERM or SIGINT, the exit_on_file sentinel appeared, or
       --once read and delivered everything
  1    error: invalid config or SKIFF_LOG, the API cannot listen, data_dir is not usable,
       a component failed (e.g. stdout closed)
  2    the drain did not finish within shutdown_timeout; what was not delivered is read
       again at the next start
  130  a second signal cut the drain short

",
    environment_help!()
);

const VALIDATE_HELP: &str = "Checks the config file (every error in one run, with file, line and
column), SKIFF_LOG, data_dir (writable, or creatable) and the include patterns (warnings when
their directory is missing or nothing matches).

Exit codes:
  0  valid: a summary on stdout (warnings, if any, on stderr)
  1  invalid: every error on stderr

Environment:
  SKIFF_LOG     checked as `run` would: an unknown level is an error.
  SKIFF_CONFIG  the config file, when --config is not given.";

const MIGRATE_HELP: &str = "Exit codes:
  0  everything was converted
  1  the input cannot be read or converted
  2  some settings have no skiff equivalent and were left out (see the warnings)

Environment:
  SKIFF_LOG  not used by migrate: its notes and warnings go to stderr as plain text.";

const IMPORT_HELP: &str = "Run it once, after the old agent stopped and before skiff first starts
(an init container in Kubernetes). Each old offset is matched to a file the source follows now
(Fluent Bit: by inode; Vector: by its fingerprint) and written as a skiff checkpoint.

Exit codes:
  0  every offset was imported, or dropped without loss (the file is gone)
  1  nothing was written (unreadable input, unknown source, checkpoints already there)
  2  checkpoints were written, but some files will be read differently from where the old
     agent stopped (see the warnings)";

/// A log shipping and format-adapter sidecar.
#[derive(Parser)]
#[command(name = "skiff", version, about, after_help = TOP_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Follow the configured files and ship what they hold.
    #[command(after_help = RUN_HELP)]
    Run {
        /// Config file.
        #[arg(long, short, env = "SKIFF_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        /// Read every matched file to its end, deliver, checkpoint and exit.
        #[arg(long)]
        once: bool,
    },
    /// Check a config file and print a summary of its topology.
    #[command(after_help = VALIDATE_HELP)]
    Validate {
        /// Config file.
        #[arg(long, short, env = "SKIFF_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
    },
    /// Convert a Fluent Bit or Vector config into a skiff config.
    #[command(after_help = MIGRATE_HELP)]
    Migrate {
        /// The Fluent Bit (classic or YAML) or Vector (TOML, YAML, JSON) config file, or a
        /// Kubernetes manifest holding one in a ConfigMap and the workload that runs it.
        path: PathBuf,
        /// The tool the config is for: `fluent-bit` or `vector` (guessed when absent).
        #[arg(long)]
        from: Option<skiff::migrate::Tool>,
        /// Write the skiff config here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// For a Kubernetes manifest: also bring the rest of the pod to Pod Security
        /// "restricted" (pod and container securityContexts, emptyDir size limits).
        #[arg(long)]
        restricted: bool,
    },
    /// Start skiff where Fluent Bit or Vector stopped: import their read offsets.
    #[command(after_help = IMPORT_HELP)]
    ImportOffsets {
        /// Fluent Bit's tail database (the tail input's `DB` file).
        #[arg(
            long,
            value_name = "PATH",
            conflicts_with = "vector_checkpoints",
            required_unless_present = "vector_checkpoints"
        )]
        fluent_bit_db: Option<PathBuf>,
        /// Vector's `DATA_DIR/SOURCE/checkpoints.json`.
        #[arg(long, value_name = "PATH")]
        vector_checkpoints: Option<PathBuf>,
        /// Vector's `fingerprint.lines` for that source.
        #[arg(long, default_value_t = 1, value_name = "N")]
        vector_fingerprint_lines: usize,
        /// Vector's `fingerprint.ignored_header_bytes` for that source.
        #[arg(long, default_value_t = 0, value_name = "N")]
        vector_ignored_header_bytes: u64,
        /// skiff's config file.
        #[arg(long, short, env = "SKIFF_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        /// The file source to import into (needed when the config has several).
        #[arg(long)]
        source: Option<String>,
        /// Replace the source's existing checkpoints.
        #[arg(long, conflicts_with = "keep_existing")]
        force: bool,
        /// When the source already has checkpoints, keep them, import nothing and exit 0 (for
        /// an init container that runs at every start).
        #[arg(long)]
        keep_existing: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { config, once } => run(&config, once),
        Command::Validate { config } => validate(&config).map(|()| ExitCode::SUCCESS),
        Command::Migrate {
            path,
            from,
            output,
            restricted,
        } => {
            return migrate(&path, from, output.as_deref(), restricted);
        }
        Command::ImportOffsets {
            fluent_bit_db,
            vector_checkpoints,
            vector_fingerprint_lines,
            vector_ignored_header_bytes,
            config,
            source,
            force,
            keep_existing,
        } => {
            let old = match (fluent_bit_db, vector_checkpoints) {
                (Some(db), _) => OldOffsets::FluentBit(db),
                (None, Some(v)) => OldOffsets::Vector(
                    v,
                    skiff::cutover::vector::FingerprintSettings {
                        lines: vector_fingerprint_lines,
                        ignored_header_bytes: vector_ignored_header_bytes,
                    },
                ),
                // clap requires one of the two.
                (None, None) => return ExitCode::FAILURE,
            };
            let existing = if force {
                skiff::cutover::Existing::Replace
            } else if keep_existing {
                skiff::cutover::Existing::Keep
            } else {
                skiff::cutover::Existing::Refuse
            };
            return import_offsets(&old, &config, source.as_deref(), existing);
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("skiff: {e:#}");
        ExitCode::FAILURE
    })
}

/// `skiff run`. An error before logging is set up is returned (and printed plainly); from then
/// on the outcome is logged once, with the exit code, in the configured log format.
fn run(path: &std::path::Path, once: bool) -> anyhow::Result<ExitCode> {
    // Log settings come from the config, so a config error is printed plainly before logging.
    let loaded = skiff::reload::LoadedConfig::load(path)?;
    let config = &loaded.config;
    let filter = skiff::app::log_filter(config.log.level.as_deref())?;
    skiff::app::init_logging(&filter, config.log.format);
    // Warnings found while loading (components included) wait for the logger to be ready.
    for w in &config.warnings {
        tracing::warn!(message = "Config warning.", warning = %w);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("skiff-worker")
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(skiff::app::run(loaded, once));
    // A console writer may still be blocked on a pipe nobody reads (after a drain timeout):
    // do not wait for it. Checkpoints were written before `run` returned.
    runtime.shutdown_background();
    Ok(match result {
        Ok(()) => {
            tracing::info!(message = "skiff stopped.", exit_code = 0);
            ExitCode::SUCCESS
        }
        Err(e) => {
            let exit_code = e.exit_code();
            tracing::error!(message = "skiff stopped.", exit_code, error = %e);
            ExitCode::from(exit_code)
        }
    })
}

fn validate(path: &std::path::Path) -> anyhow::Result<()> {
    let report = skiff::app::validate(path)?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    println!("{}: ok: {}", path.display(), report.summary);
    Ok(())
}

/// Exit status of `migrate` when something was left out.
const MIGRATE_INCOMPLETE: u8 = 2;

fn migrate(
    path: &std::path::Path,
    from: Option<skiff::migrate::Tool>,
    output: Option<&std::path::Path>,
    restricted: bool,
) -> ExitCode {
    let print_notes = |notes: &[skiff::migrate::Note]| {
        for n in notes {
            let level = match n.severity {
                skiff::migrate::Severity::Note => "note",
                skiff::migrate::Severity::Warning => "warning",
            };
            if n.line == 0 {
                eprintln!("{level}: {}: {}", n.file.display(), n.message);
            } else {
                eprintln!("{level}: {}:{}: {}", n.file.display(), n.line, n.message);
            }
        }
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let is_yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let migration = if is_yaml && skiff::migrate::manifest::is_manifest(&text) {
        match skiff::migrate::manifest::migrate_manifest(path, &text, from, restricted) {
            Ok(m) => skiff::migrate::Migration {
                toml: m.yaml,
                notes: m.notes,
                ships_nowhere: false,
            },
            Err(e) => {
                eprintln!("skiff: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        match skiff::migrate::migrate_file(path, from) {
            Ok(m) => m,
            Err(e) => {
                if let skiff::migrate::MigrateError::NoSource { notes, .. } = &e {
                    print_notes(notes);
                }
                eprintln!("skiff: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    print_notes(&migration.notes);
    let written = match output {
        Some(out) => std::fs::write(out, &migration.toml)
            .with_context(|| format!("cannot write {}", out.display())),
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(migration.toml.as_bytes())
                .and_then(|()| stdout.flush())
                .context("cannot write to stdout")
        }
    };
    if let Err(e) = written {
        eprintln!("skiff: {e:#}");
        return ExitCode::FAILURE;
    }
    if migration.ships_nowhere {
        eprintln!(
            "skiff: {}: the converted config ships nowhere (every output was left out): add a sink before running it",
            path.display()
        );
        ExitCode::from(MIGRATE_INCOMPLETE)
    } else if migration.complete() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "skiff: {}: some settings have no skiff equivalent and were left out (see the warnings above)",
            path.display()
        );
        ExitCode::from(MIGRATE_INCOMPLETE)
    }
}

/// Where `import-offsets` reads the old agent's offsets.
enum OldOffsets {
    FluentBit(PathBuf),
    Vector(PathBuf, skiff::cutover::vector::FingerprintSettings),
}

/// Exit status of `import-offsets` when some files start elsewhere than the old agent stopped.
const IMPORT_DIFFERS: u8 = 2;

fn import_offsets(
    old: &OldOffsets,
    config: &std::path::Path,
    source: Option<&str>,
    existing: skiff::cutover::Existing,
) -> ExitCode {
    use skiff::cutover::Outcome;
    let read = match old {
        OldOffsets::FluentBit(db) => skiff::cutover::fluentbit::read(db).map(|o| (o, Vec::new())),
        OldOffsets::Vector(path, settings) => skiff::cutover::vector::read(path, *settings),
    };
    let (offsets, unsupported) = match read {
        Ok(r) => r,
        Err(e) => {
            eprintln!("skiff: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = match skiff::cutover::import(config, source, &offsets, existing) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("skiff: {e}");
            return ExitCode::FAILURE;
        }
    };
    if report.kept_existing {
        println!(
            "{}: the source has checkpoints already; kept them, imported nothing",
            report.checkpoint_file.display()
        );
        return ExitCode::SUCCESS;
    }
    let mut imported = 0;
    for (label, outcome) in &report.outcomes {
        match outcome {
            Outcome::Imported { path, offset } => {
                imported += 1;
                eprintln!("imported: {label}: {} from byte {offset}", path.display());
            }
            Outcome::Dropped { reason } => eprintln!("note: {label}: not imported: {reason}"),
            Outcome::Differs { reason } => eprintln!("warning: {label}: {reason}"),
        }
    }
    for u in &unsupported {
        eprintln!("warning: {u}");
    }
    println!(
        "{}: {imported} of {} offsets imported",
        report.checkpoint_file.display(),
        offsets.len() + unsupported.len()
    );
    if report.faithful() && unsupported.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(IMPORT_DIFFERS)
    }
}
