//! The skiff binary: parses the command line and hands over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use skiff::config::DEFAULT_CONFIG_PATH;

/// A log shipping and format-adapter sidecar.
#[derive(Parser)]
#[command(name = "skiff", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Follow the configured files and ship what they hold.
    Run {
        /// Config file.
        #[arg(long, short, env = "SKIFF_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        /// Read every matched file to its end, deliver, checkpoint and exit.
        #[arg(long)]
        once: bool,
    },
    /// Check a config file and print a summary of its topology.
    Validate {
        /// Config file.
        #[arg(long, short, env = "SKIFF_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
    },
    /// Convert a Fluent Bit or Vector config into a skiff config. Exit status: 0 when everything
    /// was converted, 2 when something was left out (see the warnings), 1 on an unreadable input.
    Migrate {
        /// The Fluent Bit (classic or YAML) or Vector (TOML, YAML, JSON) config file.
        path: PathBuf,
        /// The tool the config is for: `fluent-bit` or `vector` (guessed when absent).
        #[arg(long)]
        from: Option<skiff::migrate::Tool>,
        /// Write the skiff config here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { config, once } => run(&config, once),
        Command::Validate { config } => validate(&config),
        Command::Migrate { path, from, output } => {
            return migrate(&path, from, output.as_deref());
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("skiff: {e:#}");
            let code = e
                .downcast_ref::<skiff::app::RunError>()
                .map_or(1, skiff::app::RunError::exit_code);
            ExitCode::from(code)
        }
    }
}

fn run(path: &std::path::Path, once: bool) -> anyhow::Result<()> {
    // Log settings come from the config, so a config error is printed plainly before logging.
    let loaded = skiff::reload::LoadedConfig::load(path)?;
    let config = &loaded.config;
    skiff::app::init_logging(config.log.level.as_deref(), config.log.format);
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
    Ok(result?)
}

fn validate(path: &std::path::Path) -> anyhow::Result<()> {
    let config = skiff::components::load(path)?;
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    println!("{}: ok: {}", path.display(), config.summary());
    Ok(())
}

/// Exit status of `migrate` when something was left out.
const MIGRATE_INCOMPLETE: u8 = 2;

fn migrate(
    path: &std::path::Path,
    from: Option<skiff::migrate::Tool>,
    output: Option<&std::path::Path>,
) -> ExitCode {
    let print_notes = |notes: &[skiff::migrate::Note]| {
        for n in notes {
            let level = match n.severity {
                skiff::migrate::Severity::Note => "note",
                skiff::migrate::Severity::Warning => "warning",
            };
            eprintln!("{level}: {}:{}: {}", n.file.display(), n.line, n.message);
        }
    };
    let migration = match skiff::migrate::migrate_file(path, from) {
        Ok(m) => m,
        Err(e) => {
            if let skiff::migrate::MigrateError::NoSource { notes, .. } = &e {
                print_notes(notes);
            }
            eprintln!("skiff: {e}");
            return ExitCode::FAILURE;
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
    if migration.complete() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "skiff: {}: some settings have no skiff equivalent and were left out (see the warnings above)",
            path.display()
        );
        ExitCode::from(MIGRATE_INCOMPLETE)
    }
}
