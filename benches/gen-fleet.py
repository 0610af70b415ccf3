#!/usr/bin/env python3
"""Writes a synthetic clan fleet: a clan directory in the conformance-case format.

    benches/gen-fleet.py N OUT_DIR [--instances M] [--seed S] [--force]

OUT_DIR gets `flake.nix` (the conformance cases' one), `clan.nix` (the `{ lib, ... }:` form),
`inventory.json`, `machines/<name>/configuration.nix` (empty), two self services under
`modules/`, and the public vars their exports read. The same N, M and seed give the same
bytes.

The fleet:
- N machines from three sources: inventory.json (~40%), machines/ directories (~20%), Nix
  `inventory.machines` (~40%); about 1 in 25 is darwin (never a directory machine).
- Static tags on machines, in Nix and in JSON (some machines in both): a kind tag (web, db,
  cache, build, edge; `mac` for darwin), `rack-<k>` (10 machines a rack) and `monitored`.
  `inventory.tags` adds `backbone` (a static list, every 20th machine), `mesh` (computed: the
  nixos machines not in backbone) and `reachable` (computed: machines with a deploy.targetHost).
- M instances (default N/50 + 5), in turn internet, zerotier, tor, beacon, catalog; each
  kind's instances split the machines into contiguous chunks:
  * internet (clan-core): every machine of the chunk with a host (settings per machine, in
    JSON for JSON machines, else in Nix), role-level `user = mkDefault`, the first instance
    also matches tag `backbone` with `port = mkForce 2222`;
  * zerotier (clan-core): one controller, peers by the chunk's rack tags (the first instance
    also by `backbone`); writes `vars/shared/zerotier-ip-<M>-<I>/ip/value` for every member;
  * tor (clan-core): every 4th machine of the chunk a server (some with settings), clients by
    rack tags; tor's peer hosts are var references, no file needed;
  * beacon (self, `modules/beacon.nix`): 1-3 servers, clients by rack tags in the attribute
    form with tag settings; int/str/listOf/attrsOf options, mkDefault (role), plain (tag),
    mkForce (machine); perInstance exports `peer` read from
    `vars/per-machine/<M>/beacon/address/value`, perMachine exports `endpoints`, service-level
    `networking`; constraints on the server role;
  * catalog (self, `modules/catalog.nix`): one role `default` by rack tags plus explicit
    machines, exporting `endpoints` and `dataMesher` data; every second instance declared
    entirely in inventory.json.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import sys

FLAKE_NIX = """{
  inputs.clan-core.url = "https://git.clan.lol/clan/clan-core/archive/main.tar.gz";
  inputs.nixpkgs.follows = "clan-core/nixpkgs";
  outputs = { self, clan-core, ... }:
    let clan = clan-core.lib.clan { inherit self; imports = [ ./clan.nix ]; };
    in {
      inherit (clan.config) nixosConfigurations darwinConfigurations clanInternals;
      clan = clan.config;
    };
}
"""

BEACON_NIX = """# Synthetic fleet service: every member announces itself as an SSH peer, reachable at the
# address in its public var `beacon/address`; each instance is a network of priority 1500.
{
  config,
  clanLib,
  lib,
  directory,
  ...
}:
let
  interface =
    { lib, ... }:
    {
      options = {
        port = lib.mkOption {
          type = lib.types.int;
          default = 7946;
        };
        region = lib.mkOption {
          type = lib.types.str;
          default = "eu-central";
        };
        weight = lib.mkOption {
          type = lib.types.int;
          default = 10;
        };
        aliases = lib.mkOption {
          type = lib.types.listOf lib.types.str;
          default = [ ];
        };
        labels = lib.mkOption {
          type = lib.types.attrsOf lib.types.str;
          default = { };
        };
      };
    };

  perInstance =
    {
      machine,
      settings,
      mkExports,
      ...
    }:
    {
      exports = mkExports {
        peer = {
          hosts = [
            {
              plain = clanLib.getPublicValue {
                machine = machine.name;
                generator = "beacon";
                file = "address";
                flake = directory;
              };
            }
          ]
          ++ map (alias: { plain = alias; }) settings.aliases;
          port = settings.port;
          user = settings.labels.user or null;
          SSHOptions = lib.mapAttrsToList (k: v: "-o SetEnv=BEACON_${k}=${v}") (
            builtins.removeAttrs settings.labels [ "user" ]
          )
          ++ [ "-o SetEnv=BEACON_REGION=${settings.region}/${toString settings.weight}" ];
        };
      };
    };
