//! Connection candidates for a machine in clan's order (clan-cli.md §2.5,
//! `BestRemoteContext`): the inventory's `deploy.targetHost` first (clan uses it without
//! trying anything else), then each network by descending priority where the machine is
//! a peer, its hosts in order. Nothing is contacted here (see [`super::probe`]).

use super::network::{by_priority, Network};
use super::pyfmt::py_str;
use super::vars::{read_var_dir, var_dir, VarValue};
use super::{require_machine, FleetError};
use serde_json::{json, Value};
use std::path::Path;

/// `deploy.targetHost` parsed as clan's `Remote.from_ssh_uri`:
/// `[ssh://][user@]host[:port][?opt=v&…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetHost {
    /// The user (`root` when not given).
    pub user: String,
    /// The host name, lower-cased, without IPv6 brackets (Python's `urlsplit`).
    pub host: String,
    /// The port, when given.
    pub port: Option<u16>,
    /// The `?name=value` options, in order.
    pub options: Vec<(String, String)>,
}

/// Parses a targetHost as clan does, with clan's error texts.
pub fn parse_target_host(address: &str) -> Result<TargetHost, FleetError> {
    let address = address.strip_prefix("ssh://").unwrap_or(address);
    let (endpoint, options_text) = address.split_once('?').unwrap_or((address, ""));
    let invalid = || {
        FleetError(format!(
            "Invalid host, got `{address}` but expected something like `[user@]hostname[:port]`"
        ))
    };
    let parts: Vec<&str> = endpoint.split('@').collect();
    let (user, host_port) = match parts.as_slice() {
        [u, h] => (u.to_string(), *h),
        [h] => ("root".to_string(), *h),
        _ => return Err(invalid()),
    };
    let bracketed = host_port
        .find('[')
        .is_some_and(|i| host_port[i..].contains(']'));
    if host_port.matches(':').count() > 1 && !bracketed {
        return Err(FleetError(format!(
            "Invalid hostname: {address}. IPv6 addresses must be enclosed in brackets , e.g. [::1]"
        )));
    }
    let mut options = Vec::new();
    for o in options_text.split('&').filter(|o| !o.is_empty()) {
        let Some((n, v)) = o.split_once('=') else {
            return Err(FleetError(format!(
                "Invalid option in host `{address}`: option `{o}` does not have a value (i.e. expected something like `name=value`)"
            )));
        };
        options.push((n.to_string(), v.to_string()));
    }
    // urlsplit("//" + host_port): the netloc ends at '/' or '#'.
    let netloc = host_port.split(['/', '#']).next().unwrap_or("");
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let (hostname, port) = match hostinfo.split_once('[') {
        Some((_, rest)) => {
            let (h, after) = rest.split_once(']').unwrap_or((rest, ""));
            (h, after.split_once(':').map_or("", |(_, p)| p))
        }
        None => hostinfo.split_once(':').unwrap_or((hostinfo, "")),
    };
    if hostname.is_empty() {
        return Err(invalid());
    }
    let port = if port.is_empty() {
        None
    } else if port.bytes().all(|b| b.is_ascii_digit()) {
        match port.parse::<u32>() {
            Ok(p) if p <= 65535 => Some(p as u16),
            _ => {
                return Err(FleetError(format!(
                    "Invalid host `{address}`: Port out of range 0-65535"
                )))
            }
        }
    } else {
        return Err(FleetError(format!(
            "Invalid host `{address}`: Port could not be cast to integer value as '{port}'"
        )));
    };
    Ok(TargetHost {
        user,
        host: hostname.to_lowercase(),
        port,
        options,
    })
}

/// What a var host holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarState {
    /// A public var: its value (stripped) is the host.
    Public,
    /// A secret var: shown as a reference, never read.
    Secret,
    /// Not generated (clan tells the user to run `clan machines update`).
    Missing,
    /// A public value that is not UTF-8 (clan cannot decode it either).
    Binary,
}

impl VarState {
    /// Its name in `--json` (`var_state`).
    pub fn as_str(self) -> &'static str {
        match self {
            VarState::Public => "public",
            VarState::Secret => "secret",
            VarState::Missing => "missing",
            VarState::Binary => "binary",
        }
    }
}

