#!/usr/bin/env python3
"""Times several commands interleaved: each round runs every command once, in turn.

    interleave.py RUNS WARMUP CMD1 -- CMD2 -- ...    (each CMD is `program arg...`)

Prints one line per command: the median wall time in milliseconds, or `-` when the command
failed. Interleaving gives every command the same share of the machine's slow and fast
moments (a shared VM's speed drifts over seconds, which skews back-to-back blocks of runs),
and the median ignores the odd run a neighbour disturbed.
"""

import statistics
import subprocess
import sys
import time


def split_commands(args):
    cmds, cur = [], []
    for a in args:
        if a == "--":
            cmds.append(cur)
            cur = []
        else:
            cur.append(a)
    cmds.append(cur)
    return [c for c in cmds if c]


def run_once(cmd):
    start = time.perf_counter()
    ok = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    return (time.perf_counter() - start) * 1000.0 if ok else None


def main():
    runs, warmup = int(sys.argv[1]), int(sys.argv[2])
    cmds = split_commands(sys.argv[3:])
    times = [[] for _ in cmds]
    failed = [False] * len(cmds)
    for rnd in range(warmup + runs):
        for i, cmd in enumerate(cmds):
            if failed[i]:
                continue
            t = run_once(cmd)
            if t is None:
                failed[i] = True
            elif rnd >= warmup:
                times[i].append(t)
    for i in range(len(cmds)):
        print("-" if failed[i] or not times[i] else f"{statistics.median(times[i]):.1f}")


if __name__ == "__main__":
    main()
