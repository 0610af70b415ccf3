#!/usr/bin/env bash
# Times kith against C++ Nix on the clan conformance cases, in the same run.
#   benches/clan-views.sh [KITH_BINARY]      (default: target/dist/kith, `cargo build --profile dist`; run from the repo root)
# kith: `kith eval --json --flake CASE --attr VIEW…` with only the two overrides
#   (clan-core, nixpkgs → corpus): ONE process printing the three views (one flake load).
# oracle: /work/shared/tools/clan-oracle CASE (the host's nix-instantiate, Nix 2.8, over
#   clan-core's own Nix code; one process computing all three views; no eval cache).
# Each side's time is the best of $REPS runs (default 3). Prints seconds and nix/kith
# (above 1: kith is faster).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kith="$(realpath "${1:-$root/target/dist/kith}")"
if [ -z "${1:-}" ]; then
  (cd "$root" && cargo build --profile dist -q -p kith) || exit 1
fi
shared="$(cd "$root/../shared" && pwd)"
oracle="$shared/tools/clan-oracle"
reps="${REPS:-3}"
# kith's cache of lowered files in a directory of this run: the first repetition fills it,
# the best time is a warm one (as for a user's repeated queries).
cache_dir="$(mktemp -d)"
trap 'rm -rf "$cache_dir"' EXIT
export KITH_CACHE_DIR="$cache_dir"
views=(clan.exports clanInternals.inventoryClass.inventorySerialization clanInternals.cliChecks)

now() { date +%s.%N; }

# Best wall time of running "$@" $reps times (output discarded; failures are timed too,
# as the error cases fail on purpose).
best() {
  local best="" t0 t1 d
  for _ in $(seq "$reps"); do
    t0=$(now)
    "$@" >/dev/null 2>&1
    t1=$(now)
    d=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; fi
  done
  printf '%.3f' "$best"
}

kith_case() {
  local case=$1 v attrs=()
  for v in "${views[@]}"; do attrs+=(--attr "$v"); done
  "$kith" eval --json --flake "$case" "${attrs[@]}" \
    --override-input clan-core "$shared/corpus/clan-core" \
    --override-input nixpkgs "$shared/corpus/nixpkgs-lib"
}

oracle_case() { (cd "$root" && "$oracle" "$@"); }

kith_exports() {
  "$kith" eval --json --flake "$1#clan.exports" \
    --override-input clan-core "$shared/corpus/clan-core" \
    --override-input nixpkgs "$shared/corpus/nixpkgs-lib"
}

# all: the three views (one process each side). exports: that view alone (1 + 1).
printf '%-34s %8s %8s %8s | %8s %8s %8s\n' case "kith all" "nix all" "nix/kith" \
  "kith exp" "nix exp" "nix/kith"
for case in "$shared"/conformance/cases/*/; do
  case=${case%/}
  k=$(best kith_case "$case")
  o=$(best oracle_case "$case")
  ke=$(best kith_exports "$case")
  oe=$(best oracle_case "$case" exports)
  printf '%-34s %8s %8s %7.2fx | %8s %8s %7.2fx\n' "$(basename "$case")" "$k" "$o" \
    "$(echo "$o / $k" | bc -l)" "$ke" "$oe" "$(echo "$oe / $ke" | bc -l)"
done
