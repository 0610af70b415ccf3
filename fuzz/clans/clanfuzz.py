"""Shared pieces of the clan differential fuzzer.

Nix rendering for the generators, the flake entry forms, the environment (kith, the oracle,
the corpus and its store paths), running kith and the oracle on a case, normalising their
paths, and comparing their answers, with the classification of every disagreement.
"""

import json
import os
import re
import shutil
import subprocess
from collections import namedtuple
from dataclasses import dataclass
from pathlib import Path

# ---------------------------------------------------------------------------------------
# Nix rendering


class Raw:
    """A Nix expression that `nix()` writes verbatim."""

    def __init__(self, text):
        self.text = text


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")


def nstr(s):
    """A Nix string literal for `s`."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") + '"'


def nkey(k):
    """An attribute name: bare where Nix allows it, else a string literal."""
    return k if IDENTIFIER.fullmatch(k) else nstr(k)


def paren(expr):
    """Parenthesise a `lib.` application so that it can stand as a list element."""
    return "(" + expr + ")" if expr.startswith("lib.") else expr


def nix(v, indent=0, inline=False):
    """The Nix expression for a JSON-like Python value (`Raw` for verbatim Nix).

    Lists and attribute sets span one line per element, indented `indent` levels, unless
    `inline` is set.
    """
    if isinstance(v, Raw):
        return v.text
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if v >= 0 else "(%r)" % v
    if isinstance(v, str):
        return nstr(v)
    if isinstance(v, list):
        items = [paren(nix(x, indent + 1, inline)) for x in v]
        return _block("[", "]", items, indent, inline)
    if isinstance(v, dict):
        items = ["%s = %s;" % (nkey(k), nix(x, indent + 1, inline)) for k, x in v.items()]
        return _block("{", "}", items, indent, inline)
    raise TypeError(v)


def _block(open_, close, items, indent, inline):
    """Brackets around items, on one line or one item per line."""
    if not items:
        return open_ + " " + close
    if inline:
        return open_ + " " + " ".join(items) + " " + close
    pad = "  " * indent
    return open_ + "\n" + "".join(pad + "  " + item + "\n" for item in items) + pad + close


def nlist(xs):
    """A one-line Nix list of strings."""
    return nix(list(xs), inline=True)


def with_priority(rng, v, default_below, force_below):
    """One draw x of rng: `lib.mkDefault v` if x < default_below, else `lib.mkForce v` if
    x < force_below, else v."""
    x = rng.random()
    if x < default_below:
        return Raw("lib.mkDefault " + paren(nix(v)))
    if x < force_below:
        return Raw("lib.mkForce " + paren(nix(v)))
    return v


def var_file(kind, machine, generator, name):
    """The path, in a clan, of a var's public value: `kind` is "shared" or per-machine."""
    if kind == "shared":
        return "vars/shared/%s/%s/value" % (generator, name)
    return "vars/per-machine/%s/%s/%s/value" % (machine, generator, name)


