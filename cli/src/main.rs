//! `kith`: instant, precise answers about a Clan fleet.

mod alloc;
mod build_cmd;
mod clan_flake;
mod completions_cmd;
mod eval_cmd;
mod fleet;
mod inventory_cmd;
mod lint_cmd;
mod lsp_cmd;
mod select_cmd;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// The evaluator allocates many small, short-lived objects: a pool of small blocks in front
/// of mimalloc (see `alloc.rs`).
#[global_allocator]
static GLOBAL: alloc::KithAlloc = alloc::KithAlloc;

/// Turns transparent huge pages off for this process. With THP, mimalloc's heap is faulted
/// in 2 MiB at a time and the kernel zeroes several times the memory kith uses (measured on
/// `benches/cases/modules-submodules-1k.nix`: 0.1–0.4 s of system time against 0.1 s with
/// 4 KiB pages, for the same user time and peak memory; history of docs/benchmarks.md).
/// It runs as an ELF constructor, before the Rust runtime's first allocation: from `main`,
/// that allocation had already faulted in (and zeroed) one huge page, a tenth of a warm
/// command's time.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static DISABLE_TRANSPARENT_HUGE_PAGES: extern "C" fn() = {
    extern "C" fn disable() {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes only this process's
        // flag; it allocates nothing.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
    disable
};

/// kith: a Rust-native engine for Clan.
#[derive(Parser)]
#[command(name = "kith", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a Nix file or expression, printing what `nix-instantiate --eval` prints.
    Eval(eval_cmd::EvalArgs),
    /// Compute a derivation with kith and have Nix realise it, as `nix build`.
    Build(build_cmd::BuildArgs),
    /// Select values from a clan's flake, printing what `clan select` prints.
    #[command(alias = "se")]
    Select(select_cmd::SelectArgs),
    /// Edit the clan's `inventory.json` as clan's write rules allow, checked by the native
    /// engine before anything is written.
    Inventory(inventory_cmd::InventoryArgs),
    /// Every inventory mistake of the clan at its definition site (human, JSON Lines,
    /// SARIF or GitHub annotations).
    Lint(lint_cmd::LintArgs),
    /// The CI check of a clan: everything clan checks when it evaluates it and the lint
    /// rules, errors only, with a summary (exit 1 on any error).
    Check(lint_cmd::CheckArgs),
    /// A language server (stdio) for the clan's files: lint diagnostics, their fixes,
    /// completion and hover of machines, tags, roles, instances and settings options.
    Lsp,
    /// List and inspect the clan's machines, as `clan machines`.
    #[command(subcommand)]
    Machines(fleet::machines_cmd::MachinesCommand),
    /// The clan's networks and how to reach a machine, as `clan network`.
    #[command(subcommand)]
    Network(fleet::network_cmd::NetworkCommand),
    /// A machine's vars: public values, secrets listed but never read, as `clan vars`.
    #[command(subcommand)]
    Vars(fleet::vars_cmd::VarsCommand),
    /// The clan's name, description and domain, as `clan show`.
    Show(fleet::show_cmd::ShowArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions_cmd::CompletionsArgs),
    /// Print kith's man page (roff; `kith man | man -l -`).
    Man,
}

/// Writes a command's output: `stdout` to standard output, then `stderr` to standard error.
/// A failed write to stdout (a full disk, `>/dev/full`) is an error, as in `nix eval`
/// (`error: writing to file: No space left on device`, exit 1); failed writes to stderr
/// are ignored, so a full or closed stderr never turns a result into a failure.
pub(crate) fn write_output(stdout: &[u8], stderr: &[u8]) -> bool {
    use std::io::Write;
    let written = {
        let mut out = std::io::stdout().lock();
        out.write_all(stdout).and_then(|()| out.flush())
    };
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(stderr);
    match written {
        Ok(()) => true,
        Err(e) => {
            let reason = kith_eval::kith_store::fs::io_reason(&e);
            let _ = writeln!(err, "error: writing to file: {reason}");
            false
        }
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let code = match cli.command {
        Command::Eval(args) => eval_cmd::run(args),
        Command::Build(args) => build_cmd::run(args),
        Command::Select(args) => select_cmd::run(args),
        Command::Inventory(args) => {
            let sub = matches.subcommand_matches("inventory").unwrap_or(&matches);
            inventory_cmd::run(args, sub)
        }
        Command::Lint(args) => lint_cmd::run(args),
        Command::Check(args) => lint_cmd::check(args),
        Command::Lsp => lsp_cmd::run(),
        Command::Machines(cmd) => fleet::machines_cmd::run(cmd),
        Command::Network(cmd) => fleet::network_cmd::run(cmd),
        Command::Vars(cmd) => fleet::vars_cmd::run(cmd),
        Command::Show(args) => fleet::show_cmd::run(args),
        Command::Completions(args) => completions_cmd::completions(args),
        Command::Man => completions_cmd::man(),
    };
    if std::env::var_os("KITH_SHOW_STATS").is_some() {
        match kith_eval::stats::report() {
            Some(json) => kith_eval::eprint_line(&json),
            None => kith_eval::eprint_line(
                "kith: KITH_SHOW_STATS needs a build with `--features stats`",
            ),
        }
    }
    code
}
