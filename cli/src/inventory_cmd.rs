//! `kith inventory`: validated edits of a clan's `inventory.json`, the command-line face
//! of `kith_planner::edit`.

use clap::{ArgMatches, Args, Subcommand};
use kith_planner::edit::{self, Edit, RoleMembers};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options every edit takes.
#[derive(Args, Debug)]
pub struct Common {
    /// The clan's flake directory (default: `$CLAN_DIR`, else the first ancestor of the
    /// current directory with `.clan-flake`, then `.git`, `.hg`, `.svn`, `flake.nix`).
    #[arg(long, value_name = "PATH", global = true)]
    flake: Option<PathBuf>,
    /// Use the directory PATH for the input NAME (`a/b` for nested inputs).
    #[arg(long, num_args = 2, value_names = ["NAME", "PATH"], action = clap::ArgAction::Append, global = true)]
    override_input: Vec<String>,
    /// Print the diff of `inventory.json` and write nothing.
    #[arg(long, global = true)]
    dry_run: bool,
    /// Do not fetch locked flake inputs missing from the store.
    #[arg(long, global = true)]
    offline: bool,
}

/// Arguments of `kith inventory`.
#[derive(Args, Debug)]
pub struct InventoryArgs {
    #[command(subcommand)]
    command: InventoryCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(Subcommand, Debug)]
enum InventoryCommand {
    /// Set the value at PATH (`machines.jon.tags`) to JSON, as clan's write rules allow.
    Set {
        /// The attribute path below the inventory (dots between names; quote a name with
        /// dots: `machines."a.b"`).
        path: String,
        /// The value, as JSON (`'["web"]'`, `'"text"'`, `'{"a": 1}'`).
        json: String,
    },
    /// Remove the value at PATH, if `inventory.json` alone defines it.
    Delete {
        /// The attribute path below the inventory.
        path: String,
    },
    /// Add a service instance: `--role R` followed by the `--machine`s and `--tag`s in it.
    AddInstance {
        /// The instance's name.
        name: String,
        /// The service module's name.
        #[arg(long)]
        module: String,
        /// The flake input providing the module (`self` for the clan's own; default
        /// clan-core).
        #[arg(long)]
        input: Option<String>,
        /// Starts a role; the `--machine`s and `--tag`s after it are its members.
        #[arg(long, value_name = "ROLE")]
        role: Vec<String>,
        /// A machine in the role named before it.
        #[arg(long, value_name = "MACHINE")]
        machine: Vec<String>,
        /// A tag in the role named before it.
        #[arg(long, value_name = "TAG")]
        tag: Vec<String>,
    },
    /// Add a machine to the inventory.
    AddMachine {
        /// The machine's name.
        name: String,
        /// Its tags.
        #[arg(long, num_args = 1.., value_name = "TAG")]
        tags: Vec<String>,
        /// Its description.
        #[arg(long)]
        description: Option<String>,
        /// `nixos` or `darwin`.
        #[arg(long, value_parser = ["nixos", "darwin"])]
        machine_class: Option<String>,
    },
}

/// The roles of `add-instance` in command-line order: each `--machine`/`--tag` belongs to
/// the nearest `--role` before it.
fn roles(m: &ArgMatches) -> Result<Vec<(String, RoleMembers)>, String> {
    let indexed = |id: &str| -> Vec<(usize, String)> {
        match (m.indices_of(id), m.get_many::<String>(id)) {
            (Some(i), Some(v)) => i.zip(v.cloned()).collect(),
            _ => Vec::new(),
        }
    };
    let roles = indexed("role");
    let mut out: Vec<(String, RoleMembers)> = roles
        .iter()
        .map(|(_, r)| (r.clone(), RoleMembers::default()))
        .collect();
    for (kind, items) in [("machine", indexed("machine")), ("tag", indexed("tag"))] {
        for (i, x) in items {
            let Some(k) = roles.iter().rposition(|(ri, _)| *ri < i) else {
                return Err(format!("--{kind} {x} comes before any --role"));
            };
            let members = &mut out[k].1;
            match kind {
                "machine" => members.machines.push(x),
                _ => members.tags.push(x),
            }
        }
    }
    Ok(out)
}

fn fail(msg: &str) -> ExitCode {
    crate::write_output(b"", format!("error: {msg}\n").as_bytes());
    ExitCode::FAILURE
}

/// Runs `kith inventory` (`matches`: the subcommand's, for the order of `--role`).
pub fn run(args: InventoryArgs, matches: &ArgMatches) -> ExitCode {
    let c = &args.common;
    let Some((flake, opts)) =
        crate::clan_flake::flake_and_options(c.flake.as_ref(), &c.override_input, c.offline)
    else {
        return fail("no clan flake found: pass --flake PATH or set CLAN_DIR");
    };
    let e = match args.command {
        InventoryCommand::Set { path, json } => {
            match (edit::parse_path(&path), edit::parse_value(&json)) {
                (Ok(p), Ok(v)) => Edit::Set(p, v),
                (Err(e), _) | (_, Err(e)) => return fail(&e.to_string()),
            }
        }
        InventoryCommand::Delete { path } => match edit::parse_path(&path) {
            Ok(p) => Edit::Delete(p),
            Err(e) => return fail(&e.to_string()),
        },
        InventoryCommand::AddInstance {
            name,
            module,
            input,
            ..
        } => {
            let sub = matches
                .subcommand_matches("add-instance")
                .unwrap_or(matches);
            match roles(sub) {
                Ok(roles) => Edit::AddInstance {
                    name,
                    module,
                    input,
                    roles,
                },
                Err(e) => return fail(&e),
            }
        }
        InventoryCommand::AddMachine {
            name,
            tags,
            description,
            machine_class,
        } => Edit::AddMachine {
            name,
            tags,
            description,
            machine_class,
        },
    };
    match edit::edit(&flake, &opts, &e, c.dry_run) {
        Ok(outcome) => {
            let note = if outcome.diff.is_empty() {
                "kith: no change\n".to_string()
            } else if outcome.written && outcome.staged {
                format!(
                    "kith: wrote {} (and added it to the git index)\n",
                    outcome.file.display()
                )
            } else if outcome.written {
                format!("kith: wrote {}\n", outcome.file.display())
            } else {
                "kith: dry run, nothing written\n".to_string()
            };
            if crate::write_output(outcome.diff.as_bytes(), note.as_bytes()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => fail(&e.to_string()),
    }
}
