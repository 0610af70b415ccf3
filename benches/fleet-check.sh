#!/usr/bin/env bash
# Checks generated fleets: every view evaluates under the oracle (C++ Nix over clan-core's own
# code), and kith's reference path (`kith eval --json --flake DIR --attr clan.exports`) prints
# the same exports.
#   benches/fleet-check.sh [KITH_BINARY]     (default: target/dist/kith of this checkout)
# Env: SIZES (default "10 50"), SEED (default 1). Exit 1 on any failure or difference.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="$(cd "$root/../shared" 2>/dev/null && pwd)" || { echo "fleet-check: no ../shared next to the repo" >&2; exit 1; }
kith="${1:-$root/target/dist/kith}"
[ -x "$kith" ] || { echo "fleet-check: no kith binary at $kith" >&2; exit 1; }
oracle="$shared/tools/clan-oracle"
corpus="$shared/corpus"
command -v nix-instantiate >/dev/null || { echo "fleet-check: nix-instantiate missing (apt-get install -y nix-bin)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export KITH_CACHE_DIR="$work/cache"
status=0
for n in ${SIZES:-10 50}; do
  dir="$work/fleet-$n"
  python3 "$root/benches/gen-fleet.py" "$n" "$dir" --seed "${SEED:-1}" 2>/dev/null || { echo "N=$n: gen-fleet failed" >&2; exit 1; }
  if ! "$oracle" "$dir" all >"$work/oracle-$n.json" 2>"$work/oracle-$n.err"; then
    echo "N=$n: oracle FAILED: $(grep -m1 error: "$work/oracle-$n.err")"
    status=1
    continue
  fi
  if ! "$kith" eval --json --flake "$dir" --attr clan.exports \
    --override-input clan-core "$corpus/clan-core" --override-input nixpkgs "$corpus/nixpkgs-lib" \
    >"$work/kith-$n.json" 2>"$work/kith-$n.err"; then
    echo "N=$n: oracle ok, kith FAILED: $(head -c 400 "$work/kith-$n.err")"
    status=1
    continue
  fi
  # Paths as the oracle writes them: the case directory (kith: a store copy of the flake
  # source) as @CASE@, the corpus as @CORPUS@.
  python3 - "$work/oracle-$n.json" "$work/kith-$n.json" "$dir" "$corpus" "$n" <<'EOF' || status=1
import json, re, sys
oracle_file, kith_file, case, corpus, n = sys.argv[1:]
store = re.compile(r"/nix/store/[0-9a-z]{32}-source")
def norm(v):
    if isinstance(v, str):
        return store.sub("@CASE@", v.replace(case, "@CASE@").replace(corpus, "@CORPUS@"))
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        return {norm(k): norm(x) for k, x in v.items()}
    return v
want = json.load(open(oracle_file))["exports"]
got = norm(json.load(open(kith_file)))
if got == want:
    print(f"N={n}: oracle ok (all views), kith exports equal ({len(want)} keys)")
    sys.exit(0)
print(f"N={n}: kith exports DIFFER from the oracle")
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        print(f"  {k}:\n    oracle {json.dumps(want.get(k), sort_keys=True)}\n    kith   {json.dumps(got.get(k), sort_keys=True)}")
sys.exit(1)
EOF
done
exit $status
