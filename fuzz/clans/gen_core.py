"""Clans using clan-core's own services: every service, role and interface option.

The options of each role's interface come from introspect.nix (evaluated by C++ Nix into
services.json, which run.py writes at startup): required options are set, others at
random, at role level (Nix or inventory.json) and machine level, with mkDefault/mkForce;
the vars that the services' exports read are written. About three seeds in ten inject a
fault: a wrong type, an unknown option, a missing required option, an unknown role or a
missing var.
"""
import json
import os
import random
import re

from clanfuzz import FLAKES, SetupError, nix, run, var_file, with_priority, write_files
from gen_services import MACHINES, TAGS

INTROSPECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "introspect.nix")


def introspect_services(corpus, out_dir):
    """The options of clan-core's services (introspect.nix under C++ Nix), also written to
    out_dir/services.json."""
    res = run(["nix-instantiate", "--eval", "--strict", "--json", INTROSPECT, "--arg", "corpus", str(corpus)],
              timeout=600)
    if res.rc != 0:
        raise SetupError("introspect.nix failed:\n" + res.err)
    with open(os.path.join(out_dir, "services.json"), "w") as f:
        f.write(res.out)
    return json.loads(res.out)


# Option types the generator leaves alone.
SKIP = ("unspecified value", "lazy attribute set of raw value", "null or optionType")


def tree(opts):
    """An option list as a nested dict: a leaf's "__opt" is its option, "<name>" a wildcard."""
    root = {}
    for o in opts:
        parts = o["name"].split(".")
        if "_module" in parts or o["type"] in SKIP or o["readOnly"]:
            continue
        d = root
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d.setdefault(parts[-1], {})["__opt"] = o
    return root