def write_files(case_dir, files):
    """Write {relative path: text} under case_dir."""
    for rel, text in files.items():
        path = os.path.join(case_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


# ---------------------------------------------------------------------------------------
# Environment

# The corpus inputs kith is pointed at, and where kith's output names them.
CORPUS_INPUTS = {"clan-core": "clan-core", "nixpkgs": "nixpkgs-lib", "flake-parts": "flake-parts"}

Result = namedtuple("Result", "rc out err")

# The store path of a flake input or of a path copied by builtins.path.
STORE_SOURCE = re.compile(r"/nix/store/[a-z0-9]{32}-source")


class SetupError(Exception):
    """Something the fuzzer needs is missing; the message says what to do."""


def run(cmd, timeout=120, cwd=None):
    """Run cmd, capturing its output; a timeout is rc -9 with stderr TIMEOUT."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)
        return Result(p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired:
        return Result(-9, "", "TIMEOUT")


def repo_root():
    """The repository this file belongs to (fuzz/clans/ is two levels below it)."""
    return Path(__file__).resolve().parents[2]


def target_dir():
    """Cargo's target directory for this repository."""
    return Path(os.environ.get("CARGO_TARGET_DIR") or repo_root() / "target")


def default_kith():
    """The kith binary of the `dist` or the `release` build, whichever exists."""
    for profile in ("dist", "release"):
        path = target_dir() / profile / "kith"
        if path.is_file():
            return path
    raise SetupError("no kith binary in %s/{dist,release}: build one (cargo build --release) "
                     "or pass --kith PATH" % target_dir())


def require_tools():
    """C++ Nix runs the oracle and the introspection of clan-core's services; git makes
    each case a flake repository."""
    if shutil.which("nix-instantiate") is None:
        raise SetupError("nix-instantiate not found: apt-get install -y nix-bin")
    if shutil.which("git") is None:
        raise SetupError("git not found: apt-get install -y git")


class Env:
    """Where kith, the oracle and the corpus are, and the store paths kith gives the corpus."""

    def __init__(self, kith, shared):
        self.kith = Path(shutil.which(kith) or kith).resolve()
        self.shared = Path(shared).resolve()
        self.corpus = self.shared / "corpus"
        self.oracle = self.shared / "tools" / "clan-oracle"
        for path in (self.kith, self.oracle, self.corpus / "clan-core"):
            if not path.exists():
                raise SetupError("missing %s" % path)
        require_tools()
        self.stores = self._corpus_stores()

    def _corpus_stores(self):
        """{store path: @CORPUS@/dir} for each corpus input, as kith copies it to the store."""
        stores = {}
        for directory in CORPUS_INPUTS.values():
            source = self.corpus / directory
            expr = "builtins.path { path = %s; name = \"source\"; }" % nstr(str(source))
            res = run([str(self.kith), "eval", "--expr", expr])
            if res.rc != 0:
                raise SetupError("kith eval of the store path of %s failed:\n%s" % (source, res.err))
            stores[json.loads(res.out)] = "@CORPUS@/" + directory
        return stores

    def overrides(self, form):
        """kith's --override-input flags: the corpus's inputs (flake-parts for other forms)."""
        names = ["clan-core", "nixpkgs"] + ([] if form == "clan" else ["flake-parts"])
        flags = []
        for name in names:
            flags += ["--override-input", name, str(self.corpus / CORPUS_INPUTS[name])]
        return flags + ["--no-cache"]

    def kith_run(self, command, case, form, *args):
        """`kith COMMAND --flake CASE` with the overrides, then args."""
        return run([str(self.kith), command, "--flake", case] + self.overrides(form) + list(args))

    def oracle_run(self, case, view):
        """clan-core's answer for one view of the case (C++ Nix over clan-core's code)."""
        return run([str(self.oracle), case, view])

    def normalise(self, text, case):
        """Write the case's and the corpus's paths (on disk or in the store) as the oracle does."""
        text = STORE_SOURCE.sub(lambda m: self.stores.get(m.group(0), "@CASE@"), text)
        return text.replace(case, "@CASE@").replace(str(self.corpus), "@CORPUS@")



# ---------------------------------------------------------------------------------------
# Flake entry forms: the same clan.nix under clan-core's three ways of making a clan.

FLAKES = {
    "clan": """{
  inputs.clan-core.url = "https://git.clan.lol/clan/clan-core/archive/main.tar.gz";
  inputs.nixpkgs.follows = "clan-core/nixpkgs";
  outputs = { self, clan-core, ... }:
    let clan = clan-core.lib.clan { inherit self; imports = [ ./clan.nix ]; };
    in {
      inherit (clan.config) nixosConfigurations darwinConfigurations clanInternals;
      clan = clan.config;
    };
}
""",
    "flake-parts": """{
  inputs.clan-core.url = "https://git.clan.lol/clan/clan-core/archive/main.tar.gz";
  inputs.nixpkgs.follows = "clan-core/nixpkgs";
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.flake-parts.inputs.nixpkgs-lib.follows = "nixpkgs";
  outputs =
    inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } {
      imports = [ inputs.clan-core.flakeModules.default ];
      systems = [ "x86_64-linux" ];
      clan = { imports = [ ./clan.nix ]; };
    };
}
""",
    "buildClan": """{
  inputs.clan-core.url = "https://git.clan.lol/clan/clan-core/archive/main.tar.gz";
  inputs.nixpkgs.follows = "clan-core/nixpkgs";
  outputs = { self, clan-core, ... }:
    let clan = clan-core.lib.buildClan { inherit self; imports = [ ./clan.nix ]; };
    in {
      inherit (clan) nixosConfigurations darwinConfigurations clanInternals;
      clan = clan.config;
    };
}
""",
}


def rewrite_form(case_dir, form, dest):
    """Copy case_dir to dest, as its own flake repository, with the flake.nix of `form`."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(case_dir, dest, ignore=shutil.ignore_patterns(".git"))
    with open(os.path.join(dest, "flake.nix"), "w") as f:
        f.write(FLAKES[form])
    make_flake_repository(dest)


def make_flake_repository(case_dir):
    """Make case_dir a git repository with every file added.

    A flake inside a git work tree is made of that tree's tracked files only (for kith as
    for Nix), and the output directory is usually inside the kith repository's target/:
    each case is its own repository, so that it is a flake of all its files.
    """
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"]):
        res = run(cmd, cwd=case_dir)
        if res.rc != 0:
            raise SetupError("%s in %s failed: %s" % (" ".join(cmd), case_dir, res.err))


# ---------------------------------------------------------------------------------------
# Comparison

VIEWS = {
    "exports": "clan.exports",
    "inventory": "clanInternals.inventoryClass.inventorySerialization",
    "cliChecks": "clanInternals.cliChecks",
}

# Views compared for the flake-parts and buildClan forms (against the clan form's answers).
FORM_VIEWS = ("exports", "cliChecks")

SETTINGS_CODES = frozenset({"settings-unknown-key", "settings-type", "settings-enum",
                            "settings-missing-required"})


@dataclass(frozen=True)
class CheckRules:
    """Which `kith check` errors are by design on a clan the oracle accepts.

    tolerated_codes: always by design. fault_code_prefixes: by design when one of the
    generator's injected faults starts with one of fault_markers. benign_messages: by design
    when the message contains one of them.
    """

    tolerated_codes: frozenset = frozenset()
    fault_markers: tuple = ()
    fault_code_prefixes: tuple = ()
    benign_messages: tuple = ()

    def tolerates(self, diag, faults):
        """Whether an error diagnostic of kith check is by design under these rules."""
        code, message = diag.get("code", ""), diag.get("message", "")
        if code in self.tolerated_codes:
            return True
        if any(b in message for b in self.benign_messages):
            return True
        faulted = any(f.startswith(self.fault_markers) for f in faults)
        return faulted and code.startswith(self.fault_code_prefixes)


# Module-system errors in the final settings of a machine: clan-core raises them too, but
# only where something evaluates those settings (a machine's configuration), which the three
# views do not for a service whose exports do not read them.
UNREAD_SETTINGS_ERRORS = ("conflicting definition values", "defined both null and not null",
                          "was removed", "is defined multiple times while it's expected to be unique",
                          # types run by their own merge: `either` given definitions of both
                          # its types, `anything` and `unspecified` given values of two types
                          "is neither a value of type", "has conflicting option types",
                          "Cannot merge definitions of")

# kith check checks the settings of every instance and role; clan-core's evaluation forces
# only what its views read. Per generator, what that (and kith's stricter policy) excuses.
CHECK_RULES = {
    # clan-core's internet, tor and hello-world and a probe; bad settings and ghost members
    # are written at random, not always recorded as faults: settings errors, unknown
    # members and empty instances are kith's policy, not clan-core's evaluation.
    "inventory": CheckRules(tolerated_codes=SETTINGS_CODES | {"unknown-machine", "empty-instance"},
                            benign_messages=UNREAD_SETTINGS_ERRORS),
    # Own modules: a settings fault is injected into a role whose perInstance may not read
    # its settings (then no view evaluates them).
    "services": CheckRules(
        fault_markers=("wrong-type", "unknown-option", "missing-required"),
        fault_code_prefixes=("settings-",),
        benign_messages=UNREAD_SETTINGS_ERRORS,
    ),
    # clan-core's services: settings faults injected into roles no view reads.
    "core": CheckRules(
        fault_markers=("wrong-type", "unknown-option", "missing-required", "unknown-role"),
        fault_code_prefixes=("settings-", "unknown-role"),
        benign_messages=UNREAD_SETTINGS_ERRORS,
    ),
}


def oracle_error_line(stderr):
    """The first `error:` line C++ Nix printed, without its list of definitions."""
    for line in stderr.splitlines():
        m = re.match(r"\s*error:\s*(.*)", line)
        if m:
            return m.group(1).split(" Definition values:")[0].strip()
    return stderr.strip().splitlines()[0] if stderr.strip() else ""


def squash(s):
    """s with every run of whitespace as one space."""
    return re.sub(r"\s+", " ", s).strip()


def json_diff(oracle, kith, path="", out=None, limit=20):
    """Where two JSON values differ, as 'path: oracle=… kith=…' lines (at most limit)."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(oracle, dict) and isinstance(kith, dict):
        for k in sorted(set(oracle) | set(kith)):
            if k not in kith:
                out.append("%s/%s: kith missing, oracle=%s" % (path, k, json.dumps(oracle[k])[:300]))
            elif k not in oracle:
                out.append("%s/%s: oracle missing, kith=%s" % (path, k, json.dumps(kith[k])[:300]))
            else:
                json_diff(oracle[k], kith[k], "%s/%s" % (path, k), out, limit)
    elif isinstance(oracle, list) and isinstance(kith, list) and len(oracle) == len(kith):
        for i, (a, b) in enumerate(zip(oracle, kith)):
            json_diff(a, b, "%s[%d]" % (path, i), out, limit)
    elif oracle != kith:
        out.append("%s: oracle=%s kith=%s" % (path or "/", json.dumps(oracle)[:300], json.dumps(kith)[:300]))
    return out


