//! The admin's query commands (`kith machines|network|vars|show`): flags they share,
//! loading the clan's views with a progress indicator, colours. Every answer comes from
//! `kith_planner::fleet`; these modules parse arguments and print.

pub mod machines_cmd;
pub mod network_cmd;
pub mod show_cmd;
pub mod vars_cmd;

use clap::Args;
use kith_planner::fleet::{self, FleetError};
use kith_planner::native::View;
use serde_json::Value;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Flags every query command takes, as `kith select`'s.
#[derive(Args, Debug, Clone)]
pub struct FleetArgs {
    /// The clan's flake directory (default: `$CLAN_DIR`, else the first ancestor of the
    /// current directory with `.clan-flake`, then `.git`, `.hg`, `.svn`, `flake.nix`).
    #[arg(long, value_name = "PATH")]
    pub flake: Option<PathBuf>,
    /// Use the directory PATH for the input NAME (`a/b` for nested inputs).
    #[arg(long, num_args = 2, value_names = ["NAME", "PATH"], action = clap::ArgAction::Append)]
    pub override_input: Vec<String>,
    /// Do not use the cached plan (compute the views again).
    #[arg(long)]
    pub no_cache: bool,
    /// Do not fetch locked flake inputs missing from the store.
    #[arg(long)]
    pub offline: bool,
}

/// A loaded clan: its directory and what loads its views.
pub struct Clan {
    /// The flake's canonical directory.
    pub dir: PathBuf,
    opts: kith_flake::FlakeOptions,
    no_cache: bool,
}

impl FleetArgs {
    /// The clan the flags name (clan's flake discovery), or the error text.
    pub fn clan(&self) -> Result<Clan, FleetError> {
        let Some((flake, opts)) = crate::clan_flake::flake_and_options(
            self.flake.as_ref(),
            &self.override_input,
            self.offline,
        ) else {
            return Err(FleetError(
                "No clan flake found in the current directory or its parents".into(),
            ));
        };
        let dir = fleet::flake_dir(&flake)?;
        Ok(Clan {
            dir,
            opts,
            no_cache: self.no_cache,
        })
    }
}

impl Clan {
    /// A view of the clan, with a spinner on stderr while it takes longer than 0.5 s.
    pub fn view(&self, which: View) -> Result<Value, FleetError> {
        self.view_with(which, None)
    }

    /// [`Clan::view`] through a named projection (`fleet::load_view_with`).
    pub fn view_with(
        &self,
        which: View,
        projection: Option<fleet::Projection>,
    ) -> Result<Value, FleetError> {
        let what = match which {
            View::Inventory => "inventory",
            View::Exports => "exports",
            View::CliChecks => "checks",
        };
        with_progress(&format!("evaluating the clan's {what}"), || {
            fleet::load_view_with(&self.dir, &self.opts, which, self.no_cache, projection)
        })
    }
}

/// Runs `work`, showing a spinner with `message` on stderr (a terminal only) once it has
/// taken half a second.
pub fn with_progress<T>(message: &str, work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        // The spinner draws only on a terminal: no thread to start for it.
        return work();
    }
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let message = message.to_string();
    let spinner = std::thread::spawn(move || {
        if done_rx.recv_timeout(Duration::from_millis(500)).is_ok() {
            return;
        }
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(100));
        let _ = done_rx.recv();
        bar.finish_and_clear();
    });
    let out = work();
    let _ = done_tx.send(());
    let _ = spinner.join();
    out
}

/// Whether to colour standard output: a terminal, and `NO_COLOR` unset or empty.
pub fn colours() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `text` in bold when `on`.
pub fn bold(text: &str, on: bool) -> String {
    if on {
        format!("\x1b[1m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `text` in the ANSI colour `code` (`32` green, `31` red, `33` yellow) when `on`.
pub fn colour(text: &str, code: u8, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Prints `stdout` and exits 0 (1 when stdout cannot be written).
pub fn print(stdout: &str) -> ExitCode {
    if crate::write_output(stdout.as_bytes(), b"") {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints JSON as `clan select` does (4-space indentation) and exits 0.
pub fn print_json(v: &Value) -> ExitCode {
    print(&format!("{}\n", kith_planner::select::dumps(v)))
}

/// Prints an error on stderr and exits 1.
pub fn fail(e: &FleetError) -> ExitCode {
    crate::write_output(b"", format!("{e}\n").as_bytes());
    ExitCode::FAILURE
}
