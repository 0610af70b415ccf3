//! Networks as clan-cli sees them (`clan_lib/network/network.py`: `networks_from_flake`)
//! and the `clan network list` table (`clan_cli/network/list.py`), byte for byte.

use super::pyfmt::py_str;
use super::FleetError;
use serde_json::Value;

/// One `peer` export of a network: a machine and how to reach it.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    /// The machine (the export key's last part).
    pub machine: String,
    /// The export key it came from.
    pub key: String,
    /// `peer.hosts`: tagged values `{plain = …}` or `{var = {machine, generator, file}}`.
    pub hosts: Vec<Value>,
    /// `peer.port` (clan: `peer.get("port", 22)`, so `null` stays `null`).
    pub port: Value,
    /// `peer.user`; `null` means `root`.
    pub user: Option<String>,
    /// `peer.SSHOptions`.
    pub ssh_options: Vec<String>,
}

impl Peer {
    /// The SSH user: `user`, else `root` (clan's `Peer.ssh_user`).
    pub fn ssh_user(&self) -> &str {
        self.user.as_deref().unwrap_or("root")
    }
}

/// A network: an export with `networking` set, named after its instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// The instance name (two services' instances of one name collide: the last wins).
    pub name: String,
    /// The service part of the defining export key.
    pub service: Option<String>,
    /// `networking.module`, a Python module path (`clan_lib.network.direct`).
    pub module: String,
    /// `networking.priority` (higher is tried first).
    pub priority: i64,
    /// Its peers, in export-key order (one per machine: a later export replaces an
    /// earlier one in its place, as in a Python dict).
    pub peers: Vec<Peer>,
}

impl Network {
    /// The module's last component (`direct`, `tor`), as the table prints it.
    pub fn short_module(&self) -> &str {
        self.module.rsplit('.').next().unwrap_or(&self.module)
    }

    /// The peer entry of `machine`, if it is one.
    pub fn peer(&self, machine: &str) -> Option<&Peer> {
        self.peers.iter().find(|p| p.machine == machine)
    }
}

/// An export key's parts (`service:instance:role:machine`, an empty part is `None`), as
/// clan's `parse_export`; a key without exactly four parts is an error (clan raises).
fn parse_key(key: &str) -> Result<[Option<&str>; 4], FleetError> {
    let parts: Vec<&str> = key.split(':').collect();
    match parts.as_slice() {
        [a, b, c, d] => Ok([a, b, c, d].map(|p| Some(*p).filter(|p| !p.is_empty()))),
        _ => Err(FleetError(format!(
            "export key '{key}' does not have the form service:instance:role:machine"
        ))),
    }
}

/// A (service, instance) pair of export keys.
type Scope<'a> = (Option<&'a str>, Option<&'a str>);

/// What `network list` shows of a `clan.exports` view, as JSON (the projection it
/// caches, so a warm list neither parses the view nor regroups its exports): the
/// [`networks`] with their peers' machines (no export keys, no hosts), or the error.
pub fn network_list_projection(exports: &Value) -> Value {
    match networks(exports) {
        Ok(nets) => serde_json::json!({
            "networks": nets
                .iter()
                .map(|n| serde_json::json!({
                    "name": n.name,
                    "service": n.service,
                    "module": n.module,
                    "priority": n.priority,
                    "peers": n.peers.iter().map(|p| &p.machine).collect::<Vec<_>>(),
                }))
                .collect::<Vec<_>>(),
        }),
        Err(e) => serde_json::json!({ "error": e.0 }),
    }
}

