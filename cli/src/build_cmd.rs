//! `kith build`: the command-line face of [`kith_flake::build`], which computes a
//! derivation with kith and has C++ Nix realise it; the resulting paths are printed one
//! per line, as `nix build --print-out-paths` does.

use clap::Args;
use kith_flake::{BuildRequest, BuildTarget};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `kith build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The file to build from (a directory means its `default.nix`).
    #[arg(conflicts_with = "flake")]
    file: Option<PathBuf>,
    /// With FILE: the attribute path of the derivation.
    #[arg(
        short = 'A',
        long = "attr",
        value_name = "ATTRPATH",
        conflicts_with = "flake"
    )]
    attr: Option<String>,
    /// Build a flake output, as `nix build DIR#ATTR`.
    #[arg(long, value_name = "DIR#ATTR")]
    flake: Option<String>,
    /// With `--flake`: use the directory PATH for the input NAME (`a/b` for nested inputs).
    #[arg(long, num_args = 2, value_names = ["NAME", "PATH"], action = clap::ArgAction::Append, requires = "flake")]
    override_input: Vec<String>,
    /// The Nix store to realise in (passed to Nix as `--store`), e.g. a directory.
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// A Nix setting for the realisation (passed to Nix as `--option NAME VALUE`).
    #[arg(long, num_args = 2, value_names = ["NAME", "VALUE"], action = clap::ArgAction::Append)]
    option: Vec<String>,
    /// Allow impure evaluation of the flake (`getEnv`, reading any path, …).
    #[arg(long)]
    impure: bool,
    /// Only print the derivation path kith computes; do not call Nix.
    #[arg(long)]
    drv_path: bool,
    /// Do not fetch locked flake inputs missing from the store (kith otherwise asks
    /// `nix flake prefetch` for them); passed on to `nix build` as `--offline`.
    #[arg(long)]
    offline: bool,
}

/// Runs `kith build`.
pub fn run(args: BuildArgs) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let target = match &args.flake {
        Some(installable) => BuildTarget::Flake {
            installable: installable.clone(),
            overrides: args
                .override_input
                .chunks(2)
                .map(|p| (p[0].clone(), PathBuf::from(&p[1])))
                .collect(),
        },
        None => BuildTarget::File {
            file: args
                .file
                .clone()
                .unwrap_or_else(|| Path::new("default.nix").to_path_buf()),
            attr: args.attr.clone().unwrap_or_default(),
        },
    };
    let mut eval_options = kith_eval::EvalOptions::default();
    if let Ok(dir) = std::env::var("NIX_STORE_DIR") {
        eval_options.store_dir = dir;
    }
    let req = BuildRequest {
        target,
        cwd,
        eval_options,
        impure: args.impure,
        offline: args.offline,
        store: args.store,
        nix_options: args
            .option
            .chunks(2)
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect(),
        drv_path_only: args.drv_path,
    };
    match kith_flake::build(&req) {
        Ok(lines) => {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            if crate::write_output(text.as_bytes(), b"") {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => fail(&e),
    }
}

fn fail(msg: &str) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(msg.as_bytes());
    if !msg.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
    ExitCode::FAILURE
}
