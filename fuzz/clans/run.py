#!/usr/bin/env python3
"""Differential testing of kith against clan-core on generated clans (see README.md).

  run.py --gen {inventory,services,core} --seeds A:B [--form F] [--kith PATH] [--shared DIR] [--out DIR]
      generate the clans of seeds A..B-1, compare kith's answers with the oracle's, append
      one record per disagreement to OUT/results.jsonl and one line per seed to
      OUT/summary.jsonl; exit 1 if any disagreement was found.
  run.py --case DIR [--gen G] [--form F] ...
      compare one existing case and print its disagreements in detail.
"""
import argparse
import collections
import json
import os
import shutil
import sys
import time

import gen_core
import gen_inventory
import gen_services
from clanfuzz import CHECK_RULES, FLAKES, Env, SetupError, compare_case, default_kith, \
    make_flake_repository, repo_root, rewrite_form, target_dir

GENERATORS = ("inventory", "services", "core")
META = "gen-meta.json"


def parse_args(argv):
    """The command line."""
    p = argparse.ArgumentParser(description="Compare kith with clan-core's own answers on generated clans.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--seeds", metavar="A:B", help="seeds A to B-1 (or one seed N)")
    what.add_argument("--case", metavar="DIR", help="compare one existing case directory, in detail")
    p.add_argument("--gen", choices=GENERATORS,
                   help="the generator (with --case: whose by-design rules apply; default: the case's %s)" % META)
    p.add_argument("--form", choices=sorted(FLAKES), default="clan",
                   help="the flake entry form kith is given (default: clan)")
    p.add_argument("--kith", help="kith binary (default: the repository's target/{dist,release}/kith)")
    p.add_argument("--shared", help="the shared directory with corpus/ and tools/ (default: <repo>/../shared)")
    p.add_argument("--out", help="output directory (default: target/clan-fuzz/GEN[-FORM])")
    args = p.parse_args(argv)
    if args.seeds and not args.gen:
        p.error("--seeds needs --gen")
    return args


def seed_range(text):
    """'A:B' as range(A, B); 'N' as the one seed N."""
    a, _, b = text.partition(":")
    return range(int(a), int(b) if b else int(a) + 1)


def make_generator(name, env, out):
    """A function (seed, case_dir) -> faults for the generator `name`."""
    if name == "inventory":
        return gen_inventory.generate
    if name == "services":
        return gen_services.generate
    services = gen_core.introspect_services(env.corpus, out)
    return lambda seed, case_dir: gen_core.generate(seed, case_dir, services)


def fresh_dir(path):
    """An empty directory at path."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def compare(env, case, generator, faults, form, out):
    """compare_case for the clan form, or against the case rewritten in `form` under out."""
    form_case = None
    if form != "clan":
        form_case = os.path.join(out, "forms", "%s-%s" % (os.path.basename(os.path.abspath(case)), form))
        os.makedirs(os.path.dirname(form_case), exist_ok=True)
        rewrite_form(case, form, form_case)
    return compare_case(env, case, CHECK_RULES[generator], faults, form, form_case)


def describe(seed, faults, result):
    """The progress line of one seed."""
    oracle = "rejects " + ",".join(result.oracle_failures) if result.oracle_failures else "ok"
    found = ", ".join("%s:%s" % (r["view"], r["kind"]) for r in result.records) or "agree"
    return "seed %d  faults: %s  oracle: %s  -> %s" % (seed, "; ".join(faults) or "none", oracle, found)


def campaign(args, env, out):
    """Generate and compare every seed; return the number of disagreements."""
    generate = make_generator(args.gen, env, out)
    tally = collections.Counter()
    results_path, summary_path = os.path.join(out, "results.jsonl"), os.path.join(out, "summary.jsonl")
    print("cases in %s/cases, results in %s, summary in %s" % (out, results_path, summary_path), flush=True)
    seeds = seed_range(args.seeds)
    for seed in seeds:
        start = time.time()
        case = fresh_dir(os.path.join(out, "cases", str(seed)))
        faults = generate(seed, case)
        with open(os.path.join(case, META), "w") as f:
            json.dump({"generator": args.gen, "seed": seed, "faults": faults}, f)
        make_flake_repository(case)
        result = compare(env, case, args.gen, faults, args.form, out)
        base = {"seed": seed, "generator": args.gen, "form": args.form, "faults": faults}
        with open(results_path, "a") as f:
            for rec in result.records:
                f.write(json.dumps(dict(base, case=case, **rec)) + "\n")
        with open(summary_path, "a") as f:
            f.write(json.dumps(dict(base, oracle_failures=result.oracle_failures, check=result.check,
                                    tolerated=result.tolerated,
                                    kinds=["%s:%s" % (r["view"], r["kind"]) for r in result.records],
                                    secs=round(time.time() - start, 2))) + "\n")
        tally.update(r["kind"] for r in result.records)
        print(describe(seed, faults, result), flush=True)
    print_tally(len(seeds), tally)
    return sum(tally.values())


def print_tally(nseeds, tally):
    """The final count of disagreements by kind."""
    print("%d seeds, %d disagreements" % (nseeds, sum(tally.values())))
    for kind, n in tally.most_common():
        print("  %-24s %d" % (kind, n))


def single_case(args, env, out):
    """Compare one case directory and print what disagrees; return the number of disagreements."""
    case = os.path.abspath(args.case)
    meta_path = os.path.join(case, META)
    meta = {}
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    generator = args.gen or meta.get("generator") or "services"
    faults = meta.get("faults", [])
    result = compare(env, case, generator, faults, args.form, out)
    for rec in result.records:
        print(json.dumps(rec, indent=1))
    print("rules: %s; faults: %s" % (generator, "; ".join(faults) or "none"))
    print("oracle: %s" % (json.dumps(result.oracle_failures, indent=1) if result.oracle_failures else "accepts"))
    if result.check:
        print("kith check: %s%s" % (result.check, "; tolerated: " + ", ".join(result.tolerated) if result.tolerated else ""))
    print("AGREE" if not result.records else "DISAGREE (%d)" % len(result.records))
    return len(result.records)


def main(argv):
    """Run a campaign or compare one case; exit status 1 on a disagreement, 2 on a setup error."""
    args = parse_args(argv)
    try:
        kith = args.kith or default_kith()
        env = Env(kith, args.shared or repo_root().parent / "shared")
        name = (args.gen or "case") + ("" if args.form == "clan" else "-" + args.form)
        out = os.path.abspath(args.out or target_dir() / "clan-fuzz" / name)
        if os.path.commonpath([out, str(env.shared)]) == str(env.shared):
            raise SetupError("the output directory %s is inside %s, which is read-only" % (out, env.shared))
        os.makedirs(out, exist_ok=True)
        found = single_case(args, env, out) if args.case else campaign(args, env, out)
    except SetupError as e:
        print("run.py: %s" % e, file=sys.stderr)
        return 2
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
