//! `kith vars list|get`: public values from the flake's `vars/`; secrets are listed as
//! secret and never read.

use super::{fail, print, print_json, FleetArgs};
use clap::{Args, Subcommand};
use kith_planner::fleet::vars::{self, VarValue};
use kith_planner::fleet::{require_machine, FleetError};
use kith_planner::native::View;
use serde_json::json;
use std::io::IsTerminal;
use std::process::ExitCode;

/// `kith vars …`.
#[derive(Subcommand, Debug)]
pub enum VarsCommand {
    /// A machine's vars, `<generator>/<file>: <value>` sorted, as `clan vars list`
    /// (secret ones as `********`).
    List(ListArgs),
    /// A public var's value (raw bytes; as text with a newline on a terminal).
    Get(GetArgs),
}

/// Arguments of `kith vars list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// The machine.
    machine: String,
    /// Print JSON objects (`id`, `shared`, `state`, `value`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// Arguments of `kith vars get`.
#[derive(Args, Debug)]
pub struct GetArgs {
    /// The machine.
    machine: String,
    /// The var: `<generator>/<file>` (a unique prefix gets clan's "Did you mean").
    var_id: String,
    /// Print a JSON object (`id`, `shared`, `state`, `value`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// Runs `kith vars …`.
pub fn run(cmd: VarsCommand) -> ExitCode {
    match cmd {
        VarsCommand::List(a) => list(a),
        VarsCommand::Get(a) => get(a),
    }
}

fn var_json(v: &vars::Var) -> serde_json::Value {
    let (state, value) = match &v.value {
        VarValue::Public(b) => match std::str::from_utf8(b) {
            Ok(s) => ("public", json!(s)),
            Err(_) => ("binary", serde_json::Value::Null),
        },
        VarValue::Secret => ("secret", serde_json::Value::Null),
        VarValue::NotSet => ("not_set", serde_json::Value::Null),
    };
    json!({"id": v.id, "shared": v.shared, "state": state, "value": value})
}

/// The clan's directory once the machine is known to its inventory.
fn machine_dir(fleet: &FleetArgs, machine: &str) -> Result<std::path::PathBuf, FleetError> {
    let clan = fleet.clan()?;
    require_machine(&clan.view(View::Inventory)?, machine)?;
    Ok(clan.dir)
}

fn list(a: ListArgs) -> ExitCode {
    let dir = match machine_dir(&a.fleet, &a.machine) {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    let all = vars::list(&dir, &a.machine);
    if a.json {
        return print_json(&serde_json::Value::Array(
            all.iter().map(var_json).collect(),
        ));
    }
    let lines: Vec<String> = all.iter().map(vars::Var::line).collect();
    print(&format!("{}\n", lines.join("\n")))
}

fn get(a: GetArgs) -> ExitCode {
    let var = match machine_dir(&a.fleet, &a.machine)
        .and_then(|dir| vars::get(&dir, &a.machine, &a.var_id))
    {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    if a.json {
        return print_json(&var_json(&var));
    }
    match var.value {
        VarValue::Public(bytes) => {
            let out = if std::io::stdout().is_terminal() {
                let text = match String::from_utf8(bytes) {
                    Ok(s) => s,
                    Err(_) => "<binary blob>".into(),
                };
                format!("{text}\n").into_bytes()
            } else {
                bytes
            };
            if crate::write_output(&out, b"") {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        VarValue::Secret => fail(&FleetError(format!(
            "Var {} is secret: kith never reads or decrypts secret vars (use `clan vars get`)",
            var.id
        ))),
        VarValue::NotSet => fail(&FleetError(format!(
            "Var {} has not been generated yet",
            var.id
        ))),
    }
}