/// One way to connect to a machine.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The network, `None` for the inventory's targetHost.
    pub network: Option<String>,
    /// The network's priority.
    pub priority: Option<i64>,
    /// The network's module (`clan_lib.network.direct`).
    pub module: Option<String>,
    /// The host to connect to; `None` for a secret, missing or binary var.
    pub host: Option<String>,
    /// `<machine>/<generator>/<file>` for a var host (for p2p-ssh-iroh: its ticket).
    pub var: Option<String>,
    /// What the var holds, for a var host.
    pub var_state: Option<VarState>,
    /// The port (`null` for a targetHost without one: ssh's default).
    pub port: Value,
    /// The SSH user.
    pub user: String,
    /// SSH options: the peer's `SSHOptions`, a targetHost's `name=value` options, the
    /// p2p-ssh-iroh `ProxyCommand`.
    pub ssh_options: Vec<String>,
}

impl Candidate {
    /// The object of `kith network resolve --json`.
    pub fn to_json(&self) -> Value {
        json!({
            "network": self.network,
            "priority": self.priority,
            "module": self.module,
            "host": self.host,
            "var": self.var,
            "var_state": self.var_state.map(VarState::as_str),
            "port": self.port,
            "user": self.user,
            "ssh_options": self.ssh_options,
        })
    }

    /// The Host column: the host, or `<secret var m/g/f>`, `<var m/g/f not generated>`,
    /// `<var m/g/f: binary>`.
    pub fn host_text(&self) -> String {
        let var = self.var.as_deref().unwrap_or("?");
        match (&self.host, self.var_state) {
            (Some(h), _) => h.clone(),
            (None, Some(VarState::Secret)) => format!("<secret var {var}>"),
            (None, Some(VarState::Binary)) => format!("<var {var}: not text>"),
            (None, _) => format!("<var {var} not generated>"),
        }
    }
}

/// A machine's candidates.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolution {
    /// The machine.
    pub machine: String,
    /// The inventory's `deploy.targetHost`, as written, when set (then the first candidate).
    pub target_host: Option<String>,
    /// Every candidate, in clan's order.
    pub candidates: Vec<Candidate>,
}

/// The var of a `{var = {machine, generator, file}}` host: its reference and value.
fn var_host(flake: &Path, var: &Value) -> (String, Option<String>, VarState) {
    let s = |k: &str| var.get(k).and_then(Value::as_str).unwrap_or("");
    let (m, g, f) = (s("machine"), s("generator"), s("file"));
    let reference = format!("{m}/{g}/{f}");
    let value = var_dir(flake, m, g, f).map_or(VarValue::NotSet, |d| read_var_dir(&d));
    match value {
        VarValue::Secret => (reference, None, VarState::Secret),
        VarValue::NotSet => (reference, None, VarState::Missing),
        VarValue::Public(b) => match String::from_utf8(b) {
            Ok(t) => (reference, Some(t.trim().to_string()), VarState::Public),
            Err(_) => (reference, None, VarState::Binary),
        },
    }
}

/// The module of clan's p2p-ssh-iroh network: the peer is reached by name through
/// `dumbpipe connect <ticket>`, the ticket a public var of the peer.
pub const IROH_MODULE: &str = "clan_lib.network.p2p_ssh_iroh";

/// The candidates of `peer` in `network`.
fn network_candidates(flake: &Path, network: &Network, machine: &str) -> Vec<Candidate> {
    let Some(peer) = network.peer(machine) else {
        return Vec::new();
    };
    let base = Candidate {
        network: Some(network.name.clone()),
        priority: Some(network.priority),
        module: Some(network.module.clone()),
        host: None,
        var: None,
        var_state: None,
        port: peer.port.clone(),
        user: peer.ssh_user().to_string(),
        ssh_options: peer.ssh_options.clone(),
    };
    if network.module == IROH_MODULE {
        // clan's p2p_ssh_iroh `remote()`: no port, the ticket var of generator
        // `p2p-ssh-iroh-<instance>`; nothing when the ticket is not generated.
        let var = json!({"machine": machine, "generator": format!("p2p-ssh-iroh-{}", network.name), "file": "ticket"});
        let (reference, ticket, state) = var_host(flake, &var);
        return match (ticket, state) {
            (Some(t), VarState::Public) => vec![Candidate {
                host: Some(machine.to_string()),
                var: Some(reference),
                var_state: Some(state),
                port: Value::Null,
                ssh_options: vec![format!("ProxyCommand=dumbpipe connect {t}")],
                ..base
            }],
            _ => Vec::new(),
        };
    }
    peer.hosts
        .iter()
        .map(|h| {
            if let Some(plain) = h.get("plain").and_then(Value::as_str) {
                Candidate {
                    host: Some(plain.to_string()),
                    ..base.clone()
                }
            } else if let Some(var) = h.get("var").filter(|v| v.is_object()) {
                let (reference, host, state) = var_host(flake, var);
                Candidate {
                    host,
                    var: Some(reference),
                    var_state: Some(state),
                    ..base.clone()
                }
            } else {
                Candidate {
                    host: Some(py_str(h)),
                    ..base.clone()
                }
            }
        })
        .collect()
}

