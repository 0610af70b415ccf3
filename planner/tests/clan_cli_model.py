#!/usr/bin/env python3
"""An independent model of clan-cli's query commands, for kith's tests.

Given a clan conformance case (a directory holding `expected.json`, or
`expected-partial.json` for a case clan-core rejects, with clan-core's own `inventory` and
`exports` views as `clan-oracle` computed them), print as JSON what clan-cli's algorithms
(../shared/reference/clan-cli.md §2-§3) give for:

- `machines list` and `machines list --tags T...` (§3.1);
- `network list` (§2.1, §2.2), with the Running column as on a machine running no Tor
  daemon and no ZeroTier (direct and p2p-ssh-iroh: Yes; tor, zerotier: No; a module clan
  does not ship: Error);
- `network resolve MACHINE` for every machine (§2.5): the candidates in clan's order,
  as the objects `kith network resolve --json` prints (`network`, `priority`, `module`,
  `host`, `var`, `var_state`, `port`, `user`, `ssh_options`), or clan's error text;
- `show` (§3.4).

A view that clan-core could not compute makes every command that needs it an error
(`{"error": true}`). Var hosts are read from the case's `vars/` directory (per-machine,
then shared); a var whose directory has a `secret*` entry is never read.

This is written from the algorithms' description, not from kith's code: it is what kith
is compared against. Usage: clan_cli_model.py CASE_DIR
"""

import itertools
import json
import os
import sys
import urllib.parse

RUNNING = {
    "clan_lib.network.direct": "Yes",
    "clan_lib.network.p2p_ssh_iroh": "Yes",
    "clan_lib.network.tor": "No",
    "clan_lib.network.zerotier": "No",
}
IROH = "clan_lib.network.p2p_ssh_iroh"
ERROR = {"error": True}


def load_views(case):
    for name in ("expected.json", "expected-partial.json"):
        path = os.path.join(case, name)
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
    raise SystemExit(f"{case}: no expected.json")


# --- machines (§3.1) -------------------------------------------------------------------


def machines_list(inventory, tags):
    out = []
    for name, machine in inventory["machines"].items():
        if all(t in machine.get("tags", []) for t in tags):
            out.append(name)
    return "".join(f"{n}\n" for n in sorted(out))


def tag_queries(inventory):
    tags = sorted({t for m in inventory["machines"].values() for t in m.get("tags", [])})
    queries = [[t] for t in tags]
    queries += [list(p) for p in itertools.combinations(tags, 2)]
    queries += [["nosuchtag"], ["all", "nosuchtag"]]
    return queries


def show(inventory):
    meta = inventory.get("meta", {})
    return (
        f"Name: {meta.get('name')}\n"
        f"Description: {meta.get('description', '-')}\n"
        f"Domain: {meta.get('domain')}\n"
    )


# --- networks (§2.1, §2.2) -------------------------------------------------------------


def split_key(key):
    service, instance, role, machine = key.split(":")
    return service or None, instance or None, role or None, machine or None


def networks_of(exports):
    nets = {}
    for key, value in exports.items():
        if value.get("networking") is None:
            continue
        service, instance, _, _ = split_key(key)
        if not instance:
            continue
        peers = {}
        for pkey, pvalue in exports.items():
            peer = pvalue.get("peer")
            if peer is None:
                continue
            pservice, pinstance, _, pmachine = split_key(pkey)
            if not pmachine or pservice != service or pinstance != instance:
                continue
            peers[pmachine] = peer
        nets[instance] = {
            "module": value["networking"]["module"],
            "priority": value["networking"]["priority"],
            "peers": peers,
        }
    return nets


def network_list(exports):
    nets = networks_of(exports)
    if not nets:
        return "No networks found\n"
    short = {n: v["module"].split(".")[-1] for n, v in nets.items()}
    wn = max([12] + [len(n) for n in nets])
    wm = max([10] + [len(s) for s in short.values()])
    header = f"{'Network':<{wn}}  {'Priority':<8}  {'Module':<{wm}}  {'Running':<8}  Peers"
    lines = [header, "-" * len(header)]
    for name, net in sorted(nets.items(), key=lambda kv: -kv[1]["priority"]):
        peers = list(net["peers"])
        if not peers:
            ptext = "No peers"
        elif len(peers) <= 3:
            ptext = ", ".join(peers)
        else:
            ptext = f"{', '.join(peers[:3])} ...({len(peers) - 3} more)"
        running = RUNNING.get(net["module"], "Error")
        lines.append(
            f"{name:<{wn}}  {net['priority']:<8}  {short[name]:<{wm}}  {running:<8}  {ptext}"
        )
    return "".join(line + "\n" for line in lines)


