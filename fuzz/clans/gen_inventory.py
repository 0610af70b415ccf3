"""Inventory-level clans: machines from every source, tags, instances, priorities.

Machines come from inventory.json, machines/ directories, top-level `machines` and Nix
definitions spread over imported modules, with `mkDefault`/`mkForce`/`mkOverride`/
`mkBefore`/`mkMerge`/`mkIf`; computed tags; instances of clan-core's internet, tor and
hello-world services and of an own probe service whose exports show what it was given.
About one seed in five injects an invalidity (conflict, bad name, unknown module/role,
bad setting...). Seeds from 1000 add more forms (removed options, odd settings forms),
seeds from 2000 type errors.
"""
import json
import random

from clanfuzz import FLAKES, Raw, nix, nkey, nlist, nstr, write_files

PROBE = r'''{ config, clanLib, lib, ... }:
let
  names = attrs: lib.concatStringsSep "," (lib.attrNames attrs);
  interface =
    { lib, ... }:
    {
      options.greeting = lib.mkOption { type = lib.types.str; default = "hello"; };
      options.count = lib.mkOption { type = lib.types.int; default = 1; };
      options.flags = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; };
      options.limits = lib.mkOption { type = lib.types.attrsOf lib.types.int; default = { }; };
      options.mode = lib.mkOption { type = lib.types.enum [ "a" "b" "c" ]; default = "a"; };
      options.enable = lib.mkOption { type = lib.types.bool; default = false; };
      options.opt = lib.mkOption { type = lib.types.nullOr lib.types.str; default = null; };
    };
  perInstance =
    { instanceName, machine, roles, settings, mkExports, meta, ... }:
    {
      exports = mkExports {
        endpoints.hosts = [
          "i=${instanceName}"
          "m=${machine.name}"
          "mroles=${lib.concatStringsSep "," machine.roles}"
          "s=${builtins.toJSON settings}"
          "meta=${builtins.toJSON meta}"
        ]
        ++ lib.mapAttrsToList (r: v: "roles.${r}=${names v.machines}") roles;
      };
    };
in
{
  _class = "clan.service";
  manifest.name = "fuzz/probe";
  manifest.description = "probe";
  manifest.readme = "probe";
  manifest.exports.out = [ "endpoints" ];
  exports = lib.mkMerge (
    lib.mapAttrsToList (instanceName: instance: {
      ${clanLib.buildScopeKey { inherit instanceName; serviceName = config.manifest.name; }} = {
        endpoints.hosts = lib.mapAttrsToList (r: v: "${r}=${names v.machines}") instance.roles;
      };
    }) config.instances
  );
  roles.server = { description = "Server"; inherit interface perInstance; };
  roles.client = { description = "Client"; inherit interface perInstance; };
  roles.bare = {
    description = "no interface";
    perInstance = { machine, settings, mkExports, ... }: {
      exports = mkExports { endpoints.hosts = [ "bare=${machine.name}" ]; };
    };
  };
  perMachine =
    { machine, instances, mkExports, ... }:
    {
      exports = mkExports {
        endpoints.hosts = [
          "pm=${machine.name}"
          "pmroles=${lib.concatStringsSep "," machine.roles}"
          "instances=${names instances}"
        ];
      };
    };
}
'''

MACHINE_POOL = ["jon", "sara", "bob", "kim", "alpha", "beta", "gamma", "mac", "mini", "web1", "db1", "edge"]
TAG_POOL = ["web", "db", "rack1", "fast", "laptop", "backup", "edge", "dmz"]


