#!/usr/bin/env bash
# Times the admin commands `kith machines list` and `kith network list`, and the CI commands
# `kith lint` and `kith check`, on generated fleets (benches/gen-fleet.py), cold (--no-cache)
# and warm (second run on a fresh plan cache), against C++ Nix evaluating the view each command
# needs (the oracle: `clan-oracle DIR inventory` for machines list, `clan-oracle DIR exports`
# for network list; clan-cli would evaluate the same view, then print; `clan-oracle DIR all`,
# every view clan evaluates and checks, for lint and check).
#   benches/admin.sh [KITH_BINARY]    (default: target/dist/kith of this checkout)
# Env: SIZES (default "1000"), REPS (best of, default 3), NIX=0 leaves the oracle out,
# COMMANDS (default: all four) a subset of "machines-list network-list lint check".
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
die() { echo "admin.sh: $*" >&2; exit 1; }
shared="$(cd "$root/../shared" 2>/dev/null && pwd)" || die "no ../shared next to the repo"
kith="$(realpath "${1:-$root/target/dist/kith}")"
[ -x "$kith" ] || die "no kith binary at $kith (cargo build --profile dist -p kith)"
oracle="$shared/tools/clan-oracle"
corpus="$shared/corpus"
reps="${REPS:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ov=(--override-input clan-core "$corpus/clan-core" --override-input nixpkgs "$corpus/nixpkgs-lib")

# ms CMD...: wall milliseconds of one run (or "fail").
ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>"$work/last.err" || { echo fail; return; }
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
# best A B: the smaller number ("fail" loses).
best() {
  if [ -z "$1" ] || [ "$1" = fail ]; then echo "$2"; elif [ "$2" = fail ] || [ "$2" -ge "$1" ]; then echo "$1"; else echo "$2"; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a ~ /^[0-9]+$/) printf "%.0f", a / b; else print "n/a" }'; }

printf '| N | command | C++ Nix ms (view) | kith cold ms | kith warm ms | Nix / warm |\n|---|---|---:|---:|---:|---:|\n'
for n in ${SIZES:-1000}; do
  dir="$work/fleet-$n"
  python3 "$root/benches/gen-fleet.py" "$n" "$dir" >/dev/null 2>&1 || die "gen-fleet $n failed"
  for pair in "machines list:inventory" "network list:exports" "lint:all" "check:all"; do
    cmd="${pair%%:*}" view="${pair##*:}"
    case " ${COMMANDS:-machines-list network-list lint check} " in *" ${cmd// /-} "*) ;; *) continue ;; esac
    nix="" cold="" warm=""
    for r in $(seq "$reps"); do
      if [ "${NIX:-1}" != 0 ]; then nix=$(best "$nix" "$(ms "$oracle" "$dir" "$view")"); fi
      c="$work/cache-$n-$view-$r"
      # shellcheck disable=SC2086
      cold=$(best "$cold" "$(ms env KITH_CACHE_DIR="$c-cold" "$kith" $cmd --flake "$dir" "${ov[@]}" --no-cache)")
      # shellcheck disable=SC2086
      env KITH_CACHE_DIR="$c" "$kith" $cmd --flake "$dir" "${ov[@]}" >/dev/null 2>&1
      # shellcheck disable=SC2086
      warm=$(best "$warm" "$(ms env KITH_CACHE_DIR="$c" "$kith" $cmd --flake "$dir" "${ov[@]}")")
    done
    printf '| %s | `kith %s` | %s | %s | %s | %s |\n' "$n" "$cmd" "${nix:--}" "$cold" "$warm" "$(ratio "${nix:-x}" "$warm")"
  done
done