/// `text` with control characters written as escapes (`\n`), so that a table row stays
/// one line (a host as written may end in a newline).
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\t' => "\\t".to_string(),
            '\r' => "\\r".to_string(),
            c if c.is_control() => format!("\\x{:02x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// clan's `NoRemoteError` text.
pub fn no_remote(machine: &str) -> String {
    format!("Could not find any way to connect to machine '{machine}'. No targetHost configured and machine not reachable via any network.")
}

/// The candidates for `machine` (an inventory machine) of the clan in `flake`:
/// the targetHost (unless `only` names a network), then the networks' (only `only`'s when
/// given). Errors: an unknown machine (clan's suggestions), an unknown network, a
/// targetHost clan cannot parse, and clan's `NoRemoteError` when there is no candidate.
pub fn resolve(
    flake: &Path,
    inventory: &Value,
    networks: &[Network],
    machine: &str,
    only: Option<&str>,
) -> Result<Resolution, FleetError> {
    require_machine(inventory, machine)?;
    if let Some(name) = only {
        if !networks.iter().any(|n| n.name == name) {
            let mut names: Vec<&str> = networks.iter().map(|n| n.name.as_str()).collect();
            names.sort();
            return Err(FleetError(format!(
                "Network '{name}' not found. Available networks: {}",
                names.join(", ")
            )));
        }
    }
    let mut candidates = Vec::new();
    let target = inventory["machines"][machine]["deploy"]["targetHost"]
        .as_str()
        .filter(|t| !t.is_empty() && only.is_none());
    if let Some(t) = target {
        let th = parse_target_host(t)?;
        candidates.push(Candidate {
            network: None,
            priority: None,
            module: None,
            host: Some(th.host),
            var: None,
            var_state: None,
            port: th.port.map_or(Value::Null, Value::from),
            user: th.user,
            ssh_options: th.options.iter().map(|(n, v)| format!("{n}={v}")).collect(),
        });
    }
    for n in by_priority(networks) {
        if only.is_some_and(|o| o != n.name) {
            continue;
        }
        candidates.extend(network_candidates(flake, n, machine));
    }
    if candidates.is_empty() {
        return Err(FleetError(no_remote(machine)));
    }
    Ok(Resolution {
        machine: machine.to_string(),
        target_host: target.map(str::to_string),
        candidates,
    })
}

impl Resolution {
    /// `kith network resolve`'s text: a table of the candidates (Network, Priority,
    /// Module, Host, Port, User, SSH options; the targetHost's row named `targetHost`)
    /// and, when the targetHost is set, that clan uses it without trying the others.
    pub fn render(&self) -> String {
        let rows: Vec<[String; 7]> = self
            .candidates
            .iter()
            .map(|c| {
                let cells = [
                    c.network.clone().unwrap_or_else(|| "targetHost".into()),
                    c.priority.map_or("-".into(), |p| p.to_string()),
                    c.module
                        .as_deref()
                        .map_or("-", |m| m.rsplit('.').next().unwrap_or(m))
                        .to_string(),
                    c.host_text(),
                    if c.port.is_null() {
                        "-".into()
                    } else {
                        py_str(&c.port)
                    },
                    c.user.clone(),
                    c.ssh_options.join(" "),
                ];
                cells.map(|t| escape_controls(&t))
            })
            .collect();
        let header = [
            "Network",
            "Priority",
            "Module",
            "Host",
            "Port",
            "User",
            "SSH options",
        ];
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for r in &rows {
            for (w, cell) in widths.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(c);
                } else {
                    s.push_str(&format!("{c:<w$}  ", w = widths[i]));
                }
            }
            format!("{}\n", s.trim_end())
        };
        let head = line(&header.map(String::from));
        let mut out = head.clone();
        out.push_str(&"-".repeat(head.trim_end().chars().count()));
        out.push('\n');
        for r in &rows {
            out.push_str(&line(r));
        }
        if let Some(t) = &self.target_host {
            out.push_str(&format!(
                "deploy.targetHost is set ('{t}'): clan connects to it without trying anything else.\n"
            ));
        }
        out
    }

    /// `kith network resolve --json`: the candidates in order.
    pub fn to_json(&self) -> Value {
        Value::Array(self.candidates.iter().map(Candidate::to_json).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn th(user: &str, host: &str, port: Option<u16>, opts: &[(&str, &str)]) -> TargetHost {
        TargetHost {
            user: user.into(),
            host: host.into(),
            port,
            options: opts
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn target_hosts() {
        assert_eq!(
            parse_target_host("1.2.3.4").unwrap(),
            th("root", "1.2.3.4", None, &[])
        );
        assert_eq!(
            parse_target_host("ssh://admin@Host.Example:2222?IdentityFile=/k&ProxyJump=j").unwrap(),
            th(
                "admin",
                "host.example",
                Some(2222),
                &[("IdentityFile", "/k"), ("ProxyJump", "j")]
            )
        );
        assert_eq!(
            parse_target_host("u@[::1]:22").unwrap(),
            th("u", "::1", Some(22), &[])
        );
        assert_eq!(parse_target_host("h:").unwrap(), th("root", "h", None, &[]));
        assert_eq!(
            parse_target_host("fe80::1").unwrap_err().0,
            "Invalid hostname: fe80::1. IPv6 addresses must be enclosed in brackets , e.g. [::1]"
        );
        assert_eq!(
            parse_target_host("a@b@c").unwrap_err().0,
            "Invalid host, got `a@b@c` but expected something like `[user@]hostname[:port]`"
        );
        assert_eq!(
            parse_target_host("ssh://h?x").unwrap_err().0,
            "Invalid option in host `h?x`: option `x` does not have a value (i.e. expected something like `name=value`)"
        );
        assert!(parse_target_host("h:99999")
            .unwrap_err()
            .0
            .contains("Port out of range"));
        assert!(parse_target_host("h:ab")
            .unwrap_err()
            .0
            .contains("could not be cast"));
        assert!(parse_target_host("root@:22").is_err());
    }

    #[test]
    fn order_target_host_first_then_priority() {
        let inv = json!({"machines": {"jon": {"deploy": {"targetHost": "deploy@jon.lan:2200"}}, "sara": {"deploy": {"targetHost": null}}}});
        let ex = json!({
            "s:low::": {"networking": {"priority": 10, "module": "clan_lib.network.tor"}},
            "s:low:r:jon": {"peer": {"hosts": [{"var": {"machine": "jon", "generator": "tor_low", "file": "hostname"}}], "port": 22, "user": null, "SSHOptions": []}},
            "s:high::": {"networking": {"priority": 2000, "module": "clan_lib.network.direct"}},
            "s:high:r:jon": {"peer": {"hosts": [{"plain": "a"}, {"plain": "b"}], "port": 2222, "user": "admin", "SSHOptions": ["-J x"]}},
        });
        let nets = super::super::network::networks(&ex).unwrap();
        let dir = std::env::temp_dir().join(format!("kith-resolve-{}", std::process::id()));
        let r = resolve(&dir, &inv, &nets, "jon", None).unwrap();
        let hosts: Vec<String> = r.candidates.iter().map(Candidate::host_text).collect();
        assert_eq!(
            hosts,
            [
                "jon.lan",
                "a",
                "b",
                "<var jon/tor_low/hostname not generated>"
            ]
        );
        assert_eq!(r.candidates[0].user, "deploy");
        assert_eq!(r.candidates[3].user, "root");
        let text = r.render();
        assert!(
            text.starts_with("Network     Priority  Module  Host"),
            "{text}"
        );
        assert!(text.ends_with("deploy.targetHost is set ('deploy@jon.lan:2200'): clan connects to it without trying anything else.\n"));
        let only = resolve(&dir, &inv, &nets, "jon", Some("low")).unwrap();
        assert_eq!(only.candidates.len(), 1);
        assert_eq!(escape_controls("a\nb\u{1}"), "a\\nb\\x01");
        assert_eq!(only.to_json()[0]["host"], Value::Null);
        assert_eq!(only.to_json()[0]["var"], json!("jon/tor_low/hostname"));
        assert_eq!(
            resolve(&dir, &inv, &nets, "sara", None).unwrap_err().0,
            no_remote("sara")
        );
        assert!(resolve(&dir, &inv, &nets, "jon", Some("x"))
            .unwrap_err()
            .0
            .starts_with("Network 'x' not found"));
        assert!(resolve(&dir, &inv, &nets, "jo", None)
            .unwrap_err()
            .0
            .contains("Did you mean: jon"));
    }
}
