//! `kith select`: the command-line face of `kith_planner::select`, as `clan select`.

use clap::Args;
use kith_planner::select::select;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `kith select`, named as `clan select`'s.
#[derive(Args, Debug)]
pub struct SelectArgs {
    /// The selector (`a.b`, `*`, `{a,?b}`, `?c`, `"quoted.name"`).
    selector: String,
    /// The clan's flake directory (default: `$CLAN_DIR`, else the first ancestor of the
    /// current directory with `.clan-flake`, then `.git`, `.hg`, `.svn`, `flake.nix`).
    #[arg(long, value_name = "PATH")]
    flake: Option<PathBuf>,
    /// Use the directory PATH for the input NAME (`a/b` for nested inputs).
    #[arg(long, num_args = 2, value_names = ["NAME", "PATH"], action = clap::ArgAction::Append)]
    override_input: Vec<String>,
    /// Print to stderr where the answer came from and how each input was resolved.
    #[arg(long)]
    explain: bool,
    /// Do not use a cached answer (kith answers by evaluating for now).
    #[arg(long)]
    no_cache: bool,
    /// Do not fetch locked flake inputs missing from the store.
    #[arg(long)]
    offline: bool,
}

/// Runs `kith select`.
pub fn run(args: SelectArgs) -> ExitCode {
    let Some((flake, opts)) = crate::clan_flake::flake_and_options(
        args.flake.as_ref(),
        &args.override_input,
        args.offline,
    ) else {
        let msg = "error: no clan flake found: pass --flake PATH or set CLAN_DIR\n";
        crate::write_output(b"", msg.as_bytes());
        return ExitCode::FAILURE;
    };
    let result = select(&flake, &args.selector, &opts, args.no_cache);
    let mut stderr = String::new();
    let inputs = match &result {
        Ok(answer) => &answer.inputs,
        Err(e) => &e.inputs,
    };
    if args.explain {
        match &result {
            Ok(answer) => stderr.push_str(&format!("kith: {}\n", answer.how)),
            Err(e) => stderr.push_str(&format!("kith: {}\n", e.how)),
        }
        for line in inputs {
            stderr.push_str(&format!("kith: input {line}\n"));
        }
    }
    match result {
        Ok(answer) => {
            let mut text = answer.text;
            text.push('\n');
            if crate::write_output(text.as_bytes(), stderr.as_bytes()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            stderr.push_str(&format!("{e}\n"));
            crate::write_output(b"", stderr.as_bytes());
            ExitCode::FAILURE
        }
    }
}
