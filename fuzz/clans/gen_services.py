"""Clans with their own clan.service modules: interfaces, settings, exports, constraints.

One to three modules with random roles whose interfaces declare options of random types
(with defaults, without, or mkDefault in the interface), perInstance and perMachine
exporting what they were given, service-level exports and manifest constraints; their
instances with settings at role, machine and tag level, in Nix (with priorities) and in
inventory.json; and some clan-core networking services (internet, tor, zerotier, mycelium,
yggdrasil, wireguard) with the vars their exports read. About one seed in six injects a
fault (unknown option, wrong type, exports outside the scope...). Seeds from 10000 add
more option types and priority forms.
"""
import json
import random

from clanfuzz import FLAKES, Raw, nix, nstr, paren, var_file, with_priority, write_files

MACHINES = ["jon", "sara", "bob", "kim", "ada", "max"]
TAGS = ["web", "db", "edge", "lab"]
ROLE_NAMES = ["server", "client", "peer", "default", "relay"]
OPT_NAMES = ["timeout", "label", "mode", "enabled", "items", "limits", "nick", "endpoint", "zone", "opts"]
ENUMV = ["fast", "safe", "off"]


class Gen:
    """One clan, drawn from random.Random(seed); build() writes it."""

    def __init__(self, seed):
        self.seed = seed
        self.r = random.Random(seed)
        self.v2 = seed >= 10000
        # Seeds from 40000 add types kith runs by their own Nix functions.
        self.nixtypes = seed >= 40000
        self.invalid = None
        self.files = {}

    # ---------------------------------------------------------------- option types
    def rand_type(self, depth=0):
        """An option type, as a tuple (kind, inner...); nested ones only at depth 0."""
        r = self.r
        base = ["str", "int", "bool", "enum"]
        if self.v2:
            base += ["float", "port", "between", "match", "nonEmpty"]
        if self.nixtypes:
            base += ["either", "oneOf", "anything", "unspecified", "uniq", "nonEmptyList",
                     "positive", "coerced"] + (["untyped"] if depth == 0 else [])
        k = r.choice(base + ["listOf", "attrsOf", "nullOr", "submodule"] + (["listSub", "attrSub", "nested", "apply"] if self.v2 else []) if depth == 0
                     else base)
        if k in ("listSub", "attrSub"):
            return (k,)
        if k == "nested":
            return ("nested", self.rand_type(1))
        if k == "apply":
            return ("apply", ("str",))
        if k in ("listOf", "attrsOf", "nullOr"):
            return (k, self.rand_type(1))
        if k == "submodule":
            return ("submodule", {"a": ("str",), "b": ("int",)})
        return (k,)

    def type_nix(self, t):
        """The Nix expression of option type t."""
        k = t[0]
        if k == "str":
            return "lib.types.str"
        if k == "int":
            return "lib.types.int"
        if k == "bool":
            return "lib.types.bool"
        if k == "enum":
            return "(lib.types.enum [ " + " ".join(nstr(x) for x in ENUMV) + " ])"
        if k in ("listOf", "attrsOf", "nullOr"):
            return "(lib.types.%s %s)" % (k, self.type_nix(t[1]))
        if k == "float":
            return "lib.types.float"
        if k == "port":
            return "lib.types.port"
        if k == "between":
            return "(lib.types.ints.between 0 100)"
        if k == "match":
            return '(lib.types.strMatching "[a-z]*")'
        if k == "nonEmpty":
            return "lib.types.nonEmptyStr"
        if k == "apply":
            return "lib.types.str"
        if k == "either":
            return ("(lib.types.either (lib.types.enum [ " + " ".join(nstr(x) for x in ENUMV)
                    + " ]) (lib.types.listOf lib.types.str))")
        if k == "oneOf":
            return "(lib.types.oneOf [ lib.types.str lib.types.int lib.types.bool ])"
        if k == "anything":
            return "lib.types.anything"
        if k == "unspecified":
            return "lib.types.unspecified"
        if k == "untyped":
            return None
        if k == "uniq":
            return "(lib.types.uniq (lib.types.listOf lib.types.str))"
        if k == "nonEmptyList":
            return "(lib.types.nonEmptyListOf lib.types.str)"
        if k == "positive":
            return "lib.types.ints.positive"
        if k == "coerced":
            return "(lib.types.coercedTo lib.types.str (x: [ x ]) (lib.types.listOf lib.types.str))"
        if k == "listSub":
            return ('(lib.types.listOf (lib.types.submodule { options.n = lib.mkOption { type = lib.types.str; default = "dn"; };'
                    ' options.v = lib.mkOption { type = lib.types.int; default = 0; }; }))')
        if k == "attrSub":
            return ('(lib.types.attrsOf (lib.types.submodule ({ name, ... }: { options.n = lib.mkOption { type = lib.types.str; default = name; };'
                    ' options.v = lib.mkOption { type = lib.types.int; default = 1; }; })))')
        if k == "submodule":
            return ("(lib.types.submodule { options.a = lib.mkOption { type = lib.types.str; default = \"sa\"; };"
                    " options.b = lib.mkOption { type = lib.types.int; default = 7; }; })")

    def rand_val(self, t):
        """A valid value of type t."""
        r = self.r
        k = t[0]
        if k in ("str", "apply"):
            return r.choice(["x", "alpha", "beta", "h-1", "", "a b"])
        if k == "float":
            return r.choice([1.5, 0.25, -2.0, 3.0])
        if k == "port":
            return r.choice([22, 443, 65535, 0])
        if k == "between":
            return r.choice([0, 7, 100])
        if k == "match":
            return r.choice(["abc", "", "zz"])
        if k == "nonEmpty":
            return r.choice(["n", "ne x"])
        if k == "either":
            return r.choice([r.choice(ENUMV), [r.choice(["a", "b"]) for _ in range(r.randint(0, 2))]])
        if k == "oneOf":
            return r.choice(["x", "", 3, -1, True, False])
        if k == "anything":
            return {r.choice(["p", "q"]): r.choice([1, "s", [2], {"d": r.choice([1, "t"])}])
                    for _ in range(r.randint(0, 2))}
        if k in ("unspecified", "untyped"):
            return [r.randint(0, 9) for _ in range(r.randint(1, 2))]
        if k in ("uniq", "coerced"):
            return [r.choice(["u", "v", "w"]) for _ in range(r.randint(0, 2))] if k == "uniq" or r.random() < 0.5 \
                else r.choice(["c1", "c2"])
        if k == "nonEmptyList":
            return [r.choice(["n1", "n2"]) for _ in range(r.randint(1, 2))]
        if k == "positive":
            return r.choice([1, 7, 100])
        if k == "ffany":
            return r.choice([1, "s", [2], {"d": r.choice([1, "t"])}, True])
        if k == "ffint":
            return r.choice([0, 3, -7])
        if k == "ffstr":
            return r.choice(["s", "", "x y"])
        if k == "listSub":
            return [{kk: vv for kk, vv in (("n", "e%d" % i), ("v", i)) if r.random() < 0.6} for i in range(r.randint(0, 2))]
        if k == "attrSub":
            return {r.choice(["p", "q"]): ({"v": r.randint(0, 9)} if r.random() < 0.5 else {}) for _ in range(r.randint(0, 2))}
        if k == "nested":
            return {"x": self.rand_val(t[1])}
        if k == "int":
            return r.choice([0, 1, 5, 42, -3, 8080])
        if k == "bool":
            return r.choice([True, False])
        if k == "enum":
            return r.choice(ENUMV)
        if k == "listOf":
            return [self.rand_val(t[1]) for _ in range(r.randint(0, 2))]
        if k == "attrsOf":
            return {r.choice(["k1", "k2", "k3"]): self.rand_val(t[1]) for _ in range(r.randint(0, 2))}
        if k == "nullOr":
            return None if r.random() < 0.3 else self.rand_val(t[1])
        if k == "submodule":
            d = {}
            if r.random() < 0.6:
                d["a"] = self.rand_val(("str",))
            if r.random() < 0.6:
                d["b"] = self.rand_val(("int",))
            return d

    def wrong_val(self, t):
        """A value type t rejects."""
        k = t[0]
        if k in ("float", "port", "between"):
            return {"float": "f", "port": 70000, "between": 101}[k]
        if k == "match":
            return "ABC"
        if k == "nonEmpty":
            return ""
        if k == "apply":
            return 3
        if k == "either":
            return self.r.choice([5, "turbo", [1]])
        if k == "oneOf":
            return self.r.choice([[1], {"a": 1}, 1.5])
        if k in ("anything", "ffany"):
            return Raw('lib.mkMerge [ { a = 1; } { a = "x"; } ]')
        if k == "ffint":
            return "x"
        if k == "ffstr":
            return 1
        if k in ("unspecified", "untyped"):
            return Raw('lib.mkMerge [ 1 "x" ]')
        if k == "uniq":
            return Raw('lib.mkMerge [ [ "a" ] [ "b" ] ]')
        if k == "nonEmptyList":
            return []
        if k == "positive":
            return self.r.choice([0, -4])
        if k == "coerced":
            return self.r.choice([3, [3]])
        if k in ("listSub", "attrSub"):
            return self.r.choice(["s", [3], {"p": 3}])
        if k == "nested":
            return 5
        if k == "str":
            return 12
        if k == "int":
            return "12"
        if k == "bool":
            return "yes"
        if k == "enum":
            return "turbo"
        if k == "listOf":
            return "notalist"
        if k == "attrsOf":
            return [1]
        if k == "nullOr":
            return self.wrong_val(t[1])
        if k == "submodule":
            return {"a": 3}

    def render_expr(self, t, e):
        """Nix expression turning value expression e of type t into a string."""
        k = t[0]
        if k in ("str", "match", "nonEmpty", "apply"):
            return e
        if k in ("either", "oneOf", "anything", "unspecified", "untyped", "uniq", "nonEmptyList",
                 "coerced"):
            return "(builtins.toJSON %s)" % e
        if k == "positive":
            return "(toString %s)" % e
        if k in ("float", "port", "between"):
            return "(toString %s)" % e
        if k == "listSub":
            return '(builtins.toJSON %s)' % e
        if k == "attrSub":
            return '(builtins.toJSON %s)' % e
        if k == "nested":
            return self.render_expr(t[1], e + ".x")
        if k == "int":
            return "(toString %s)" % e
        if k == "bool":
            return "(lib.boolToString %s)" % e
        if k == "enum":
            return e
        if k == "listOf":
            return '(lib.concatMapStringsSep "," (x: %s) %s)' % (self.render_expr(t[1], "x"), e)
        if k == "attrsOf":
            return '(lib.concatStringsSep "," (lib.mapAttrsToList (n: x: "${n}=${%s}") %s))' % (
                self.render_expr(t[1], "x"), e)
        if k == "nullOr":
            return '(if %s == null then "null" else %s)' % (e, self.render_expr(t[1], e))
        if k == "submodule":
            return '"${%s.a}/${toString %s.b}"' % (e, e)

    def prio(self, v, allow=True):
        """v, or v under a priority or ordering wrapper (none unless allow)."""
        r = self.r.random()
        if not allow:
            return v
        if self.v2 and r < 0.15:
            return Raw(self.r.choice(["lib.mkOverride 90 ", "lib.mkIf true ", "lib.mkOverride 1500 "]) + paren(nix(v)))
        if self.v2 and r < 0.2 and isinstance(v, list):
            return Raw(self.r.choice(["lib.mkBefore ", "lib.mkAfter ", "lib.mkOrder 600 "]) + paren(nix(v)))
        return with_priority(self.r, v, 0.15, 0.22)

    # ---------------------------------------------------------------- own modules
    def make_module(self, idx):
        """A service module: name, exported interfaces, roles with options, constraints."""
        r = self.r
        mname = "mod%d" % idx
        sname = r.choice(["svc%d" % idx, "acme/svc%d" % idx, "mod%d" % idx])
        outs = [x for x in ["endpoints", "peer", "networking"] if r.random() < 0.6] or ["endpoints"]
        nroles = r.randint(1, 3)
        roles = r.sample(ROLE_NAMES, nroles)
        mod = {"file": mname, "sname": sname, "outs": outs, "roles": {}, "constraints": {}}
        for role in roles:
            opts = {}
            for on in r.sample(OPT_NAMES, r.randint(0, 4)):
                t = self.rand_type()
                dmode = r.choice(["default", "default", "none", "mkDefault"])
                opts[on] = {"type": t, "dmode": dmode, "default": self.rand_val(t),
                            "read": r.random() < 0.85}
            if self.nixtypes and r.random() < 0.3:
                # A freeformType: settings the interface does not declare, of its type.
                kind = r.choice(["ffany", "ffint", "ffstr"])
                for fn in ("ff1", "ff2"):
                    opts[fn] = {"type": (kind,), "dmode": "undeclared", "default": None, "read": False}
            mod["roles"][role] = {"opts": opts, "perInstance": r.random() < 0.85,
                                  "readRoles": r.random() < 0.4}
        if r.random() < 0.5:
            mod["perMachine"] = True
        if r.random() < 0.4:
            mod["svcExports"] = True
        if r.random() < 0.35:
            c = {}
            if r.random() < 0.4:
                c["maxInstances"] = r.randint(1, 2)
            rc = {}
            for role in roles:
                if r.random() < 0.5:
                    d = {}
                    if r.random() < 0.5:
                        d["minMachines"] = r.randint(0, 2)
                    if r.random() < 0.5:
                        d["maxMachines"] = r.randint(1, 2)
                    if d:
                        rc[role] = d
            if rc:
                c["roles"] = rc
            mod["constraints"] = c
        return mod

    def render_module(self, mod, inv):
        """The module's Nix source, with the fault inv injected if it is the faulty one."""
        r = self.r
        L = []
        L.append("{ config, clanLib, lib, directory, ... }:")
        L.append("{")
        L.append('  _class = "clan.service";')
        L.append("  manifest.name = %s;" % nstr(mod["sname"]))
        L.append('  manifest.description = "fuzz module";')
        L.append('  manifest.readme = "fuzz";')
        outs = mod["outs"]
        if inv == "exports-not-declared":
            outs = []
        L.append("  manifest.exports.out = [ %s ];" % " ".join(nstr(o) for o in outs))
        if mod["constraints"]:
            L.append("  manifest.constraints = %s;" % nix(mod["constraints"], 1))
        if mod.get("svcExports") and "networking" in mod["outs"]:
            prio = r.choice([10, 500, 1000, 2500])
            L.append("  exports = lib.mapAttrs' (instanceName: _: {")
            L.append("    name = clanLib.buildScopeKey { inherit instanceName; serviceName = config.manifest.name; };")
            L.append("    value.networking = { priority = %s; %s };" % (
                r.choice(["%d" % prio, "lib.mkDefault %d" % prio]),
                r.choice(["", 'module = "clan_lib.network.custom";'])))
            L.append("  }) config.instances;")
        elif mod.get("svcExports") and "endpoints" in mod["outs"]:
            L.append("  exports = lib.mapAttrs' (instanceName: inst: {")
            L.append("    name = clanLib.buildScopeKey { inherit instanceName; serviceName = config.manifest.name; };")
            L.append("    value.endpoints.hosts = lib.attrNames inst.roles;")
            L.append("  }) config.instances;")
        for role, rd in mod["roles"].items():
            L.append("  roles.%s = {" % role)
            if r.random() < 0.8:
                L.append('    description = "role %s";' % role)
            if rd["opts"] or r.random() < 0.5:
                L.append("    interface = { lib, ... }: {")
                free = [od["type"][0] for od in rd["opts"].values() if od["dmode"] == "undeclared"]
                if free:
                    L.append("      freeformType = %s;" % {
                        "ffany": "lib.types.attrsOf lib.types.anything",
                        "ffint": "lib.types.lazyAttrsOf lib.types.int",
                        "ffstr": "lib.types.attrsOf lib.types.str"}[free[0]])
                for on, od in rd["opts"].items():
                    if od["dmode"] == "undeclared":
                        continue
                    dd = ""
                    if od["dmode"] == "default":
                        dd = " default = %s;" % nix(od["default"], 3)
                    if od["type"][0] == "nested":
                        dd = " default = %s;" % nix(od["default"]["x"], 3) if od["dmode"] == "default" else ""
                        L.append("      options.%s.x = lib.mkOption { type = %s;%s };" % (on, self.type_nix(od["type"][1]), dd))
                        if od["dmode"] == "mkDefault":
                            L.append("      config.%s.x = lib.mkDefault %s;" % (on, paren(nix(od["default"]["x"], 3))))
                        continue
                    if od["type"][0] == "apply":
                        dd += ' apply = v: "ap-" + v;'
                    tn = self.type_nix(od["type"])
                    L.append("      options.%s = lib.mkOption { %s%s };" % (
                        on, "type = %s;" % tn if tn is not None else "", dd))
                    if od["dmode"] == "mkDefault":
                        L.append("      config.%s = lib.mkDefault %s;" % (on, paren(nix(od["default"], 3))))
                L.append("    };")
            if rd["perInstance"]:
                L.append("    perInstance = { instanceName, machine, roles, settings, mkExports, extendSettings, exports, ... }: {")
                items = ['"i=${instanceName}"', '"m=${machine.name}"',
                         '"roles=${lib.concatStringsSep "," machine.roles}"']
                for on, od in rd["opts"].items():
                    if od["read"]:
                        items.append('"%s=${%s}"' % (on, self.render_expr(od["type"], "settings." + on)))
                if self.v2 and r.random() < 0.3:
                    items.append('"ext=${builtins.toJSON (extendSettings { })}"')
                if self.v2 and r.random() < 0.2:
                    items.append('"rs=${builtins.toJSON (lib.mapAttrs (_: rv: rv.settings) roles)}"')
                if self.v2 and r.random() < 0.3:
                    items.append('"ex=${lib.concatStringsSep "," (lib.attrNames (clanLib.selectExports (s: s.machineName == machine.name) exports))}"')
                declared = [on for on, od in rd["opts"].items() if od["dmode"] != "undeclared"]
                if len(declared) < len(rd["opts"]):
                    items.append('"ff=${builtins.toJSON (builtins.removeAttrs settings [ %s ])}"'
                                 % " ".join(nstr(on) for on in declared))
                if rd["readRoles"]:
                    items.append('"all=${lib.concatStringsSep ";" (lib.mapAttrsToList (rn: rv: rn + ":" + '
                                 'lib.concatStringsSep "," (lib.attrNames rv.machines)) roles)}"')
                ex = []
                out_for = list(mod["outs"])
                if inv == "undeclared-interface":
                    out_for = [x for x in ["endpoints", "peer", "networking", "dataMesher"] if x not in mod["outs"]][:1]
                for o in out_for:
                    if o == "endpoints":
                        ex.append("endpoints.hosts = [ %s ];" % " ".join(items))
                    elif o == "peer":
                        ex.append('peer.hosts = [ { plain = "${machine.name}.${instanceName}"; } ];')
                        ex.append("peer.port = %d;" % r.choice([22, 2222]))
                        if r.random() < 0.5:
                            ex.append('peer.user = "u-${instanceName}";')
                    elif o == "dataMesher":
                        ex.append("dataMesher.namespaces = [ instanceName ];")
                if inv == "outside-scope-instance":
                    L.append("      exports.${clanLib.buildScopeKey { serviceName = %s; instanceName = \"zz\"; "
                             "roleName = %s; machineName = machine.name; }} = { %s };" % (
                                 nstr(mod["sname"]), nstr(role), " ".join(ex)))
                elif ex:
                    L.append("      exports = mkExports { %s };" % " ".join(ex))
                L.append("    };")
            L.append("  };")
        if mod.get("perMachine"):
            readset = inv == "permachine-settings"
            L.append("  perMachine = { machine, instances, mkExports, %s... }: {" % ("settings, " if readset else ""))
            items = ['"m=${machine.name}"', '"roles=${lib.concatStringsSep "," machine.roles}"',
                     '"inst=${lib.concatStringsSep "," (lib.attrNames instances)}"']
            if self.v2 and r.random() < 0.5:
                items.append('"is=${builtins.toJSON (lib.mapAttrs (_: i: lib.mapAttrs (_: rv: lib.mapAttrs (_: m: m.settings) rv.machines) i.roles) instances)}"')
            if readset:
                items.append('"s=${builtins.toJSON settings}"')
            if inv == "outside-scope":
                L.append("    exports.${clanLib.buildScopeKey { machineName = machine.name; }} = "
                         "{ endpoints.hosts = [ %s ]; };" % " ".join(items))
            elif "endpoints" in mod["outs"]:
                L.append("    exports = mkExports { endpoints.hosts = [ %s ]; };" % " ".join(items))
            L.append("  };")
        L.append("}")
        return "\n".join(L) + "\n"

    # ---------------------------------------------------------------- clan
    def build(self, out):
        """Write the clan into the directory out; return the injected fault (or nothing)."""
        r = self.r
        if r.random() < 0.18:
            self.invalid = r.choice(["unknown-option", "wrong-type", "missing-required", "outside-scope",
                                     "outside-scope-instance", "exports-not-declared", "undeclared-interface",
                                     "unknown-role", "permachine-settings", "missing-var", "json-nix-twice"])
        machines = r.sample(MACHINES, r.randint(2, 5))
        mtags = {m: r.sample(TAGS, r.randint(0, 2)) for m in machines}
        msrc = {m: r.choice(["nix", "nix", "json", "dir"]) for m in machines}
        nmods = r.randint(1, 3)
        mods = [self.make_module(i) for i in range(nmods)]
        inv_mod = r.randrange(nmods)

        nix_machines, json_machines = {}, {}
        for m in machines:
            d = {"tags": mtags[m]} if mtags[m] else {}
            if msrc[m] == "json":
                json_machines[m] = d
            else:
                nix_machines[m] = d
                if msrc[m] == "dir":
                    self.files["machines/%s/configuration.nix" % m] = "{ }\n"

        instances_nix, instances_json = {}, {}
        vars_needed = []

        def settings_for(opts, level, allow_prio=True):
            """Random settings for some of opts (level: role, machine or tag)."""
            s = {}
            for on, od in opts.items():
                if r.random() < (0.5 if level == "role" else 0.3):
                    s[on] = self.prio(self.rand_val(od["type"]), allow_prio)
            return s

        def make_role(opts, json_ok, required=()):
            """A role's definition in Nix and in inventory.json: settings, members, tags."""
            nix_r, json_r = {}, {}
            role_set = {}
            if r.random() < 0.5:
                rs = settings_for(opts, "role")
                if required and r.random() < 0.5:
                    for q in required:
                        rs[q] = self.rand_val(opts[q]["type"]) if q in opts else "x"
                if rs:
                    role_set = rs
                    if json_ok and r.random() < 0.2:
                        json_r["settings"] = {k: (v if not isinstance(v, Raw) else self.rand_val(opts[k]["type"]))
                                              for k, v in rs.items()}
                    else:
                        nix_r["settings"] = rs
            mem = r.sample(machines, r.randint(0, min(3, len(machines))))
            for m in mem:
                s = settings_for(opts, "machine")
                for q in required:
                    if q not in s and q not in role_set:
                        s[q] = self.rand_val(opts[q]["type"]) if q in opts else "x"
                tojson = json_ok and r.random() < 0.3
                for k in list(s):
                    if k in role_set and not isinstance(s[k], Raw) and r.random() < 0.8:
                        s[k] = Raw("lib.mkForce " + paren(nix(s[k])))
                if tojson:
                    sj = {}
                    for k, v in s.items():
                        if isinstance(v, Raw):
                            v = self.rand_val(opts[k]["type"])
                            if r.random() < 0.8:
                                v = {"_type": "override", "priority": 50, "content": v}
                        sj[k] = v
                    json_r.setdefault("machines", {})[m] = {"settings": sj} if sj or r.random() < 0.5 else {}
                else:
                    nix_r.setdefault("machines", {})[m] = {"settings": s} if s or r.random() < 0.5 else {}
            if r.random() < 0.4:
                tags = r.sample(TAGS, r.randint(1, 2))
                if r.random() < 0.5:
                    nix_r["tags"] = tags
                else:
                    td = {}
                    for t in tags:
                        if r.random() < 0.6:
                            ts = settings_for(opts, "tag", False)
                            lvl = r.choice([60, 60, 40])
                            td[t] = {"settings": {k: Raw("lib.mkOverride %d %s" % (lvl, paren(nix(v)))) if r.random() < 0.8 else v
                                                  for k, v in ts.items()}}
                        else:
                            td[t] = {}
                    nix_r["tags"] = td
            return nix_r, json_r

        # ---- own module instances
        used_names = set()
        for i, mod in enumerate(mods):
            for j in range(r.choice([1, 1, 2, 3])):
                iname = r.choice(["%s-%s" % (mod["file"], "abcd"[j]), "i%d%d" % (i, j)])
                if j == 0 and r.random() < 0.3:
                    iname = mod["file"]
                if iname in used_names:
                    continue
                used_names.add(iname)
                in_json = r.random() < 0.25
                spec_n = {}
                spec_j = {}
                modspec = {"input": "self"}
                if iname != mod["file"] or r.random() < 0.5:
                    modspec["name"] = mod["file"]
                if in_json and r.random() < 0.5:
                    spec_j["module"] = modspec
                else:
                    spec_n["module"] = modspec
                roles = [x for x in mod["roles"] if r.random() < 0.8] or list(mod["roles"])[:1]
                for rn in roles:
                    opts = mod["roles"][rn]["opts"]
                    req = [on for on, od in opts.items() if od["dmode"] == "none"]
                    nr, jr = make_role(opts, True, req)
                    if nr:
                        spec_n.setdefault("roles", {})[rn] = nr
                    if jr:
                        spec_j.setdefault("roles", {})[rn] = jr
                    if not nr and not jr:
                        spec_n.setdefault("roles", {})[rn] = {}
                if spec_n:
                    instances_nix[iname] = spec_n
                if spec_j:
                    instances_json[iname] = spec_j

        # ---- clan-core networking services
        core = [s for s in ["internet", "tor", "zerotier", "mycelium", "yggdrasil", "wireguard"] if r.random() < 0.3]
        for svc in core:
            iname = svc if r.random() < 0.5 else svc[:2] + "net"
            if iname in used_names:
                continue
            used_names.add(iname)
            spec = {}
            if iname != svc:
                spec["module"] = {"name": svc}
            roles = {}
            if svc == "internet":
                mem = r.sample(machines, r.randint(1, len(machines)))
                ms = {}
                for m in mem:
                    s = {"host": "%s.example.com" % m}
                    if r.random() < 0.3:
                        s["port"] = r.choice([22, 2222])
                    if r.random() < 0.3:
                        s["user"] = self.prio("admin")
                    if r.random() < 0.3:
                        s["jumphosts"] = ["root@j1"]
                    ms[m] = {"settings": s}
                roles["default"] = {"machines": ms}
                if r.random() < 0.4:
                    roles["default"]["settings"] = {"user": Raw('lib.mkDefault "deploy"')}
                if r.random() < 0.3:
                    roles["default"]["tags"] = [r.choice(TAGS)]
            elif svc == "tor":
                roles["server"] = {"machines": {m: {} for m in r.sample(machines, r.randint(1, 2))}}
                if r.random() < 0.5:
                    roles["client"] = {"tags": ["all"]}
                if r.random() < 0.3:
                    roles["server"]["settings"] = {"secretHostname": False}
            elif svc == "zerotier":
                ctl = r.sample(machines, r.choice([1, 1, 1, 0, 2]))
                roles["controller"] = {"machines": {m: {} for m in ctl}}
                peers = machines if r.random() < 0.5 else r.sample(machines, 1)
                roles["peer"] = {"tags": ["all"]} if peers == machines else {"machines": {m: {} for m in peers}}
                for m in [m for m in machines if m in ctl or m in peers]:  # not a set: deterministic order
                    vars_needed.append(("shared", None, "zerotier-ip-%s-%s" % (m, iname), "ip",
                                        "fd7a:115c:a1e0::%x" % (machines.index(m) + 1)))
            elif svc == "mycelium":
                peers = machines if r.random() < 0.5 else r.sample(machines, r.randint(1, len(machines)))
                roles["peer"] = {"tags": ["all"]} if peers == machines else {"machines": {m: {} for m in peers}}
                for m in peers:
                    vars_needed.append(("pm", m, "mycelium", "ip", "4a1::%d%s" % (machines.index(m), r.choice(["", "\n"]))))
            elif svc == "yggdrasil":
                peers = r.sample(machines, r.randint(1, len(machines)))
                roles["default"] = {"machines": {m: {} for m in peers}}
                if r.random() < 0.3:
                    roles["default"]["settings"] = {"extraPeers": ["tcp://x:1"]}
                for m in peers:
                    vars_needed.append(("pm", m, "yggdrasil", "address", "200::%d\n" % machines.index(m)))
            elif svc == "wireguard":
                ctl = r.sample(machines, 1)
                roles["controller"] = {"machines": {ctl[0]: {"settings": {"endpoint": "vpn.example.com"}}}}
                pm = {}
                for m in machines:
                    if m in ctl or r.random() < 0.4:
                        continue
                    s = {"controller": ctl[0]}
                    if r.random() < 0.3:
                        s["domain"] = "mesh"
                    if r.random() < 0.15:
                        del s["controller"]
                    pm[m] = {"settings": s}
                if pm:
                    roles["peer"] = {"machines": pm}
                if r.random() < 0.3:
                    roles["controller"]["settings"] = {"domain": Raw('lib.mkDefault "wgd"')}
            spec["roles"] = roles
            instances_nix[iname] = spec

        # ---- invalid injections
        inv = self.invalid
        target = mods[inv_mod]
        tinsts = [n for n, s in instances_nix.items()
                  if s.get("module", {}).get("name", n) == target["file"] and s.get("module", {}).get("input") == "self"]
        if inv in ("unknown-option", "wrong-type", "missing-required", "unknown-role") and tinsts:
            iname = tinsts[0]
            spec = instances_nix[iname]
            rn = next(iter(spec.get("roles") or {}), None)
            if inv == "unknown-role":
                spec.setdefault("roles", {})["nosuchrole"] = {"machines": {machines[0]: {}}}
            elif rn is not None:
                role = spec["roles"][rn]
                opts = target["roles"][rn]["opts"]
                m = machines[0]
                role.setdefault("machines", {}).setdefault(m, {})
                ms = role["machines"][m].setdefault("settings", {})
                if instances_json.get(iname, {}).get("roles", {}).get(rn, {}).get("machines", {}).get(m):
                    del instances_json[iname]["roles"][rn]["machines"][m]
                if inv == "unknown-option":
                    ms["nosuchopt"] = 1
                elif inv == "wrong-type" and opts:
                    on = r.choice(list(opts))
                    ms[on] = self.wrong_val(opts[on]["type"])
                    opts[on]["read"] = True
                elif inv == "missing-required":
                    t = ("str",)
                    opts["needed"] = {"type": t, "dmode": "none", "default": "", "read": True}
        elif inv == "json-nix-twice":
            for iname, sj in instances_json.items():
                for rn, rj in sj.get("roles", {}).items():
                    for m in rj.get("machines", {}):
                        instances_nix.setdefault(iname, {}).setdefault("roles", {}).setdefault(rn, {}) \
                            .setdefault("machines", {})[m] = {"settings": {}}
                        break
                    break
                break
        if inv in ("outside-scope", "permachine-settings"):
            target["perMachine"] = True
        if inv == "missing-var" and vars_needed:
            vars_needed.pop(r.randrange(len(vars_needed)))

        # ---- write files
        for i, mod in enumerate(mods):
            self.files["modules/%s.nix" % mod["file"]] = self.render_module(mod, inv if i == inv_mod else None)
        clan = ["{ lib, ... }:", "{", '  meta.name = "fz%d";' % self.seed]
        for mod in mods:
            clan.append("  modules.%s = ./modules/%s.nix;" % (mod["file"], mod["file"]))
        clan.append("  inventory.machines = %s;" % nix(nix_machines, 1))
        clan.append("  inventory.instances = %s;" % nix(instances_nix, 1))
        clan.append("}")
        self.files["clan.nix"] = "\n".join(clan) + "\n"
        if json_machines or instances_json:
            j = {}
            if json_machines:
                j["machines"] = json_machines
            if instances_json:
                j["instances"] = instances_json
            self.files["inventory.json"] = json.dumps(j, indent=2) + "\n"
        for kind, m, gen, f, val in vars_needed:
            self.files[var_file(kind, m, gen, f)] = val
        self.files["flake.nix"] = FLAKES["clan"]
        write_files(out, self.files)
        return [inv] if inv else []


def generate(seed, case_dir):
    """Write the clan of seed into case_dir; return its injected fault (or nothing)."""
    return Gen(seed).build(case_dir)

