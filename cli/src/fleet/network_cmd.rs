//! `kith network list|resolve`.

use super::{colour, fail, print, print_json, with_progress, FleetArgs};
use clap::{Args, Subcommand};
use kith_planner::fleet::network::{self, list_json, list_table};
use kith_planner::fleet::probe::{self, Check};
use kith_planner::fleet::resolve::resolve;
use kith_planner::fleet::FleetError;
use kith_planner::native::View;
use std::process::ExitCode;
use std::time::Duration;

/// `kith network …`.
#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// The networks by priority, as `clan network list` prints them.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Every connection candidate for a machine, in the order clan tries them: the
    /// inventory's deploy.targetHost (clan then tries nothing else), then each network by
    /// descending priority where the machine is a peer. Nothing is contacted unless
    /// `--check`.
    Resolve(ResolveArgs),
}

/// Arguments of `kith network list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Print JSON (`name`, `priority`, `module`, `running`, `peers` per network).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// Arguments of `kith network resolve`.
#[derive(Args, Debug)]
pub struct ResolveArgs {
    /// The machine.
    machine: String,
    /// Only this network's candidates (no targetHost).
    #[arg(long, short = 'n', value_name = "NAME")]
    network: Option<String>,
    /// Print the candidates as JSON objects (`network`, `priority`, `module`, `host`,
    /// `var`, `var_state`, `port`, `user`, `ssh_options`).
    #[arg(long)]
    json: bool,
    /// Try a TCP connection to each candidate in order (through Tor's SOCKS5 proxy for
    /// Tor) and report the first that answers; exit 1 if none does.
    #[arg(long)]
    check: bool,
    /// Seconds to wait for each connection with `--check` (clan's ping waits 20).
    #[arg(long, default_value_t = 20.0, value_name = "SECONDS")]
    timeout: f64,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// Runs `kith network …`.
pub fn run(cmd: NetworkCommand) -> ExitCode {
    match cmd {
        NetworkCommand::List(a) => list(a),
        NetworkCommand::Resolve(a) => resolve_cmd(a),
    }
}

fn list(a: ListArgs) -> ExitCode {
    let nets = match a
        .fleet
        .clan()
        .and_then(|c| {
            c.view_with(
                View::Exports,
                Some(("network-list-v2", &network::network_list_projection)),
            )
        })
        .and_then(|p| network::networks_of_list_projection(&p))
    {
        Ok(n) => n,
        Err(e) => return fail(&e),
    };
    let mut running = probe::memo_running();
    if a.json {
        return print_json(&list_json(&nets, &mut running));
    }
    let table = list_table(&nets, &mut running);
    if super::colours() && !nets.is_empty() {
        let (head, rest) = table.split_once('\n').unwrap_or((&table, ""));
        return print(&format!("{}\n{rest}", super::bold(head, true)));
    }
    print(&table)
}

fn resolve_cmd(a: ResolveArgs) -> ExitCode {
    let result = a.fleet.clan().and_then(|c| {
        let inventory = c.view(View::Inventory)?;
        kith_planner::fleet::require_machine(&inventory, &a.machine)?;
        let nets = network::networks(&c.view(View::Exports)?)?;
        resolve(&c.dir, &inventory, &nets, &a.machine, a.network.as_deref())
    });
    let r = match result {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if !a.check {
        return if a.json {
            print_json(&r.to_json())
        } else {
            print(&r.render())
        };
    }
    let Ok(timeout) = Duration::try_from_secs_f64(a.timeout) else {
        return fail(&FleetError(format!("invalid --timeout: {}", a.timeout)));
    };
    let on = super::colours();
    let mut lines = String::new();
    let mut reports = Vec::new();
    let mut found = None;
    for (i, c) in r.candidates.iter().enumerate() {
        let port = if c.port.is_null() {
            "22".to_string()
        } else {
            network::port_text(&c.port)
        };
        let label = format!(
            "{} {}:{port}",
            c.network.as_deref().unwrap_or("targetHost"),
            c.host_text()
        );
        let result = with_progress(&format!("connecting to {label}"), || {
            probe::check(c, timeout)
        });
        let (status, text) = match &result {
            Check::Reachable(d) => {
                let ms = d.as_secs_f64() * 1000.0;
                ("reachable", format!("reachable, {ms:.2} ms"))
            }
            Check::Unreachable(e) => ("unreachable", format!("not reachable ({e})")),
            Check::Skipped(why) => ("skipped", format!("skipped: {why}")),
        };
        let code = match status {
            "reachable" => 32,
            "unreachable" => 31,
            _ => 33,
        };
        lines.push_str(&format!("{label}: {}\n", colour(&text, code, on)));
        let mut j = c.to_json();
        j["check"] = serde_json::json!(status);
        j["detail"] = serde_json::json!(text);
        reports.push(j);
        if matches!(result, Check::Reachable(_)) {
            found = Some(i);
            break;
        }
    }
    let out = if a.json {
        format!(
            "{}\n",
            kith_planner::select::dumps(&serde_json::Value::Array(reports))
        )
    } else {
        match found {
            Some(i) => {
                let c = &r.candidates[i];
                format!(
                    "{lines}First reachable: {}@{} via {}\n",
                    c.user,
                    c.host_text(),
                    c.network.as_deref().unwrap_or("deploy.targetHost")
                )
            }
            None => format!("{lines}No candidate answered.\n"),
        }
    };
    let ok = crate::write_output(out.as_bytes(), b"");
    if ok && found.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