in
{
  _class = "clan.service";
  manifest.name = "fleet/beacon";
  manifest.description = "Synthetic peer announcement";
  manifest.readme = "Benchmark service: peers from a per-machine public var.";
  manifest.exports.out = [
    "networking"
    "peer"
    "endpoints"
  ];
  manifest.constraints.roles.server = {
    minMachines = 1;
    maxMachines = 3;
  };

  exports = lib.mapAttrs' (instanceName: _: {
    name = clanLib.buildScopeKey {
      inherit instanceName;
      serviceName = config.manifest.name;
    };
    value.networking = {
      priority = 1500;
      module = "clan_lib.network.direct";
    };
  }) config.instances;

  roles.server = {
    description = "Beacon server";
    inherit interface perInstance;
  };
  roles.client = {
    description = "Beacon client";
    inherit interface perInstance;
  };

  perMachine =
    {
      machine,
      instances,
      mkExports,
      ...
    }:
    {
      exports = mkExports {
        endpoints.hosts = lib.concatLists (
          lib.mapAttrsToList (
            instanceName: instance:
            lib.mapAttrsToList (roleName: _: "${instanceName}/${roleName}") (
              lib.filterAttrs (_: role: role.machines ? ${machine.name}) instance.roles
            )
          ) instances
        );
      };
    };
}
"""

CATALOG_NIX = """# Synthetic fleet service: publishes per-machine scrape targets (`endpoints`) and
# data-mesher namespaces, and per instance the list of its members.
{
  config,
  clanLib,
  lib,
  ...
}:
{
  _class = "clan.service";
  manifest.name = "fleet/catalog";
  manifest.description = "Synthetic data catalog";
  manifest.readme = "Benchmark service: non-networking exports.";
  manifest.exports.out = [
    "endpoints"
    "dataMesher"
  ];
  manifest.constraints.roles.default.minMachines = 1;

  exports = lib.mapAttrs' (instanceName: instance: {
    name = clanLib.buildScopeKey {
      inherit instanceName;
      serviceName = config.manifest.name;
    };
    value.endpoints.hosts = lib.attrNames (instance.roles.default.machines or { });
  }) config.instances;

  roles.default = {
    description = "Catalog member";
    interface =
      { lib, ... }:
      {
        options = {
          namespace = lib.mkOption {
            type = lib.types.str;
            default = "fleet";
          };
          interval = lib.mkOption {
            type = lib.types.int;
            default = 60;
          };
          targets = lib.mkOption {
            type = lib.types.listOf lib.types.str;
            default = [ "node" ];
          };
          files = lib.mkOption {
            type = lib.types.attrsOf (lib.types.listOf lib.types.str);
            default = { };
          };
        };
      };
    perInstance =
      {
        instanceName,
        machine,
        settings,
        mkExports,
        ...
      }:
      {
        exports = mkExports {
          endpoints.hosts = map (
            t: "${t}://${machine.name}/${instanceName}?every=${toString settings.interval}"
          ) settings.targets;
          dataMesher = {
            namespaces = [ "${settings.namespace}/${instanceName}" ];
            inherit (settings) files;
          };
        };
      };
  };
}
"""

KINDS = ["web", "db", "cache", "build", "edge"]
RACK_SIZE = 10
NIX_KEYWORDS = {"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"}
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")


class Raw:
    """A Nix expression written verbatim."""

    def __init__(self, text):
        self.text = text


def mk_default(v):
    return Raw(f"lib.mkDefault {to_nix(v, 0)}")


def mk_force(v):
    return Raw(f"lib.mkForce {to_nix(v, 0)}")


def nix_key(k):
    return k if IDENT.match(k) and k not in NIX_KEYWORDS else json.dumps(k)


def nix_str(s):
    return json.dumps(s).replace("${", "\\${")


def to_nix(v, ind):
    pad, pad2 = "  " * ind, "  " * (ind + 1)
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return nix_str(v)
    if isinstance(v, (list, dict)) and v:
        flat = to_nix_flat(v)
        if flat is not None and len(flat) + 2 * ind <= 80:
            return flat
    if isinstance(v, list):
        if not v:
            return "[ ]"
        return "[\n" + "".join(f"{pad2}{to_nix(x, ind + 1)}\n" for x in v) + pad + "]"
    if isinstance(v, dict):
        if not v:
            return "{ }"
        lines = []
        for k in sorted(v):
            lines.append(f"{pad2}{nix_key(k)} = {to_nix(v[k], ind + 1)};\n")
        return "{\n" + "".join(lines) + pad + "}"
    raise TypeError(type(v))


def to_nix_flat(v):
    """v on one line, or None when it nests lists of sets or sets of more than two entries."""
    if isinstance(v, list):
        if len(v) > 1 and not all(isinstance(x, (str, int, Raw)) for x in v):
            return None
        inner = [to_nix_flat(x) for x in v]
        return None if None in inner else "[ " + " ".join(inner) + " ]" if v else "[ ]"
    if isinstance(v, dict):
        if len(v) > 2:
            return None
        parts = []
        for k in sorted(v):
            x = to_nix_flat(v[k])
            if x is None:
                return None
            parts.append(f"{nix_key(k)} = {x};")
        return "{ " + " ".join(parts) + " }" if v else "{ }"
    return to_nix(v, 0)


def digest(*parts):
    return hashlib.sha256("\0".join(parts).encode()).digest()


def chunks(items, k):
    """k contiguous, near-equal, non-empty slices of items (k <= len(items))."""
    n = len(items)
    return [items[n * t // k : n * (t + 1) // k] for t in range(k)]


def nested(d, *path):
    for p in path:
        d = d.setdefault(p, {})
    return d


class Fleet:
    def __init__(self, n, m, seed):
        import random

        self.rng = random.Random(seed)
        self.n, self.m, self.seed = n, m, seed
        width = max(3, len(str(n - 1)))
        self.machines = []  # dicts: name, index, source, cls, kind, rack
        for i in range(n):
            darwin = self.rng.random() < 0.04
            kind = "mac" if darwin else self.rng.choice(KINDS)
            r = self.rng.random()
            source = "json" if r < 0.4 else ("dir" if r < 0.6 and not darwin else "nix")
            self.machines.append(
                {
                    "name": f"{kind}-{i:0{width}d}",
                    "index": i,
                    "source": source,
                    "cls": "darwin" if darwin else "nixos",
                    "kind": kind,
                    "rack": f"rack-{i // RACK_SIZE}",
                }
            )
        self.by_name = {mc["name"]: mc for mc in self.machines}
        self.nix_machines = {}
        self.json_machines = {}
        self.static_tags = {}  # name -> [tags], Nix first then JSON (as clan orders them)
        self.target_host = {}
        self.nix_instances = {}
        self.json_instances = {}
        self.vars = {}  # relative path -> content
        self.assign_machines()
        self.computed_tags()
        self.instances()

    # -- machines and tags -------------------------------------------------------------
    def assign_machines(self):
        for mc in self.machines:
            name, i = mc["name"], mc["index"]
            base = [mc["kind"], mc["rack"]]
            nix_tags, json_tags = [], []
            if mc["source"] == "nix":
                entry = nested(self.nix_machines, name)
                nix_tags = base
                if mc["cls"] == "darwin":
                    entry["machineClass"] = "darwin"
                if i % 9 == 0:
                    entry["description"] = f"{mc['kind']} node {i}"
                if i % 7 == 0:  # tags from both sources
                    json_tags = ["monitored"]
            elif mc["source"] == "json":
                entry = nested(self.json_machines, name)
                json_tags = base + (["monitored"] if i % 3 == 0 else [])
                if mc["cls"] == "darwin":
                    entry["machineClass"] = "darwin"
                if i % 2 == 0:
                    self.target_host[name] = f"root@{name}.fleet.example"
                    entry["deploy"] = {"targetHost": self.target_host[name]}
                if i % 5 == 0:
                    entry["installedAt"] = 1700000000 + i
            else:  # machines/<name>/: tags from JSON or Nix, half each
                if i % 2 == 0:
                    json_tags = base
                else:
                    nix_tags = base
            if nix_tags:
                nested(self.nix_machines, name)["tags"] = nix_tags
            if json_tags:
                nested(self.json_machines, name)["tags"] = json_tags
            self.static_tags[name] = list(dict.fromkeys(nix_tags + json_tags))

    def computed_tags(self):
        names = [mc["name"] for mc in self.machines]
        nixos = [mc["name"] for mc in self.machines if mc["cls"] == "nixos"]
        darwin = [mc["name"] for mc in self.machines if mc["cls"] == "darwin"]
        self.backbone = names[::20]
        bb = set(self.backbone)
        self.inv_tags = {
            "all": names,
            "nixos": nixos,
            "darwin": darwin,
            "backbone": self.backbone,
            "mesh": [x for x in nixos if x not in bb],
            "reachable": [x for x in names if x in self.target_host],
        }
        tag_members = {t: set(ms) for t, ms in self.inv_tags.items()}
        self.tags = {}
        for name in names:
            extra = sorted(t for t, ms in tag_members.items() if name in ms)
            self.tags[name] = list(dict.fromkeys(self.static_tags[name] + extra))

    def tagged(self, tag):
        return [mc["name"] for mc in self.machines if tag in self.tags[mc["name"]]]

    def racks_of(self, chunk):
        return list(dict.fromkeys(self.by_name[x]["rack"] for x in chunk))

    # -- instances ---------------------------------------------------------------------
    def instances(self):
        kinds = ["internet", "zerotier", "tor", "beacon", "catalog"]
        plan = {k: [] for k in kinds}
        for j in range(self.m):
            plan[kinds[j % len(kinds)]].append(j)
        names = [mc["name"] for mc in self.machines]
        for kind in kinds:
            count = min(len(plan[kind]), len(names))
            for t, chunk in enumerate(chunks(names, count)):
                inst = kind if t == 0 and kind in ("internet", "tor") else f"{kind}-{t + 1}"
                getattr(self, f"inst_{kind}")(inst, t, chunk)

    def settings_home(self, name):
        """Where a machine's instance settings live: JSON for JSON machines, else Nix."""
        return self.json_instances if self.by_name[name]["source"] == "json" else self.nix_instances

    def inst_internet(self, inst, t, chunk):
        nix = nested(self.nix_instances, inst)
        if inst != "internet":
            nix["module"] = {"name": "internet"}
        nested(nix, "roles", "default")["settings"] = {"user": mk_default("ops")}
        for x in chunk:
            i = self.by_name[x]["index"]
            s = {"host": f"{x}.dc{t}.fleet.example" if i % 4 else f"198.51.{i // 250 % 256}.{i % 250 + 1}"}
            if i % 5 == 0:
                s["port"] = 2200 + i % 50
            if i % 3 == 0:
                s["user"] = "deploy"
            if i % 11 == 0:
                s["jumphosts"] = [f"root@bastion{t}.fleet.example"]
            nested(self.settings_home(x), inst, "roles", "default", "machines", x)["settings"] = s
        if t == 0:
            nested(nix, "roles", "default", "tags", "backbone")["settings"] = {"port": mk_force(2222)}

    def inst_zerotier(self, inst, t, chunk):
        nix = nested(self.nix_instances, inst)
        nix["module"] = {"name": "zerotier"}
        controller = next((x for x in chunk if self.by_name[x]["cls"] == "nixos"), chunk[0])
        ctl = {"allowedIps": [f"fd00:{t:x}::1"]} if t % 2 else {}
        nested(nix, "roles", "controller", "machines", controller)
        if ctl:
            nix["roles"]["controller"]["machines"][controller]["settings"] = ctl
        tags = self.racks_of(chunk) + (["backbone"] if t == 0 else [])
        nested(nix, "roles", "peer")["tags"] = tags
        members = {controller}
        for tag in tags:
            members.update(self.tagged(tag))
        net = digest(str(self.seed), inst).hex()[:16]
        self.vars[f"vars/shared/zerotier-network-{inst}/network-id/value"] = net
        for x in sorted(members):
            h = digest(str(self.seed), inst, x).hex()
            ip = f"fd{net[:2]}:{net[2:6]}:{net[6:10]}:{net[10:14]}:99{net[14:16]}:93{h[:2]}:{h[2:6]}:{h[6:10]}"
            self.vars[f"vars/shared/zerotier-ip-{x}-{inst}/ip/value"] = ip

    def inst_tor(self, inst, t, chunk):
        nix = nested(self.nix_instances, inst)
        if inst != "tor":
            nix["module"] = {"name": "tor"}
        server = nested(nix, "roles", "server")
        server["settings"] = {"secretHostname": mk_default(True)}
        for x in chunk[::4]:
            i = self.by_name[x]["index"]
            entry = nested(server, "machines", x)
            if i % 3 == 0:
                entry["settings"] = {"portMapping": [{"port": 80, "target": {"port": 8080}}]}
            elif i % 3 == 1:
                entry["settings"] = {"secretHostname": False}
        nested(nix, "roles", "client")["tags"] = self.racks_of(chunk)

    def inst_beacon(self, inst, t, chunk):
        nix = nested(self.nix_instances, inst)
        nix["module"] = {"name": "beacon", "input": "self"}
        servers = chunk[: 1 + t % 3]
        srv = nested(nix, "roles", "server")
        srv["settings"] = {"weight": mk_default(50)}
        for k, x in enumerate(servers):
            nested(srv, "machines", x)["settings"] = {
                "region": f"dc{t}",
                "aliases": [f"{x}.beacon.fleet.example"],
                "labels": {"owner": "ops", "user": "beacon"} if k == 0 else {"owner": "ops"},
            }
        cl = nested(nix, "roles", "client")
        cl["settings"] = {"weight": mk_default(5), "labels": {"tier": "client"}}
        racks = self.racks_of(chunk)
        cl["tags"] = {r: {"settings": {"weight": 20, "region": f"dc{t}-{r}"}} for r in racks}
        members = set(servers)
        for r in racks:
            members.update(self.tagged(r))
        clients = sorted(members - set(servers))
        for k, x in enumerate(clients):
            if k % 10 == 3:  # machine-level mkForce over the tag's plain weight
                nested(cl, "machines", x)["settings"] = {"weight": mk_force(99)}
            elif k % 10 == 6 and self.by_name[x]["source"] == "json":
                nested(self.json_instances, inst, "roles", "client", "machines", x)["settings"] = {
                    "port": 7000 + k % 100,
                    "aliases": [f"{x}.alt.fleet.example"],
                }
        for x in sorted(members):
            h = digest(str(self.seed), "beacon", x)
            self.vars[f"vars/per-machine/{x}/beacon/address/value"] = f"10.{h[0]}.{h[1]}.{h[2] or 1}"

    def inst_catalog(self, inst, t, chunk):
        in_json = t % 2 == 1
        home = self.json_instances if in_json else self.nix_instances
        spec = nested(home, inst)
        spec["module"] = {"name": "catalog", "input": "self"}
        role = nested(spec, "roles", "default")
        role["tags"] = self.racks_of(chunk)[:2]
        role["settings"] = {"namespace": f"catalog{t}"} if in_json else {"interval": mk_default(30), "namespace": f"catalog{t}"}
        for x in chunk[::7]:
            i = self.by_name[x]["index"]
            nested(role, "machines", x)["settings"] = {
                "targets": ["node", "blackbox"] if i % 2 else ["node"],
                "files": {f"{x}.pub": [f"key-{i}"]},
            }

    # -- output ------------------------------------------------------------------------
    def clan_nix(self):
        bb = "\n".join(f"          {nix_str(x)}" for x in self.backbone)
        return f"""# Synthetic fleet: {self.n} machines, {self.m} instances, seed {self.seed} (benches/gen-fleet.py).
{{ lib, ... }}:
{{
  meta.name = "fleet";

  modules.beacon = ./modules/beacon.nix;
  modules.catalog = ./modules/catalog.nix;

  inventory = {{
    machines = {to_nix(self.nix_machines, 2)};

    tags =
      {{ config, machines, ... }}:
      {{
        backbone = [
{bb}
        ];
        mesh = builtins.filter (n: !builtins.elem n config.backbone) config.nixos;
        reachable = builtins.filter (n: machines.${{n}}.deploy.targetHost != null) config.all;
      }};

    instances = {to_nix(self.nix_instances, 2)};
  }};
}}
"""

    def write(self, out):
        os.makedirs(out, exist_ok=True)
        files = {
            "flake.nix": FLAKE_NIX,
            "clan.nix": self.clan_nix(),
            "inventory.json": json.dumps(
                {
                    "meta": {"description": "written by the CLI"},
                    "machines": self.json_machines,
                    "instances": self.json_instances,
                },
                indent=2,
                sort_keys=True,
            )
            + "\n",
            "modules/beacon.nix": BEACON_NIX,
            "modules/catalog.nix": CATALOG_NIX,
            "README.md": f"Synthetic fleet from `benches/gen-fleet.py {self.n} OUT --instances {self.m} --seed {self.seed}`.\n",
        }
        for mc in self.machines:
            if mc["source"] == "dir":
                files[f"machines/{mc['name']}/configuration.nix"] = ""
        files.update(self.vars)
        for rel, text in sorted(files.items()):
            path = os.path.join(out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return len(files)


def main():
    ap = argparse.ArgumentParser(description="Write a synthetic clan fleet (conformance-case format).")
    ap.add_argument("n", type=int, metavar="N", help="number of machines (>= 5)")
    ap.add_argument("out", metavar="OUT_DIR", help="directory to write (must be empty or absent)")
    ap.add_argument("--instances", type=int, metavar="M", help="number of service instances (default N/50 + 5, at least 5)")
    ap.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    ap.add_argument("--force", action="store_true", help="empty OUT_DIR first if it exists")
    a = ap.parse_args()
    if a.n < 5:
        sys.exit("gen-fleet: N must be at least 5")
    m = a.instances if a.instances is not None else a.n // 50 + 5
    if m < 5:
        sys.exit("gen-fleet: --instances must be at least 5 (one of each kind)")
    if m > 5 * a.n:
        sys.exit("gen-fleet: --instances must be at most 5 N (each instance needs a machine of its own)")
    if os.path.exists(a.out) and os.listdir(a.out):
        if not a.force:
            sys.exit(f"gen-fleet: {a.out} is not empty (use --force to replace it)")
        shutil.rmtree(a.out)
    count = Fleet(a.n, m, a.seed).write(a.out)
    print(f"gen-fleet: {a.n} machines, {m} instances, {count} files in {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
