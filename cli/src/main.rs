//! `kith`: instant, precise answers about a Clan fleet.

mod eval_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The evaluator allocates many small, short-lived objects; mimalloc is much faster at that
/// than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// kith: a Rust-native engine for Clan.
#[derive(Parser)]
#[command(name = "kith", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a Nix file or expression, printing what `nix-instantiate --eval` prints.
    Eval(eval_cmd::EvalArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Eval(args) => eval_cmd::run(args),
    }
}