def without_float_zeros(value):
    """value with every integral float written `3.0` in its strings (kith's and current
    Nix's `builtins.toJSON`) as `3` (the oracle's Nix 2.8), and such floats as integers."""
    if isinstance(value, dict):
        return {k: without_float_zeros(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_float_zeros(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return re.sub(r"(?<![\w.])(-?\d+)\.0(?![\w.])", r"\1", value)
    return value


def compare_view(env, oracle, kith, kith_case, oracle_case, compare_errors):
    """The disagreement of kith's answer for one view with the oracle's, or None.

    compare_errors: also require kith's error to contain the oracle's error line.
    """
    if oracle.rc == 0:
        if kith.rc != 0:
            return dict(kind="kith-fails-oracle-ok", kith=env.normalise(kith.out + kith.err, kith_case)[-3000:])
        try:
            kith_value = json.loads(env.normalise(kith.out, kith_case))
        except ValueError:
            return dict(kind="kith-bad-json", kith=(kith.out[-2000:] + kith.err[-1000:]))
        oracle_value = json.loads(oracle.out)
        if kith_value != oracle_value and without_float_zeros(kith_value) != oracle_value:
            return dict(kind="value-mismatch", diff=json_diff(oracle_value, kith_value))
        return None
    error = env.normalise(oracle_error_line(oracle.err), oracle_case)
    if kith.rc == 0:
        return dict(kind="kith-ok-oracle-fails", oracle_error=error,
                    kith=env.normalise(kith.out, kith_case)[:3000])
    kith_text = env.normalise(kith.out + kith.err, kith_case)
    if compare_errors and squash(error) not in squash(kith_text):
        return dict(kind="error-text-mismatch", oracle_error=error, kith=kith_text[-3000:])
    return None


def check_diagnostics(out):
    """The JSON Lines diagnostics of `kith check --format json`."""
    diags = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                diags.append(json.loads(line))
            except ValueError:
                pass
    return diags


def check_summary(err):
    """kith check's summary line ('checked N machines, …'), or the tail of its stderr."""
    lines = [line for line in err.splitlines() if line.startswith("checked")]
    return lines[-1] if lines else err.strip()[-300:]


def classify_check(check, failures, cli_checks, rules, faults):
    """The disagreements of `kith check` with the oracle, and the codes tolerated by design.

    failures: {view: error line} of the views the oracle rejects, in view order;
    cli_checks: the oracle's cliChecks answer.
    """
    errors = [d for d in check_diagnostics(check.out) if d.get("severity") == "error"]
    output = (check.out + check.err)[-3000:]
    if check.rc == 2 or check.rc < 0:
        return [dict(kind="check-crash", check=output)], []
    if failures:
        if not errors or check.rc == 0:
            view, error = next(iter(failures.items()))
            return [dict(kind="check-miss", oracle_view=view, oracle_error=error, check=output)], []
        return [], []
    constraints = [d for d in errors if d.get("code", "").startswith("constraint-")]
    others = [d for d in errors if not d.get("code", "").startswith("constraint-")]
    tolerated = sorted({d.get("code") for d in others if rules.tolerates(d, faults)})
    others = [d for d in others if not rules.tolerates(d, faults)]
    records = []
    if others or (check.rc != 0 and not errors):
        records.append(dict(kind="check-false-positive", diags=others[:10], check=output))
    cli_errors = [c for c in json.loads(cli_checks.out) if c.get("severity") == "error"]
    if len(constraints) != len(cli_errors):
        records.append(dict(kind="check-constraint-count", oracle_cli=cli_errors,
                            diags=[d.get("message") for d in constraints]))
    return records, tolerated


@dataclass
class CaseResult:
    """What comparing one case found."""

    records: list  # one dict per disagreement: view, kind and details
    oracle_failures: dict  # {view: the oracle's error line} for the views clan-core rejects
    check: str  # kith check's summary line ("" when check was not run)
    tolerated: list  # kith check's error codes excused by the generator's rules


def compare_case(env, case, rules, faults, form="clan", form_case=None):
    """Compare kith with the oracle on a case directory.

    For the clan form: the three views, their error texts, and kith check. For the other
    forms: kith on form_case (the case rewritten in that form) against the oracle on the
    case, for the exports and cliChecks views only.
    """
    case = os.path.abspath(case)
    kith_case = case if form == "clan" else os.path.abspath(form_case)
    views = list(VIEWS) if form == "clan" else list(FORM_VIEWS)
    records, oracle = [], {}
    for view in views:
        oracle[view] = env.oracle_run(case, view)
        kith = env.kith_run("select", kith_case, form, VIEWS[view])
        rec = compare_view(env, oracle[view], kith, kith_case, case, compare_errors=form == "clan")
        if rec:
            records.append(dict(view=view, **rec))
    failures = {v: env.normalise(oracle_error_line(r.err), case) for v, r in oracle.items() if r.rc != 0}
    if form != "clan":
        return CaseResult(records, failures, "", [])
    check = env.kith_run("check", kith_case, form, "--format", "json")
    check_recs, tolerated = classify_check(check, failures, oracle["cliChecks"], rules, faults)
    records += [dict(view="check", **r) for r in check_recs]
    return CaseResult(records, failures, check_summary(check.err), tolerated)