class Gen:
    """One clan, drawn from random.Random(seed) over services (services.json); build() writes it."""

    def __init__(self, seed, services):
        self.seed = seed
        self.services = services
        self.r = random.Random(seed)
        self.faults = []

    def leaf_val(self, t, sub):
        """A valid value for an option of type description t (sub: its suboptions' tree)."""
        r = self.r
        if t == "string":
            return r.choice(["x", "alpha", "a b", "", "h-1"])
        if t == "boolean":
            return r.choice([True, False])
        if t == "signed integer":
            return r.choice([0, 1, 42, -3, 8080])
        if t.startswith("16 bit unsigned"):
            return r.choice([22, 443, 65535, 0])
        if t.startswith("string matching"):
            return r.choice(["abc", "a.b-c_1"])
        if t.startswith("one of "):
            ch = re.findall(r'"([^"]*)"', t)
            if " or list of string" in t and r.random() < 0.4:
                return ["a", "b"][: r.randint(0, 2)]
            return r.choice(ch)
        if t.startswith("null or "):
            if r.random() < 0.3:
                return None
            inner = t[len("null or "):]
            if inner.startswith("strings concatenated"):
                return "line1\nline2"
            if inner == "(submodule)":
                return self.sub_val(sub)
            return self.leaf_val(inner, sub)
        if t.startswith("list of "):
            inner = t[len("list of "):].strip("()")
            n = r.randint(0, 2)
            if inner == "attribute set" or inner == "raw value":
                return [{"k%d" % i: i} for i in range(n)]
            if inner.startswith("optionally newline"):
                return ["ssh-ed25519 AAAAC3 k%d" % i for i in range(n)]
            if inner == "absolute path":
                return ["/etc/k%d" % i for i in range(n)]
            return [self.leaf_val(inner, sub) for _ in range(n)]
        if t.startswith("attribute set of "):
            inner = t[len("attribute set of "):]
            keys = r.sample(["k1", "k2", "main", "bk"], r.randint(0, 2))
            if inner == "(submodule)":
                return {k: self.sub_val(sub.get("<name>", {})) for k in keys}
            if inner.startswith("(string or"):
                return {k: r.choice(["s", 3, True]) for k in keys}
            return {k: self.leaf_val(inner, sub) for k in keys}
        if t == "submodule":
            return self.sub_val(sub)
        if t.startswith("strings concatenated"):
            return "a\nb"
        return None

    def wrong_val(self, t):
        """A value an option of type description t rejects."""
        if t in ("string",) or t.startswith("string matching") or t.startswith("one of"):
            return {"string": 12}.get(t, "NOT VALID!" if t.startswith("string matching") else ("turbo" if "list" not in t else 5))
        if t == "boolean":
            return "yes"
        if t == "signed integer":
            return "12"
        if t.startswith("16 bit"):
            return 70000
        if t.startswith("null or "):
            return self.wrong_val(t[len("null or "):].strip("()").replace("strings concatenated with \"\\n\"", "string"))
        if t.startswith("list of"):
            return self.r.choice(["notalist", [3] if "string" in t else "x"])
        if t.startswith("attribute set of"):
            return self.r.choice([[1], {"k": 3} if "string" in t else "x"])
        if t == "submodule":
            return "s"
        return 3.5

    def sub_val(self, sub):
        """Values for some options of a tree (every option without a default)."""
        d = {}
        for name, node in sub.items():
            if name == "__opt" or name == "<name>":
                continue
            o = node.get("__opt")
            if o is None:
                if self.r.random() < 0.4:
                    v = self.sub_val(node)
                    if v:
                        d[name] = v
                continue
            if not o["hasDefault"] or self.r.random() < 0.4:
                v = self.leaf_val(o["type"], node)
                if v is not None or o["type"].startswith("null"):
                    d[name] = v
        return d

    def settings(self, t, level):
        """Up to three settings of a role's option tree t (level: role or machine)."""
        r = self.r
        s = self.sub_val(t) if r.random() < (0.6 if level == "role" else 0.35) else {}
        # keep a few keys only
        keys = list(s)
        r.shuffle(keys)
        s = {k: s[k] for k in keys[: r.randint(0, 3)]}
        return s

    def leaves(self, t, prefix=()):
        """(path, option) for every option of tree t."""
        for name, node in t.items():
            if name in ("__opt", "<name>"):
                continue
            if "__opt" in node:
                yield prefix + (name,), node["__opt"]
            else:
                yield from self.leaves(node, prefix + (name,))

    def prio(self, v):
        """v, sometimes under mkDefault or mkForce."""
        return with_priority(self.r, v, 0.12, 0.18)

    def build(self, out):
        """Write the clan into the directory out; return the injected faults."""
        r = self.r
        machines = r.sample(MACHINES, r.randint(2, 5))
        mtags = {m: r.sample(TAGS, r.randint(0, 2)) for m in machines}
        fault = None
        if r.random() < 0.3:
            fault = r.choice(["wrong-type", "unknown-option", "missing-required", "unknown-role", "missing-var"])
        names = sorted(self.services)
        chosen = r.sample(names, r.randint(1, 5))
        inst_nix, inst_json, vars_needed = {}, {}, []
        trees = {}
        for svc in chosen:
            iname = svc if r.random() < 0.5 else svc.replace("-", "")[:4] + str(r.randint(1, 9))
            spec_n, spec_j = {}, {}
            if iname != svc or r.random() < 0.3:
                spec_n["module"] = {"name": svc}
            roles = list(self.services[svc]["roles"])
            use = [x for x in roles if r.random() < 0.7] or roles[:1]
            for rn in use:
                rr = self.services[svc]["roles"][rn]
                t = tree(rr["value"]) if rr["success"] else {}
                trees[(iname, rn)] = t
                req = [p for p, o in self.leaves(t) if not o["hasDefault"] and "<name>" not in p]
                nr, jr = {}, {}
                rs = self.settings(t, "role")
                in_json = r.random() < 0.25
                mem = r.sample(machines, r.randint(0, min(3, len(machines))))
                if not mem and r.random() < 0.5:
                    nr["tags"] = r.sample(TAGS + ["all"], 1)
                for q in req:
                    if r.random() < 0.9 and len(q) == 1:
                        rs[q[0]] = self.leaf_val(next(o for p, o in self.leaves(t) if p == q)["type"], {})
                if rs:
                    if in_json:
                        jr["settings"] = rs
                    else:
                        nr["settings"] = {k: self.prio(v) for k, v in rs.items()}
                for m in mem:
                    ms = self.settings(t, "machine")
                    if r.random() < 0.3:
                        jr.setdefault("machines", {})[m] = {"settings": ms} if ms else {}
                    else:
                        nr.setdefault("machines", {})[m] = {"settings": {k: self.prio(v) for k, v in ms.items()}} if ms else {}
                if nr or not jr:
                    spec_n.setdefault("roles", {})[rn] = nr
                if jr:
                    spec_j.setdefault("roles", {})[rn] = jr
                # vars the exports read
                for m in mem:
                    if svc == "mycelium":
                        vars_needed.append(("pm", m, "mycelium", "ip", "4a1::%d" % machines.index(m)))
                    if svc == "yggdrasil":
                        vars_needed.append(("pm", m, "yggdrasil", "address", "200::%d\n" % machines.index(m)))
                    if svc == "zerotier":
                        vars_needed.append(("shared", None, "zerotier-ip-%s-%s" % (m, iname), "ip", "fd7a::%x" % (machines.index(m) + 1)))
            if svc == "dm-dns":
                vars_needed.append(("shared", None, "dm-dns-signing-key", "signing.pub", "pubkey\n"))
            if svc == "zerotier" and "roles" in spec_n:
                for tg in ["all"] + TAGS:
                    for m in machines:
                        if tg == "all" or tg in mtags[m]:
                            vars_needed.append(("shared", None, "zerotier-ip-%s-%s" % (m, iname), "ip", "fd7a::%x" % (machines.index(m) + 1)))
            if spec_n:
                inst_nix[iname] = spec_n
            if spec_j:
                inst_json[iname] = spec_j
        # faults
        cands = [(i, rn) for i, s in inst_nix.items() for rn in s.get("roles", {})]
        if fault and cands:
            i, rn = r.choice(cands)
            role = inst_nix[i]["roles"][rn]
            t = trees.get((i, rn), {})
            lv = [(p, o) for p, o in self.leaves(t) if "<name>" not in p]
            if fault == "wrong-type" and lv:
                p, o = r.choice(lv)
                d = role.setdefault("settings", {})
                for k in p[:-1]:
                    d = d.setdefault(k, {}) if isinstance(d.get(k, {}), dict) else {}
                d[p[-1]] = self.wrong_val(o["type"])
                self.faults.append("wrong-type %s %s %s" % (i, rn, ".".join(p)))
            elif fault == "unknown-option":
                role.setdefault("settings", {})["nosuchopt"] = 1
                self.faults.append("unknown-option %s %s" % (i, rn))
            elif fault == "missing-required":
                req = [p for p, o in lv if not o["hasDefault"]]
                if req:
                    for rr in (role, inst_json.get(i, {}).get("roles", {}).get(rn, {})):
                        rr.get("settings", {}).pop(req[0][0], None)
                    self.faults.append("missing-required %s %s %s" % (i, rn, ".".join(req[0])))
            elif fault == "unknown-role":
                inst_nix[i]["roles"]["nosuchrole"] = {"machines": {machines[0]: {}}}
                self.faults.append("unknown-role %s" % i)
            elif fault == "missing-var" and vars_needed:
                vars_needed.pop(r.randrange(len(vars_needed)))
                self.faults.append("missing-var")
        files = {}
        nix_m = {m: ({"tags": mtags[m]} if mtags[m] else {}) for m in machines}
        clan = ["{ lib, ... }:", "{", '  meta.name = "cs%d";' % self.seed]
        if r.random() < 0.3:
            clan.append('  meta.domain = "%s";' % r.choice(["lan", "example.org"]))
        clan.append("  inventory.machines = %s;" % nix(nix_m, 1))
        clan.append("  inventory.instances = %s;" % nix(inst_nix, 1))
        clan.append("}")
        files["clan.nix"] = "\n".join(clan) + "\n"
        if inst_json:
            files["inventory.json"] = json.dumps({"instances": inst_json}, indent=2) + "\n"
        for kind, m, g, f, v in vars_needed:
            files[var_file(kind, m, g, f)] = v
        files["flake.nix"] = FLAKES["clan"]
        write_files(out, files)
        return self.faults


def generate(seed, case_dir, services):
    """Write the clan of seed over services into case_dir; return its injected faults."""
    return Gen(seed, services).build(case_dir)
