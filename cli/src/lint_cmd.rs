//! `kith lint` and `kith check`: the command-line faces of `kith_planner::lint` and
//! `kith_planner::check`.

use clap::{Args, ValueEnum};
use kith_planner::lint::{self, render, Report, Run, Severity};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of `kith lint` and `kith check`.
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

/// The flags `kith lint` and `kith check` share.
#[derive(Args, Debug)]
pub struct CommonArgs {
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
    /// Do not fetch locked flake inputs missing from the store.
    #[arg(long)]
    offline: bool,
    /// Neither read nor write the cache of diagnostics.
    #[arg(long)]
    no_cache: bool,
    /// Threads to use (default: one per core; the exports are evaluated on a second
    /// thread alongside the other checks, so more than two gain nothing).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
}

/// Arguments of `kith lint`.
#[derive(Args, Debug)]
pub struct LintArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Exit 1 on warnings too (by default only errors do).
    #[arg(long)]
    deny_warnings: bool,
    /// Apply the diagnostics' fixes to the clan's files (every fix that overlaps no other,
    /// pass after pass until none is left), then report what remains.
    #[arg(long)]
    fix: bool,
    /// With `--fix`: print the changes as a unified diff and write nothing (exit 1 if
    /// there is anything to fix).
    #[arg(long, requires = "fix")]
    dry_run: bool,
}

/// Arguments of `kith check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    common: CommonArgs,
}

/// The clan's flake, its options and its lint configuration, or the exit code of why not.
fn clan(args: &CommonArgs) -> Result<(PathBuf, kith_flake::FlakeOptions, lint::Config), ExitCode> {
    let Some((flake, opts)) = crate::clan_flake::flake_and_options(
        args.flake.as_ref(),
        &args.override_input,
        args.offline,
    ) else {
        let msg = "error: no clan flake found: pass --flake PATH or set CLAN_DIR\n";
        crate::write_output(b"", msg.as_bytes());
        return Err(ExitCode::from(2));
    };
    match lint::Config::load(&flake) {
        Ok(config) => Ok((flake, opts, config)),
        Err(e) => Err(cannot(&e)),
    }
}

/// Exit 2: the clan could not be linted.
fn cannot(e: &lint::LintError) -> ExitCode {
    crate::write_output(b"", format!("error: {e}\n").as_bytes());
    ExitCode::from(2)
}

fn cache_dir(args: &CommonArgs) -> Option<PathBuf> {
    if args.no_cache {
        None
    } else {
        kith_planner::cache::dir()
    }
}

/// `report` in `format` (human text with its count line if `counts`).
fn render(report: &Report, format: Format, counts: bool) -> String {
    match format {
        Format::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            if counts {
                render::human(report, color)
            } else {
                render::human_diagnostics(report, color)
            }
        }
        Format::Json => render::json_lines(report),
        Format::Sarif => render::sarif(report),
        Format::Github => render::github(report),
    }
}

/// Runs `kith lint`: exit 0 if clean (or only warnings, notes and hints), 1 if any error
/// (or any warning with `--deny-warnings`), 2 if the clan could not be linted.
pub fn run(args: LintArgs) -> ExitCode {
    let (flake, opts, config) = match clan(&args.common) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let linted = if args.fix {
        lint::fix::fix(&flake, &opts, &config, args.dry_run).map(|outcome| {
            let files = outcome.changes.len();
            let verb = if args.dry_run { "would fix" } else { "fixed" };
            let summary = format!("{verb} {} problem(s) in {files} file(s)\n", outcome.applied);
            (outcome.report, Some((outcome.changes, summary)))
        })
    } else {
        let cache = cache_dir(&args.common);
        let run = Run {
            cache_dir: cache.as_deref(),
            jobs: args.common.jobs.unwrap_or(0),
            progress: None,
            ..Run::default()
        };
        lint::lint_run(&flake, &opts, &config, &run).map(|l| (l.report, None))
    };
    let (report, fixed) = match linted {
        Ok(r) => r,
        Err(e) => return cannot(&e),
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
    if !crate::write_output(render(&report, args.common.format, true).as_bytes(), b"") {
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

/// Runs `kith check`: the errors in the chosen format on stdout, a progress bar (on a
/// terminal) and the summary on stderr; exit 0 if there is no error, 1 if there is any, 2
/// if the clan could not be checked.
pub fn check(args: CheckArgs) -> ExitCode {
    let (flake, opts, config) = match clan(&args.common) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let cache = cache_dir(&args.common);
    let bar = progress_bar();
    let tell = |p: lint::Progress| {
        if let Some(bar) = &bar {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
            bar.set_message(p.phase);
        }
    };
    let run = Run {
        cache_dir: cache.as_deref(),
        jobs: args.common.jobs.unwrap_or(0),
        progress: Some(&tell),
        ..Run::default()
    };
    let checked = kith_planner::check::check(&flake, &opts, &config, &run);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let checked = match checked {
        Ok(c) => c,
        Err(e) => return cannot(&e),
    };
    // No count line in human text: the summary says it.
    let text = render(&checked.report, args.common.format, false);
    let summary = format!("{}\n", checked.summary());
    if !crate::write_output(text.as_bytes(), summary.as_bytes()) {
        return ExitCode::from(2);
    }
    if checked.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A progress bar on stderr when it is a terminal (drawn only once the check has run for
/// half a second).
fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let shown = bar.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        if !shown.is_finished() {
            shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            shown.enable_steady_tick(std::time::Duration::from_millis(100));
        }
    });
    Some(bar)
}
