//! `kith lint`: the command-line face of `kith_planner::lint`.

use clap::{Args, ValueEnum};
use kith_planner::lint::{self, render, Severity};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of `kith lint`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// miette's graphical report (colours only on a terminal, never with `NO_COLOR`).
    Human,
    /// JSON Lines: one diagnostic per line.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// GitHub workflow annotations.
    Github,
}

/// Arguments of `kith lint`.
#[derive(Args, Debug)]
pub struct LintArgs {
    /// The clan's flake directory (default: `$CLAN_DIR`, else the first ancestor of the
    /// current directory with `.clan-flake`, then `.git`, `.hg`, `.svn`, `flake.nix`).
    #[arg(long, value_name = "PATH")]
    flake: Option<PathBuf>,
    /// Use the directory PATH for the input NAME (`a/b` for nested inputs).
    #[arg(long, num_args = 2, value_names = ["NAME", "PATH"], action = clap::ArgAction::Append)]
    override_input: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Exit 1 on warnings too (by default only errors do).
    #[arg(long)]
    deny_warnings: bool,
    /// Do not fetch locked flake inputs missing from the store.
    #[arg(long)]
    offline: bool,
    /// Apply the diagnostics' fixes to the clan's files (every fix that overlaps no other,
    /// pass after pass until none is left), then report what remains.
    #[arg(long)]
    fix: bool,
    /// With `--fix`: print the changes as a unified diff and write nothing (exit 1 if
    /// there is anything to fix).
    #[arg(long, requires = "fix")]
    dry_run: bool,
    /// Neither read nor write the cache of diagnostics.
    #[arg(long)]
    no_cache: bool,
}

/// Runs `kith lint`: exit 0 if clean (or only warnings, notes and hints), 1 if any error
/// (or any warning with `--deny-warnings`), 2 if the clan could not be linted.
pub fn run(args: LintArgs) -> ExitCode {
    let Some((flake, opts)) = crate::clan_flake::flake_and_options(
        args.flake.as_ref(),
        &args.override_input,
        args.offline,
    ) else {
        let msg = "error: no clan flake found: pass --flake PATH or set CLAN_DIR\n";
        crate::write_output(b"", msg.as_bytes());
        return ExitCode::from(2);
    };
    let linted = if args.fix {
        lint::Config::load(&flake)
            .and_then(|config| lint::fix::fix(&flake, &opts, &config, args.dry_run))
            .map(|outcome| {
                let files = outcome.changes.len();
                let verb = if args.dry_run { "would fix" } else { "fixed" };
                let summary = format!("{verb} {} problem(s) in {files} file(s)\n", outcome.applied);
                (outcome.report, Some((outcome.changes, summary)))
            })
    } else {
        let cache = if args.no_cache {
            None
        } else {
            kith_planner::cache::dir()
        };
        lint::Config::load(&flake)
            .and_then(|config| lint::lint_with(&flake, &opts, &config, cache.as_deref()))
            .map(|r| (r, None))
    };
    let (report, fixed) = match linted {
        Ok(r) => r,
        Err(e) => {
            crate::write_output(b"", format!("error: {e}\n").as_bytes());
            return ExitCode::from(2);
        }
    };
    if let (true, Some((changes, summary))) = (args.dry_run, &fixed) {
        let diff: String = changes.iter().map(|c| c.diff()).collect();
        if !crate::write_output(diff.as_bytes(), summary.as_bytes()) {
            return ExitCode::from(2);
        }
        return if changes.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    if let Some((_, summary)) = &fixed {
        crate::write_output(b"", summary.as_bytes());
    }
    let text = match args.format {
        Format::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            render::human(&report, color)
        }
        Format::Json => render::json_lines(&report),
        Format::Sarif => render::sarif(&report),
        Format::Github => render::github(&report),
    };
    if !crate::write_output(text.as_bytes(), b"") {
        return ExitCode::from(2);
    }
    let failing = match report.worst() {
        Some(Severity::Error) => true,
        Some(Severity::Warning) => args.deny_warnings,
        _ => false,
    };
    if failing {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
