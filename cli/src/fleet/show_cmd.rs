//! `kith show`: the clan's meta, as `clan show`.

use super::{fail, print, print_json, FleetArgs};
use clap::Args;
use kith_planner::fleet::show;
use kith_planner::native::View;
use std::process::ExitCode;

/// Arguments of `kith show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Print the meta as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// Runs `kith show`.
pub fn run(a: ShowArgs) -> ExitCode {
    match a.fleet.clan().and_then(|c| c.view(View::Inventory)) {
        Ok(inv) if a.json => print_json(&show::meta(&inv)),
        Ok(inv) => print(&show::render(&show::meta(&inv))),
        Err(e) => fail(&e),
    }
}