class Gen:
    """One clan, drawn from random.Random(seed); build() writes it."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.seed = seed
        self.json = {}
        self.dirs = set()
        self.clan_machines = set()
        # modules: list of dicts path-tuple -> nix expr (string). module 0 = clan.nix
        self.mods = [dict()]
        self.inv_function = self.r.random() < 0.25
        self.invalid = []  # descriptions of deliberate invalidities
        self.uses_probe = False
        self.meta_in_clan = {}
        KINDS = ["conflict", "meta_name", "no_meta_name", "domain", "tld", "machineClass", "tagrec",
                 "unknown_module", "unknown_input", "unknown_role", "bad_setting", "settings_both", "settings_twice_nix"]
        if seed >= 1000:
            KINDS += ["services", "settings_form", "module_name_conflict", "meta_conflict"]
        if seed >= 2000:
            KINDS += ["typeerr", "typeerr", "settings_form"]
        self.bad_kind = self.pick(KINDS) if self.chance(0.2 if seed < 1000 else 0.3) else None

    def chance(self, p):
        """True with probability p."""
        return self.r.random() < p

    def pick(self, xs):
        """One element of xs."""
        return self.r.choice(xs)

    # ---- definitions ---------------------------------------------------------
    def nix_def(self, path, expr, mod=None):
        """Add one Nix definition of path; picks a module where the path is free."""
        cands = list(range(len(self.mods))) if mod is None else [mod]
        self.r.shuffle(cands)
        for i in cands:
            if self._free(self.mods[i], path):
                self.mods[i][path] = expr
                return i
        self.mods.append({path: expr})
        return len(self.mods) - 1

    def _free(self, m, path):
        """Whether module m defines neither path nor a prefix or extension of it."""
        for p in m:
            n = min(len(p), len(path))
            if p[:n] == path[:n]:
                return False
        return True

    def want(self, kind, p=0.5):
        """Whether to inject the invalidity `kind` here (the seed's kind, with probability p)."""
        return self.bad_kind == kind and self.chance(p)

    def json_set(self, path, value):
        """Set an inventory path in inventory.json."""
        if path[0] == "inventory":
            path = path[1:]
        d = self.json
        for k in path[:-1]:
            d = d.setdefault(k, {})
        d[path[-1]] = value

    # ---- priorities ------------------------------------------------------------
    def wrap_scalar(self, expr, prio):
        """expr at priority prio (mkDefault, mkForce or mkOverride)."""
        if prio == 100:
            return expr
        if prio == 1000 and self.chance(0.7):
            return f"lib.mkDefault {expr}"
        if prio == 50 and self.chance(0.7):
            return f"lib.mkForce {expr}"
        return f"lib.mkOverride {prio} {expr}"

    def scalar(self, path, values, allow_json=True):
        """Define a scalar in 1..3 places with priorities that mostly do not conflict."""
        n = self.pick([1, 1, 1, 2, 2, 3])
        conflict = self.want("conflict", 0.3)
        prios = []
        for _ in range(n):
            prios.append(self.pick([100, 100, 1000, 50, 900, 1200, 60]))
        vals = [self.pick(values) for _ in range(n)]
        top = min(prios)
        tops = [i for i, p in enumerate(prios) if p == top]
        if len(tops) > 1 and not conflict:
            for i in tops:
                vals[i] = vals[tops[0]]
        if conflict and n >= 2:
            prios = [100] * n
            vals = list(vals)
            if vals[0] == vals[1]:
                alt = [v for v in values if v != vals[0]]
                if alt:
                    vals[1] = alt[0]
            self.invalid.append(f"conflict {'.'.join(path)}")
        used_json = False
        for p, v in zip(prios, vals):
            if allow_json and p == 100 and not used_json and self.chance(0.4):
                self.json_set(path, v)
                used_json = True
            else:
                self.nix_def(path, self.wrap_scalar(nix(v, inline=True), p))

    def listdef(self, path, pool, allow_json=True):
        """Define a list in 1..3 places, with ordering and priority wrappers."""
        n = self.pick([1, 1, 2, 2, 3])
        used_json = False
        for _ in range(n):
            xs = self.r.sample(pool, self.r.randint(0, 3))
            if allow_json and not used_json and self.chance(0.35):
                self.json_set(path, xs)
                used_json = True
                continue
            form = self.pick(["plain", "plain", "mkDefault", "mkForce", "mkBefore", "mkAfter", "mkMerge", "mkOverride"])
            e = nlist(xs)
            if form == "mkDefault":
                e = f"lib.mkDefault {e}"
            elif form == "mkForce":
                e = f"lib.mkForce {e}"
            elif form == "mkBefore":
                e = f"lib.mkBefore {e}"
            elif form == "mkAfter":
                e = f"lib.mkAfter {e}"
            elif form == "mkOverride":
                e = f"lib.mkOverride {self.pick([10, 99, 101, 999, 1001])} {e}"
            elif form == "mkMerge":
                ys = self.r.sample(pool, self.r.randint(0, 2))
                e = f"lib.mkMerge [ {e} (lib.mkIf {self.pick(['true', 'false'])} {nlist(ys)}) ]"
            self.nix_def(path, e)

    # ---- parts -------------------------------------------------------------------
    def gen_meta(self):
        """meta.name (or none, or an invalid one), description, icon, domain, tld."""
        name = self.pick(["fuzz", "my-clan", "clan_2", "A", ""])
        where = self.pick(["clan", "clan", "inv", "json", "json+default", "missing"])
        if self.want("meta_name", 1):
            name = self.pick(["a b", "bad.name", "é"])
            self.invalid.append("bad meta.name")
        if where == "missing" and not self.want("no_meta_name", 1):
            where = "clan"
        if where == "missing":
            self.invalid.append("no meta.name")
        elif where == "clan":
            self.meta_in_clan["name"] = nstr(name)
        elif where == "inv":
            self.nix_def(("inventory", "meta", "name"), nstr(name))
        elif where == "json":
            self.json_set(("meta", "name"), name)
        else:
            self.json_set(("meta", "name"), name)
            self.meta_in_clan["name"] = f"lib.mkDefault {nstr('default-name')}"
        for fld, vals in [("description", ["a clan", "desc from x", None]), ("icon", ["icon.svg", None])]:
            if self.chance(0.4):
                self.scalar(("inventory", "meta", fld), vals, allow_json=False) if self.chance(0.5) else self.json_set(("meta", fld), self.pick(vals))
        if self.chance(0.35):
            dom = self.pick(["example.com", "x", "lan", "my-clan.org", "a.b.c"])
            if self.want("domain", 1):
                dom = self.pick(["Bad_Domain", "-x.com", "a..b"])
                self.invalid.append("bad domain")
            w = self.pick(["clan", "inv", "json"])
            if w == "clan":
                self.meta_in_clan["domain"] = nstr(dom)
            elif w == "inv":
                self.scalar(("inventory", "meta", "domain"), [dom], allow_json=False)
            else:
                self.json_set(("meta", "domain"), dom)
        if self.chance(0.15):
            tld = self.pick(["lan", "home", "internal"])
            if self.want("tld", 1):
                tld = "LAN1"
                self.invalid.append("bad tld")
            if self.chance(0.5):
                self.meta_in_clan["tld"] = nstr(tld)
            else:
                self.json_set(("meta", "tld"), tld)

    def gen_machines(self):
        """Machines from one or more sources, with their fields."""
        k = self.r.randint(1, 7)
        self.machines = self.r.sample(MACHINE_POOL, k)
        for m in self.machines:
            srcs = [s for s in ["json", "dir", "clan", "nix"] if self.chance(0.35)] or [self.pick(["json", "dir", "clan", "nix"])]
            if "dir" in srcs:
                self.dirs.add(m)
            if "clan" in srcs:
                self.clan_machines.add(m)
            if "json" in srcs:
                self.json_set(("machines", m), {})
            if "nix" in srcs and self.chance(0.5):
                self.nix_def(("inventory", "machines", m), self.pick(["{ }", "lib.mkIf true { }", "{ }"]))
            base = ("inventory", "machines", m)
            # fields
            if self.chance(0.4):
                self.scalar(base + ("description",), ["d1", "d2", "from json", None])
            if self.chance(0.2):
                self.scalar(base + ("icon",), ["server", "laptop", None])
            if self.chance(0.35):
                vals = ["nixos", "darwin"]
                if self.want("machineClass", 0.5):
                    vals = ["linux"]
                    self.invalid.append("bad machineClass")
                self.scalar(base + ("machineClass",), vals)
            if self.chance(0.15):
                self.scalar(base + ("installedAt",), [1700000000, 0, 1234])
            if self.chance(0.1):
                self.scalar(base + ("name",), [m, "other-" + m])
            if self.chance(0.5):
                self.listdef(base + ("tags",), TAG_POOL)
            if self.chance(0.25):
                self.scalar(base + ("deploy", "targetHost"), [f"root@{m}", f"admin@{m}.lan", None])
            if self.chance(0.15):
                self.scalar(base + ("deploy", "buildHost"), ["builder@b", None])
            if self.chance(0.15):
                self.scalar(base + ("deploy", "forwardAgent"), [True, False, None])
        # a machine in a mkIf false only
        if self.chance(0.1):
            self.nix_def(("inventory", "machines", "hidden"), 'lib.mkIf false { description = "hidden"; }')

    def gen_tags(self):
        """Tag modules: static lists, lists computed from config and machines, builtin overrides."""
        if not self.chance(0.6):
            return
        nmods = self.pick([1, 1, 2])
        for j in range(nmods):
            entries = {}  # tag name -> Nix expression
            lists = {}  # tag name -> machine list, where the expression is that plain list
            dyn = False
            for _ in range(self.r.randint(1, 4)):
                kind = self.pick(["static", "static", "filterAll", "darwin", "machines_desc", "machines_class", "unique", "override", "empty"])
                tname = self.pick(TAG_POOL + ["static", "computed"])
                xs = None
                if kind == "static":
                    xs = self.r.sample(self.machines + ["ghost"], self.r.randint(0, min(3, len(self.machines) + 1)))
                    e = nlist(xs)
                    if self.chance(0.2):
                        e = self.pick(["lib.mkBefore ", "lib.mkAfter ", "lib.mkDefault ", "lib.mkForce "]) + e
                elif kind == "filterAll":
                    e = f'builtins.filter (n: n != {nstr(self.pick(self.machines))}) config.all'
                    dyn = True
                elif kind == "darwin":
                    e = "config.darwin"
                    dyn = True
                elif kind == "machines_desc":
                    e = 'builtins.attrNames (lib.filterAttrs (_: m: m.description != null) machines)'
                    dyn = True
                elif kind == "machines_class":
                    e = 'builtins.attrNames (lib.filterAttrs (_: m: m.machineClass == "nixos") machines)'
                    dyn = True
                elif kind == "unique":
                    e = 'lib.unique (config.nixos ++ config.darwin)'
                    dyn = True
                elif kind == "empty":
                    xs = []
                    e = nlist(xs)
                else:  # override builtin
                    tname = self.pick(["all", "nixos", "darwin"])
                    xs = self.r.sample(self.machines, self.r.randint(0, len(self.machines)))
                    e = self.pick(["", "", "lib.mkForce ", "lib.mkDefault "]) + nlist(xs)
                if tname in entries:
                    continue
                if tname in ("all", "nixos", "darwin") and kind != "override":
                    continue  # avoid self-reference recursion
                entries[tname] = e
                if xs is not None and e == nlist(xs):
                    lists[tname] = xs
            if self.want("tagrec", 1):
                entries["recTag"] = 'builtins.attrNames (lib.filterAttrs (_: m: builtins.elem "web" m.tags) machines)'
                self.invalid.append("tags from machine tags (recursion)")
                dyn = True
            # tags that override all and reference config.all would recurse; drop dyn uses then
            if "all" in entries and any("config.all" in v for v in entries.values()):
                entries = {k: v for k, v in entries.items() if "config.all" not in v}
            body = " ".join(f"{nkey(k)} = {v};" for k, v in entries.items())
            if self.chance(0.15) and not dyn and j == 0:
                # tags in inventory.json (static lists only)
                for k, xs in lists.items():
                    self.json_set(("tags", k), xs)
                continue
            if dyn or self.chance(0.5):
                e = "{ config, machines, ... }: { " + body + " }"
            else:
                e = "{ " + body + " }"
            self.nix_def(("inventory", "tags"), e)

    def settings_expr(self, service, role):
        """Settings for a role of a service (sometimes with an injected bad setting)."""
        d = {}
        bad = None
        if service == "internet":
            if self.chance(0.6):
                d["host"] = self.pick(["1.2.3.4", "h.example.com", ""])
            if self.chance(0.3):
                d["port"] = self.pick([22, 2222, 65535])
            if self.chance(0.2):
                d["user"] = self.pick(["root", "admin", None])
            if self.chance(0.15):
                d["jumphosts"] = self.r.sample(["j1", "j2@x", "root@j3:22"], self.r.randint(0, 2))
            if self.want("bad_setting", 0.3):
                bad = self.pick([("port", "22"), ("port", 70000), ("hostname", "x"), ("user", 5)])
        elif service == "tor":
            if role == "server":
                if self.chance(0.3):
                    d["secretHostname"] = self.pick([True, False])
                if self.chance(0.1):
                    d["portMapping"] = [{"port": 80, "target": {"port": 8080}}]
                if self.want("bad_setting", 0.3):
                    bad = self.pick([("secretHostname", "yes"), ("nope", 1)])
            else:
                if self.want("bad_setting", 0.3):
                    bad = ("anything", 1)
        elif service == "hello-world":
            if self.chance(0.5):
                d["greeting"] = self.pick(["hi", "yo"])
            if self.want("bad_setting", 0.3):
                bad = self.pick([("greeting", 3), ("farewell", "bye")])
        elif service == "probe":
            if role == "bare":
                if self.want("bad_setting", 0.3):
                    bad = ("x", 1)
            else:
                for k, vs in [("greeting", ["hi", "yo", "hey"]), ("count", [1, 2, 7]), ("flags", [["-a"], ["-b", "-c"], []]),
                              ("limits", [{"cpu": 2}, {"mem": 5, "io": 1}]), ("mode", ["a", "b", "c"]), ("enable", [True, False]),
                              ("opt", ["o", None])]:
                    if self.chance(0.3):
                        d[k] = self.pick(vs)
                if self.want("bad_setting", 0.3):
                    bad = self.pick([("count", "2"), ("mode", "z"), ("flags", "x"), ("limits", {"cpu": "x"}), ("unknownKey", 1), ("enable", 1)])
        if bad:
            d[bad[0]] = bad[1]
            self.invalid.append(f"bad setting {service}.{role}.{bad[0]}={bad[1]!r}")
        return d

    def settings_nix(self, d):
        """Settings as a one-line Nix attribute set, some values with priority wrappers."""
        parts = {}
        for k, v in d.items():
            e = nix(v, inline=True)
            w = self.r.random()
            if w < 0.15:
                e = f"lib.mkDefault {e}"
            elif w < 0.22:
                e = f"lib.mkForce {e}"
            elif w < 0.27:
                e = f"lib.mkOverride {self.pick([10, 900, 1200])} {e}"
            elif w < 0.32 and isinstance(v, list):
                e = f"lib.mkBefore {e}"
            parts[k] = Raw(e)
        return nix(parts, inline=True)

    def gen_instances(self):
        """Instances of internet, tor, hello-world and the probe, in Nix and inventory.json."""
        n = self.pick([0, 1, 1, 2, 2, 3])
        services = {"internet": ["default"], "tor": ["server", "client"], "hello-world": ["morning", "evening"], "probe": ["server", "client", "bare"]}
        used = set()
        for _ in range(n):
            svc = self.pick(["internet", "internet", "tor", "probe", "probe", "probe", "hello-world"])
            iname = self.pick([svc if svc != "probe" else "p", svc + "1", "net", "inst"])
            if iname in used:
                continue
            used.add(iname)
            base = ("inventory", "instances", iname)
            inj = self.chance(0.3)  # instance defined in json?
            def setv(path, v, expr):
                """Define path: in inventory.json (v) for a JSON instance, else in Nix (expr)."""
                if inj and self.chance(0.6):
                    self.json_set(path, v)
                else:
                    self.nix_def(path, expr)
            if svc == "probe":
                self.uses_probe = True
                setv(base + ("module", "name"), "probe", nstr("probe"))
                setv(base + ("module", "input"), "self", nstr("self"))
            elif iname != svc or self.chance(0.3):
                setv(base + ("module", "name"), svc, nstr(svc))
            if self.bad_kind in ("unknown_module", "unknown_input") and self.want(self.bad_kind, 0.7):
                which = "name" if self.bad_kind == "unknown_module" else "input"
                if which == "name":
                    # define an unknown module name on a fresh instance instead
                    self.nix_def(("inventory", "instances", "bogus", "module", "name"), nstr("tailscale"))
                    self.nix_def(("inventory", "instances", "bogus", "roles", "default", "machines", self.pick(self.machines)), "{ }")
                    self.invalid.append("unknown module")
                else:
                    self.nix_def(("inventory", "instances", "bogus", "module", "input"), nstr("community"))
                    self.nix_def(("inventory", "instances", "bogus", "module", "name"), nstr("internet"))
                    self.nix_def(("inventory", "instances", "bogus", "roles", "default", "machines", self.pick(self.machines)), "{ }")
                    self.invalid.append("unknown input")
            roles = list(services[svc])
            if self.want("unknown_role", 0.5):
                roles.append("relay")
                self.invalid.append("unknown role")
            for role in self.r.sample(roles, self.r.randint(1, len(roles))):
                rb = base + ("roles", role)
                members = self.r.sample(self.machines + (["ghost"] if self.chance(0.1) else []), self.r.randint(0, min(3, len(self.machines))))
                for m in members:
                    mb = rb + ("machines", m)
                    if self.chance(0.55):
                        d = self.settings_expr(svc, role)
                        where = self.pick(["both"] if self.want("settings_both", 0.5) else ["nix", "json"])
                        if where == "both":
                            self.invalid.append("settings json+nix")
                            self.json_set(mb + ("settings",), d)
                            self.nix_def(mb + ("settings",), self.settings_nix(self.settings_expr(svc, role) or {"x": 1} if svc != "internet" else {"host": "z"}))
                        elif where == "json":
                            self.json_set(mb + ("settings",), d)
                        else:
                            self.nix_def(mb + ("settings",), self.settings_nix(d))
                        if self.want("settings_twice_nix", 0.5):
                            self.invalid.append("settings twice in nix")
                            self.mods.append({mb + ("settings",): self.settings_nix({"greeting": "dup"} if svc in ("probe", "hello-world") else {"host": "dup"})})
                    else:
                        if self.chance(0.3):
                            self.json_set(mb, {})
                        else:
                            self.nix_def(mb, "{ }")
                if self.chance(0.4):
                    tags = self.r.sample(TAG_POOL + ["all", "nixos", "darwin"], self.r.randint(1, 2))
                    if self.chance(0.5):
                        e = nlist(tags)
                        jv = tags
                    else:
                        parts = []
                        jv = {}
                        for t in tags:
                            if self.chance(0.5):
                                d = self.settings_expr(svc, role)
                                parts.append(f"{nkey(t)}.settings = {self.settings_nix(d)};")
                                jv[t] = {"settings": d}
                            else:
                                parts.append(f"{nkey(t)} = {{ }};")
                                jv[t] = {}
                        e = "{ " + " ".join(parts) + " }"
                    if self.chance(0.25):
                        self.json_set(rb + ("tags",), jv)
                    else:
                        self.nix_def(rb + ("tags",), e)
                if self.chance(0.3):
                    d = self.settings_expr(svc, role)
                    if self.chance(0.3):
                        self.json_set(rb + ("settings",), d)
                    else:
                        self.nix_def(rb + ("settings",), self.settings_nix(d))
                if self.chance(0.1):
                    self.nix_def(rb + ("extraModules",), self.pick(["[ { } ]", "[ ./extra-mod.nix ]", '[ { networking.domain = "x"; } ]']))


    def gen_extras(self):
        """v2 features (seeds >= 1000)."""
        ms = self.machines
        # meta as a module function / split across top-level meta and inventory.meta
        if self.chance(0.12) and "name" in self.meta_in_clan and len(self.meta_in_clan) == 1:
            self.meta_in_clan = {"__fn": "{ lib, ... }: { name = %s; description = lib.mkDefault \"fn\"; }" % self.meta_in_clan["name"]}
        if self.chance(0.1):
            self.nix_def(("inventory", "meta", "description"), self.pick(['lib.mkForce "inv-forced"', 'lib.mkDefault "inv-default"']))
        # removed / dead options
        if self.want("services", 1):
            self.nix_def(("inventory", "services"), '{ borgbackup.default.roles.client.machines = [ ]; }')
            self.invalid.append("inventory.services")
        if self.chance(0.06):
            self.nix_def(("inventory", "modules"), '{ foo = ./extra-mod.nix; }')
        # whole deploy attrsets, machine-level mkIf/mkMerge
        if ms and self.chance(0.2):
            m = self.pick(ms)
            self.nix_def(("inventory", "machines", m), self.pick([
                '{ deploy = { targetHost = "root@x"; forwardAgent = true; }; }',
                'lib.mkMerge [ { tags = [ "web" ]; } { tags = [ "db" ]; description = lib.mkDefault "merged"; } ]',
                'lib.mkIf true { icon = "i"; installedAt = 5; }',
                'lib.mkIf false { machineClass = "darwin"; }',
            ]))
        # odd machine names
        if self.chance(0.1):
            odd = self.pick(["my-host", "host_1", "H2", "a.b"])
            self.json_set(("machines", odd), {"tags": ["web"]} if self.chance(0.5) else {})
            self.machines.append(odd)
        # instance-level oddities
        if ms and self.chance(0.25):
            kind = self.pick(["rolesettingsonly", "mkIfInstance", "mkMergeRoles", "settingsWrapped", "jsonTagsNixTags", "stringExtra", "mkForceMember"])
            m = self.pick(ms)
            if kind == "rolesettingsonly":
                self.nix_def(("inventory", "instances", "x1"), '{ module.name = "internet"; roles.default.settings.port = 2200; }')
            elif kind == "mkIfInstance":
                self.nix_def(("inventory", "instances", "x2"), 'lib.mkIf %s { module.name = "internet"; roles.default.machines.%s.settings.host = "h"; }' % (self.pick(["true", "false"]), nkey(m)))
            elif kind == "mkMergeRoles":
                self.nix_def(("inventory", "instances", "x3"), 'lib.mkMerge [ { module.name = "internet"; roles.default.machines.%s = { }; } { roles.default.tags = [ "all" ]; roles.default.settings.user = "u"; } ]' % nkey(m))
            elif kind == "settingsWrapped":
                self.nix_def(("inventory", "instances", "x4", "module", "name"), '"internet"')
                self.nix_def(("inventory", "instances", "x4", "roles", "default", "machines", m, "settings"), self.pick([
                    'lib.mkDefault { host = "d"; }', 'lib.mkMerge [ { host = "a"; } { port = 23; } ]', '{ host = lib.mkForce "f"; port = lib.mkDefault 2; }', 'lib.mkIf true { host = "t"; }']))
                self.nix_def(("inventory", "instances", "x4", "roles", "default", "settings"), self.pick(['{ host = "role"; }', 'lib.mkForce { port = 99; }', '{ }']))
            elif kind == "jsonTagsNixTags":
                self.json_set(("instances", "x5", "module", "name"), "internet")
                self.json_set(("instances", "x5", "roles", "default", "tags"), ["web"])
                self.nix_def(("inventory", "instances", "x5", "roles", "default", "tags"), '{ all.settings.port = 2022; }')
            elif kind == "stringExtra":
                self.nix_def(("inventory", "instances", "x6"), '{ module.name = "internet"; roles.default.machines.%s.settings.host = "s"; roles.default.extraModules = [ "extra-mod.nix" ]; }' % nkey(m))
            elif kind == "mkForceMember":
                self.nix_def(("inventory", "instances", "x7", "module", "name"), '"internet"')
                self.nix_def(("inventory", "instances", "x7", "roles", "default", "machines"), 'lib.mkForce { %s.settings.host = "forced"; }' % nkey(m))
                self.json_set(("instances", "x7", "roles", "default", "machines", "ghost2"), {"settings": {"host": "json"}})
        # invalid settings forms
        if ms and self.want("settings_form", 1):
            form = self.pick(['"foo.nix"', '{ imports = [ ]; host = "i"; }', '{ host = x: x; }', '[ ]'])
            self.nix_def(("inventory", "instances", "x8", "module", "name"), '"internet"')
            self.nix_def(("inventory", "instances", "x8", "roles", "default", "machines", self.pick(ms), "settings"), form)
            self.invalid.append("settings form " + form)
        if ms and self.want("module_name_conflict", 1):
            self.nix_def(("inventory", "instances", "x9", "module", "name"), '"internet"')
            self.json_set(("instances", "x9", "module", "name"), "tor")
            self.nix_def(("inventory", "instances", "x9", "roles", "default", "machines", self.pick(ms)), "{ }")
            self.invalid.append("module.name conflict")
        if ms and self.want("meta_conflict", 1):
            self.meta_in_clan["description"] = '"top"'
            self.nix_def(("inventory", "meta", "description"), '"inv"')
            self.invalid.append("meta.description conflict")

    def gen_v3(self):
        """Seeds >= 2000: type errors, names that need quoting."""
        ms = self.machines
        if self.want("typeerr", 1):
            m = self.pick(ms) if ms else "a"
            e = self.pick([
                (("inventory", "machines", m, "tags"), '"web"'),
                (("inventory", "tags", "t"), '"x"'),
                (("inventory", "instances", "y1"), '{ module.name = "internet"; roles = [ ]; }'),
                (("inventory", "instances", "y2"), '{ module = "internet"; }'),
                (("inventory", "instances", "y3"), '{ module.name = "internet"; roles.default.tags = "all"; }'),
                (("inventory", "machines", m, "deploy", "forwardAgent"), '"yes"'),
                (("inventory", "instances", "y4"), '{ module.name = "internet"; roles.default.machines.%s.settings.jumphosts = "j"; }' % nkey(m)),
                (("inventory", "machines", m, "installedAt"), '"now"'),
            ])
            self.nix_def(e[0], e[1])
            self.invalid.append("typeerr " + ".".join(e[0]))
        if ms and self.chance(0.15):
            self.nix_def(("inventory", "instances", "my inst"), '{ module.name = "internet"; roles.default.machines.%s.settings.host = "sp"; }' % nkey(self.pick(ms)))
        if self.chance(0.1):
            self.nix_def(("inventory", "machines", "a b"), '{ tags = [ "web" ]; }')

    def build(self, out):
        """Write the clan into the directory out; return the injected invalidities."""
        self.gen_meta()
        self.gen_machines()
        self.gen_tags()
        if self.machines:
            self.gen_instances()
        if self.seed >= 1000:
            self.gen_extras()
        if self.seed >= 2000:
            self.gen_v3()
        files = {"flake.nix": FLAKES["clan"], "extra-mod.nix": "{ }\n"}
        for m in sorted(self.dirs):
            files["machines/%s/configuration.nix" % m] = ""
        if self.dirs and self.chance(0.2):
            files["machines/stray.nix"] = "{ }\n"
        if self.json:
            files["inventory.json"] = json.dumps(self.json, indent=2) + "\n"
        if self.uses_probe:
            files["modules/probe.nix"] = PROBE
        files.update(self.render_modules())
        write_files(out, files)
        return self.invalid

    def render_modules(self):
        """clan.nix (meta, machines, inventory definitions of module 0) and partN.nix."""
        files = {}
        lines0 = []
        if not self.meta_in_clan and self.chance(0.85):
            # most clans define a top-level meta, if only an empty one
            self.meta_in_clan["_"] = None
        for k, v in self.meta_in_clan.items():
            if k == "__fn":
                lines0.append(f"meta = {v};")
                continue
            if k == "_":
                lines0.append(self.pick(["meta = { };", 'meta.icon = lib.mkDefault null;']))
                continue
            lines0.append(f"meta.{k} = {v};")
        for m in sorted(self.clan_machines):
            lines0.append(f"machines.{nkey(m)} = {{ }};")
        if self.uses_probe:
            lines0.append("modules.probe = ./modules/probe.nix;")
        for i, mod in enumerate(self.mods[1:], 1):
            body = "\n".join(f"  {'.'.join(nkey(k) for k in p)} = {e};" for p, e in mod.items())
            files[f"part{i}.nix"] = "{ lib, ... }:\n{\n" + body + "\n}\n"
        if files:
            lines0.append("imports = [ " + " ".join("./" + f for f in files) + " ];")
        inv = {p: e for p, e in self.mods[0].items() if p[0] == "inventory"}
        if self.inv_function and inv:
            ib = "\n".join(f"      {'.'.join(nkey(k) for k in p[1:])} = {e};" for p, e in inv.items())
            lines0.append("inventory =\n    { config, lib, ... }:\n    {\n" + ib + "\n    };")
        else:
            for p, e in inv.items():
                lines0.append(f"{'.'.join(nkey(k) for k in p)} = {e};")
        text = "# seed %d; intended invalid: %s\n{ lib, ... }:\n{\n" % (self.seed, "; ".join(self.invalid) or "none")
        text += "\n".join("  " + line for line in lines0) + "\n}\n"
        files["clan.nix"] = text
        return files


def generate(seed, case_dir):
    """Write the clan of seed into case_dir; return its injected invalidities."""
    return Gen(seed).build(case_dir)