/// The networks a [`network_list_projection`] holds (peers without export keys or hosts:
/// port 22, user `root`, as an empty peer export gives).
pub fn networks_of_list_projection(p: &Value) -> Result<Vec<Network>, FleetError> {
    if let Some(e) = p.get("error").and_then(Value::as_str) {
        return Err(FleetError(e.to_string()));
    }
    let bad = || FleetError("the cached network list is unreadable".into());
    let nets = p
        .get("networks")
        .and_then(Value::as_array)
        .ok_or_else(bad)?;
    nets.iter()
        .map(|n| {
            let text = |k: &str| n.get(k).and_then(Value::as_str).map(str::to_string);
            let peers = n
                .get("peers")
                .and_then(Value::as_array)
                .ok_or_else(bad)?
                .iter()
                .map(|machine| {
                    let machine = machine.as_str().ok_or_else(bad)?;
                    Ok::<_, FleetError>(Peer {
                        machine: machine.to_string(),
                        key: String::new(),
                        hosts: Vec::new(),
                        port: Value::from(22),
                        user: None,
                        ssh_options: Vec::new(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Network {
                name: text("name").ok_or_else(bad)?,
                service: text("service"),
                module: text("module").ok_or_else(bad)?,
                priority: n.get("priority").and_then(Value::as_i64).ok_or_else(bad)?,
                peers,
            })
        })
        .collect()
}

/// The networks of a clan from its `clan.exports` view, in the order clan's dict has them
/// (first definition's place, last definition's value).
pub fn networks(exports: &Value) -> Result<Vec<Network>, FleetError> {
    let Some(exports) = exports.as_object() else {
        return Ok(Vec::new());
    };
    // Peers grouped by (service, instance), in export order.
    let mut groups: Vec<(Scope, Vec<Peer>)> = Vec::new();
    // Where each (group, machine) peer is in `groups`.
    let mut places: std::collections::HashMap<(usize, String), usize> = Default::default();
    let mut nets: Vec<Network> = Vec::new();
    for (key, value) in exports {
        let Some(peer) = value.get("peer").filter(|p| !p.is_null()) else {
            continue;
        };
        let [service, instance, _, machine] = parse_key(key)?;
        let Some(machine) = machine else { continue };
        let p = Peer {
            machine: machine.to_string(),
            key: key.clone(),
            hosts: peer
                .get("hosts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            port: peer.get("port").cloned().unwrap_or(Value::from(22)),
            user: peer.get("user").and_then(Value::as_str).map(str::to_string),
            ssh_options: peer
                .get("SSHOptions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|o| o.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let g = match groups.iter().position(|(k, _)| *k == (service, instance)) {
            Some(g) => g,
            None => {
                groups.push(((service, instance), Vec::new()));
                groups.len() - 1
            }
        };
        let group = &mut groups[g].1;
        match places.get(&(g, p.machine.clone())) {
            Some(&i) => group[i] = p,
            None => {
                places.insert((g, p.machine.clone()), group.len());
                group.push(p);
            }
        }
    }
    for (key, value) in exports {
        let Some(net) = value.get("networking").filter(|n| !n.is_null()) else {
            continue;
        };
        let [service, instance, _, _] = parse_key(key)?;
        let Some(name) = instance else { continue };
        let module = net.get("module").and_then(Value::as_str).ok_or_else(|| {
            FleetError(format!("export '{key}': networking.module is not a string"))
        })?;
        let priority = net.get("priority").and_then(Value::as_i64).ok_or_else(|| {
            FleetError(format!(
                "export '{key}': networking.priority is not an integer"
            ))
        })?;
        let peers = groups
            .iter()
            .find(|(k, _)| *k == (service, Some(name)))
            .map(|(_, g)| g.clone())
            .unwrap_or_default();
        let network = Network {
            name: name.to_string(),
            service: service.map(str::to_string),
            module: module.to_string(),
            priority,
            peers,
        };
        match nets.iter_mut().find(|n| n.name == network.name) {
            Some(n) => *n = network,
            None => nets.push(network),
        }
    }
    Ok(nets)
}

/// The networks by descending priority, ties in their order (Python's stable sort).
pub fn by_priority(networks: &[Network]) -> Vec<&Network> {
    let mut v: Vec<&Network> = networks.iter().collect();
    v.sort_by_key(|n| std::cmp::Reverse(n.priority));
    v
}

/// The Running column: a network technology's `is_running()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Running {
    /// The technology is up (direct and p2p-ssh-iroh always are).
    Yes,
    /// It is not.
    No,
    /// The check failed (clan's `ClanError`; kith also says so of a module it does not know).
    Error,
}

impl Running {
    /// The column's text.
    pub fn as_str(self) -> &'static str {
        match self {
            Running::Yes => "Yes",
            Running::No => "No",
            Running::Error => "Error",
        }
    }
}

/// The `Peers` column: `No peers`, up to three names, or three and ` ...(N more)`.
pub fn peers_text(network: &Network) -> String {
    let names: Vec<&str> = network.peers.iter().map(|p| p.machine.as_str()).collect();
    match names.len() {
        0 => "No peers".into(),
        1..=3 => names.join(", "),
        n => format!("{} ...({} more)", names[..3].join(", "), n - 3),
    }
}

/// `clan network list`'s output (with its final newline): `No networks found`, or the
/// table of clan-cli.md §2.2, `running` giving each network's Running column.
pub fn list_table(networks: &[Network], running: &mut dyn FnMut(&Network) -> Running) -> String {
    if networks.is_empty() {
        return "No networks found\n".into();
    }
    let width = |s: &str| s.chars().count();
    let col_network = networks.iter().map(|n| width(&n.name)).fold(12, usize::max);
    let col_module = networks
        .iter()
        .map(|n| width(n.short_module()))
        .fold(10, usize::max);
    let header = format!(
        "{:<col_network$}  {:<8}  {:<col_module$}  {:<8}  Peers",
        "Network", "Priority", "Module", "Running"
    );
    let mut out = String::new();
    out.push_str(&header);
    out.push('\n');
    out.push_str(&"-".repeat(width(&header)));
    out.push('\n');
    for n in by_priority(networks) {
        out.push_str(&format!(
            "{:<col_network$}  {:<8}  {:<col_module$}  {:<8}  {}\n",
            n.name,
            n.priority,
            n.short_module(),
            running(n).as_str(),
            peers_text(n)
        ));
    }
    out
}

/// The networks as JSON for `kith network list --json`: one object per network by
/// descending priority (`name`, `priority`, `module`, `running`, `peers`).
pub fn list_json(networks: &[Network], running: &mut dyn FnMut(&Network) -> Running) -> Value {
    Value::Array(
        by_priority(networks)
            .into_iter()
            .map(|n| {
                serde_json::json!({
                    "name": n.name,
                    "priority": n.priority,
                    "module": n.module,
                    "running": running(n).as_str(),
                    "peers": n.peers.iter().map(|p| p.machine.as_str()).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// A port as clan prints it (`22`, `None`).
pub fn port_text(port: &Value) -> String {
    py_str(port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn peer(host: &str) -> Value {
        json!({"networking": null, "peer": {"hosts": [{"plain": host}], "port": 22, "user": null, "SSHOptions": [], "name": "peer"}})
    }

    fn net(prio: i64, module: &str) -> Value {
        json!({"networking": {"priority": prio, "module": module}, "peer": null})
    }

    fn yes(_: &Network) -> Running {
        Running::Yes
    }

    /// The cached projection of `network list` gives the same table and JSON as the view,
    /// and carries its error.
    #[test]
    fn list_projection_keeps_the_list() {
        let ex = json!({
            "a/internet:internet::": net(2000, "clan_lib.network.direct"),
            "a/internet:internet:default:jon": peer("1"),
            "a/internet:internet:default:jon2": peer("2"),
            "b/tor:tor::": net(10, "clan_lib.network.tor"),
            "b/tor:tor:server:jon": peer("3"),
            "c/other:x:r:m": {"networking": null, "peer": null, "auth": {"k": 1}},
            "other:internet:default:zed": peer("6"),
        });
        let whole = networks(&ex).unwrap();
        let projected = networks_of_list_projection(&network_list_projection(&ex)).unwrap();
        assert_eq!(
            list_table(&whole, &mut yes),
            list_table(&projected, &mut yes)
        );
        assert_eq!(list_json(&whole, &mut yes), list_json(&projected, &mut yes));
        let broken = json!({"a:b::": {"networking": {"priority": "high", "module": "m"}}});
        assert_eq!(
            networks_of_list_projection(&network_list_projection(&broken))
                .unwrap_err()
                .0,
            networks(&broken).unwrap_err().0
        );
    }

    #[test]
    fn no_networks() {
        assert_eq!(list_table(&[], &mut yes), "No networks found\n");
        let n = networks(&json!({"s:i:r:m": peer("h")})).unwrap();
        assert!(n.is_empty());
    }

    #[test]
    fn table_default_widths_and_peers() {
        let ex = json!({
            "a/internet:internet::": net(2000, "clan_lib.network.direct"),
            "a/internet:internet:default:jon": peer("1"),
            "a/internet:internet:default:sara": peer("2"),
            "a/internet:internet:default:vm1": peer("3"),
            "a/internet:internet:default:vm2": peer("4"),
            "a/internet:internet:default:vm3": peer("5"),
            "b/tor:tor::": net(10, "clan_lib.network.tor"),
            "other:internet:default:zed": peer("6"),
        });
        let n = networks(&ex).unwrap();
        let mut run = |n: &Network| {
            if n.name == "tor" {
                Running::No
            } else {
                Running::Yes
            }
        };
        assert_eq!(
            list_table(&n, &mut run),
            "Network       Priority  Module      Running   Peers\n\
             ---------------------------------------------------\n\
             internet      2000      direct      Yes       jon, sara, vm1 ...(2 more)\n\
             tor           10        tor         No        No peers\n"
        );
    }

    #[test]
    fn long_names_widen_columns_and_ties_keep_order() {
        let ex = json!({
            "s:a-very-long-network-name::": net(5, "x.some_long_module_name"),
            "s:b::": net(7, "clan_lib.network.direct"),
            "s:c::": net(5, "clan_lib.network.direct"),
            "s:c:r:m1": peer("h"),
        });
        let n = networks(&ex).unwrap();
        let t = list_table(&n, &mut yes);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "Network                   Priority  Module                 Running   Peers"
        );
        assert_eq!(lines[1].len(), lines[0].len());
        assert!(lines[2].starts_with("b                         7         direct"));
        assert!(lines[3].starts_with(
            "a-very-long-network-name  5         some_long_module_name  Yes       No peers"
        ));
        assert!(lines[4].ends_with("Yes       m1"));
    }

    #[test]
    fn last_definition_wins_in_first_place() {
        let ex = json!({
            "s1:n::": net(1, "clan_lib.network.direct"),
            "s1:n:r:a": peer("h1"),
            "s1:n:q:a": peer("h2"),
            "s1:n:z:b": peer("h3"),
            "s2:m::": net(3, "clan_lib.network.direct"),
            "s2:n::": net(2, "clan_lib.network.tor"),
        });
        let n = networks(&ex).unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].name, "n");
        assert_eq!(n[0].module, "clan_lib.network.tor");
        assert!(n[0].peers.is_empty());
        let ex2 = json!({"s1:n::": net(1, "m"), "s1:n:q:a": peer("h2"), "s1:n:r:a": peer("h1")});
        let n2 = networks(&ex2).unwrap();
        assert_eq!(n2[0].peers.len(), 1);
        assert_eq!(n2[0].peers[0].hosts, vec![json!({"plain": "h1"})]);
    }

    #[test]
    fn bad_keys_are_errors() {
        assert!(networks(&json!({"a:b": net(1, "m")})).is_err());
    }
}