# --- candidates (§2.5) -----------------------------------------------------------------


def read_var(case, machine, generator, file):
    """(state, text) of a var: public/secret/missing/binary."""
    for d in (
        os.path.join(case, "vars", "per-machine", machine, generator, file),
        os.path.join(case, "vars", "shared", generator, file),
    ):
        if not os.path.isdir(d):
            continue
        if any(e == "secret" or e.startswith("secret.") for e in os.listdir(d)):
            return "secret", None
        value = os.path.join(d, "value")
        if not os.path.isfile(value):
            return "missing", None
        with open(value, "rb") as f:
            data = f.read()
        try:
            return "public", data.decode()
        except UnicodeDecodeError:
            return "binary", None
    return "missing", None


def target_host(address):
    """clan's `[ssh://][user@]host[:port][?opt=v&...]`, with urllib for the host part."""
    address = address.removeprefix("ssh://")
    endpoint, _, options = address.partition("?")
    user, at, host_port = endpoint.rpartition("@")
    if endpoint.count("@") > 1:
        raise ValueError("Invalid host")
    if not at:
        user = "root"
    opts = [o for o in options.split("&") if o]
    split = urllib.parse.urlsplit(f"//{host_port}")
    return {
        "host": split.hostname,
        "port": split.port,
        "user": user,
        "ssh_options": opts,
    }


def candidate(network, net, **kw):
    c = {
        "network": network,
        "priority": net["priority"] if net else None,
        "module": net["module"] if net else None,
        "host": None,
        "var": None,
        "var_state": None,
        "port": None,
        "user": "root",
        "ssh_options": [],
    }
    c.update(kw)
    return c


def resolve(case, inventory, exports, machine):
    out = []
    th = inventory["machines"][machine].get("deploy", {}).get("targetHost")
    if th:
        out.append(candidate(None, None, **target_host(th)))
    nets = networks_of(exports) if exports is not None else {}
    for name, net in sorted(nets.items(), key=lambda kv: -kv[1]["priority"]):
        peer = net["peers"].get(machine)
        if peer is None:
            continue
        user = peer.get("user") if peer.get("user") is not None else "root"
        base = {"port": peer.get("port", 22), "user": user, "ssh_options": peer.get("SSHOptions", [])}
        if net["module"] == IROH:
            gen = f"p2p-ssh-iroh-{name}"
            state, ticket = read_var(case, machine, gen, "ticket")
            if state == "public":
                out.append(
                    candidate(
                        name, net, **{**base, "host": machine, "var": f"{machine}/{gen}/ticket",
                                      "var_state": "public", "port": None,
                                      "ssh_options": [f"ProxyCommand=dumbpipe connect {ticket.strip()}"]}
                    )
                )
            continue
        for h in peer.get("hosts", []):
            if "plain" in h:
                out.append(candidate(name, net, host=h["plain"], **base))
            else:
                v = h["var"]
                state, text = read_var(case, v["machine"], v["generator"], v["file"])
                out.append(
                    candidate(
                        name, net, host=text.strip() if state == "public" else None,
                        var=f"{v['machine']}/{v['generator']}/{v['file']}", var_state=state, **base
                    )
                )
    if not out:
        return {
            "error": f"Could not find any way to connect to machine '{machine}'. "
            "No targetHost configured and machine not reachable via any network."
        }
    return out


def main():
    case = os.path.abspath(sys.argv[1])
    views = load_views(case)
    inventory = views.get("inventory")
    exports = views.get("exports")
    result = {}
    if inventory is None:
        result["machines list"] = ERROR
        result["machines list --tags"] = {}
        result["show"] = ERROR
    else:
        result["machines list"] = machines_list(inventory, [])
        result["machines list --tags"] = {
            " ".join(q): machines_list(inventory, q) for q in tag_queries(inventory)
        }
        result["show"] = show(inventory)
    result["network list"] = ERROR if exports is None else network_list(exports)
    resolved = {}
    if inventory is not None:
        for m in inventory["machines"]:
            resolved[m] = ERROR if exports is None else resolve(case, inventory, exports, m)
    result["network resolve"] = resolved
    json.dump(result, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
