//! `kith machines list|show`.

use super::{bold, fail, print, print_json, FleetArgs};
use clap::{Args, Subcommand};
use kith_planner::fleet::machines;
use kith_planner::native::View;
use serde_json::Value;
use std::process::ExitCode;

/// `kith machines …`.
#[derive(Subcommand, Debug)]
pub enum MachinesCommand {
    /// List the machines' names, sorted, as `clan machines list`.
    List(ListArgs),
    /// A machine's inventory entry, tags, the (instance, role) pairs it is in and why, and
    /// its exports.
    Show(ShowArgs),
}

/// Arguments of `kith machines list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only machines with all of these tags (computed tags such as `all` included).
    #[arg(long, num_args = 1.., value_name = "TAG")]
    tags: Vec<String>,
    /// Print a JSON list of names.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// Arguments of `kith machines show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The machine.
    machine: String,
    /// Print JSON (`name`, `machine`, `tags`, `instances`, `exports`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// Runs `kith machines …`.
pub fn run(cmd: MachinesCommand) -> ExitCode {
    match cmd {
        MachinesCommand::List(a) => list(a),
        MachinesCommand::Show(a) => show(a),
    }
}

fn list(a: ListArgs) -> ExitCode {
    let inventory = match a.fleet.clan().and_then(|c| {
        c.view_with(
            View::Inventory,
            Some(("machine-tags", &machines::machine_tags_only)),
        )
    }) {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let names = machines::list(&inventory, &a.tags);
    if a.json {
        return print_json(&Value::from(names));
    }
    let mut out = String::new();
    for n in names {
        out.push_str(&n);
        out.push('\n');
    }
    print(&out)
}

fn show(a: ShowArgs) -> ExitCode {
    let result = a.fleet.clan().and_then(|c| {
        let inventory = c.view(View::Inventory)?;
        kith_planner::fleet::require_machine(&inventory, &a.machine)?;
        let exports = c.view(View::Exports)?;
        machines::show(&inventory, &exports, &a.machine)
    });
    match result {
        Ok(info) if a.json => print_json(&info.to_json()),
        Ok(info) => {
            let on = super::colours();
            let text: String = info
                .render()
                .lines()
                .map(|l| match l.split_once(": ") {
                    Some((k, v)) if !l.starts_with(' ') => format!("{}: {v}\n", bold(k, on)),
                    _ if !l.starts_with(' ') => format!("{}\n", bold(l, on)),
                    _ => format!("{l}\n"),
                })
                .collect();
            print(&text)
        }
        Err(e) => fail(&e),
    }
}
