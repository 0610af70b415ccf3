#!/usr/bin/env bash
# Times `clan.exports` of generated fleets (benches/gen-fleet.py): C++ Nix (the oracle) against
# kith, in the same run.
#   benches/select.sh [KITH_BINARY]     (default: target/dist/kith of this checkout)
# Env:
#   SIZES  fleet sizes N (default "100 1000"; 10000 works but the oracle then needs >10 GiB)
#   REPS   repetitions, the best one is reported (default 3)
#   MODE   select (default): `kith select` cold, warm and re-plan;
#          eval: kith's reference path, `kith eval --json --flake DIR --attr clan.exports`;
#          both: all columns
#   NIX    0 leaves the oracle out (its columns print `-`)
#   SEED   gen-fleet seed (default 1)
#   SETTLE seconds to wait after generating a fleet (default 3: past the 2 s racy window;
#          0 times the warm run on files the plan cache must check by content)
# Per N, one fleet in a temporary directory, then:
#   nix      `clan-oracle DIR exports` (nix-instantiate over clan-core's own code, one process)
#   cold     `kith select clan.exports --flake DIR --override-input … --no-cache`, with
#            XDG_CACHE_HOME an empty directory
#   warm     the same without --no-cache, run twice on a fresh cache, the second one timed
#   re-plan  one machine-level setting changed in inventory.json (the port of one machine of
#            the `internet` instance; a new value each repetition), then one `kith select`
#            with the cache of the previous state
#   eval     `kith eval --json --flake DIR --attr clan.exports` (IR cache in an empty
#            directory, filled by the first repetition)
# Wall time is measured around `/usr/bin/time -f '%e %M'` (date +%s%N, so milliseconds), peak
# RSS is its %M. Where the binary has no `select` subcommand the kith select columns print n/a.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
die() { echo "select.sh: $*" >&2; exit 1; }
shared="$(cd "$root/../shared" 2>/dev/null && pwd)" || die "no ../shared next to the repo"
kith="${1:-$root/target/dist/kith}"
[ -x "$kith" ] || die "no kith binary at $kith (cargo build --profile dist -p kith, or pass one)"
kith="$(realpath "$kith")"
oracle="$shared/tools/clan-oracle"
corpus="$shared/corpus"
sizes="${SIZES:-100 1000}"
reps="${REPS:-3}"
mode="${MODE:-select}"
case "$mode" in select | eval | both) ;; *) die "MODE must be select, eval or both" ;; esac
if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq time >/dev/null 2>&1; fi
  [ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install -y time)"
fi
if [ "${NIX:-1}" != 0 ]; then
  command -v nix-instantiate >/dev/null || die "nix-instantiate missing (apt-get install -y nix-bin), or NIX=0"
fi
unset KITH_CACHE_DIR
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
overrides=(--override-input clan-core "$corpus/clan-core" --override-input nixpkgs "$corpus/nixpkgs-lib")

has_select=0
if "$kith" select --help >/dev/null 2>&1; then has_select=1; fi

# measure CMD...: runs it once; prints "SECONDS MIB", or "fail" (its stderr in $work/last.err).
measure() {
  local t0 t1 rss
  t0=$(date +%s%N)
  if ! /usr/bin/time -o "$work/time.out" -f '%e %M' "$@" >/dev/null 2>"$work/last.err"; then
    echo fail
    return
  fi
  t1=$(date +%s%N)
  rss=$(tail -n 1 "$work/time.out" | awk '{print $2}')
  awk -v ns=$((t1 - t0)) -v kb="$rss" 'BEGIN { printf "%.3f %.0f\n", ns / 1e9, kb / 1024 }'
}

# keep_best CURRENT NEW: the faster of two measurements ("fail" loses to a number but sticks
# if every repetition failed).
keep_best() {
  if [ "$1" = "" ] || [ "$1" = fail ]; then echo "$2"; return; fi
  if [ "$2" = fail ]; then echo "$1"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); print (y[1] < x[1] ? b : a) }'
}

fail_note() { echo "select.sh: N=$1: $2 failed: $(head -c 300 "$work/last.err" | tr '\n' ' ')" >&2; }

# sel_cmd DIR CACHE: the `kith select` command line, in the array sel (extra flags appended by
# the caller).
sel_cmd() {
  sel=(env XDG_CACHE_HOME="$2" "$kith" select clan.exports --flake "$1" "${overrides[@]}")
}

# bump_setting DIR VALUE: one machine-level setting of inventory.json, the port of the first
# machine with settings in the `internet` instance.
bump_setting() {
  python3 - "$1/inventory.json" "$2" <<'EOF' || die "cannot edit $1/inventory.json"
import json, sys
path, value = sys.argv[1], int(sys.argv[2])
inv = json.load(open(path))
machines = inv["instances"]["internet"]["roles"]["default"]["machines"]
name = sorted(machines)[0]
machines[name]["settings"]["port"] = value
with open(path, "w") as f:
    json.dump(inv, f, indent=2, sort_keys=True)
    f.write("\n")
EOF
}

secs() { [ "$1" = fail ] && echo "fail" || echo "${1%% *}"; }
mib() { [ "$1" = fail ] && echo "fail" || echo "${1##* }"; }
ratio() { # A B: A/B with two decimals, or n/a
  if [[ "$1" =~ ^[0-9.]+$ && "$2" =~ ^[0-9.]+$ ]] && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
  else
    echo n/a
  fi
}

header=(N "nix s" "nix MiB")
[ "$mode" != eval ] && header+=("cold s" "cold MiB" "nix/kith" "warm ms" "re-plan s" "re-plan/cold")
[ "$mode" != select ] && header+=("eval s" "eval MiB" "nix/eval")
rows=()

for n in $sizes; do
  dir="$work/fleet-$n"
  python3 "$root/benches/gen-fleet.py" "$n" "$dir" --seed "${SEED:-1}" 2>/dev/null || die "gen-fleet $n failed"
  # A user's files are older than the plan cache's 2 s racy window (entries modified
  # within it are checked by their content); let the generated ones settle likewise.
  sleep "${SETTLE:-3}"
  echo "select.sh: N=$n generated, timing…" >&2
  nix="" cold="" warm="" replan="" ev=""
  for r in $(seq "$reps"); do
    if [ "${NIX:-1}" != 0 ]; then
      m=$(measure "$oracle" "$dir" exports)
      [ "$m" = fail ] && fail_note "$n" oracle
      nix=$(keep_best "$nix" "$m")
    fi
    if [ "$mode" != eval ] && [ $has_select = 1 ]; then
      c="$work/cache-cold-$n-$r"
      mkdir -p "$c"
      sel_cmd "$dir" "$c"
      m=$(measure "${sel[@]}" --no-cache)
      [ "$m" = fail ] && fail_note "$n" "kith select --no-cache"
      cold=$(keep_best "$cold" "$m")
      c="$work/cache-warm-$n-$r"
      mkdir -p "$c"
      sel_cmd "$dir" "$c"
      "${sel[@]}" >/dev/null 2>&1
      m=$(measure "${sel[@]}")
      [ "$m" = fail ] && fail_note "$n" "kith select (warm)"
      warm=$(keep_best "$warm" "$m")
    fi
    if [ "$mode" != select ]; then
      c="$work/cache-eval-$n"
      mkdir -p "$c"
      m=$(measure env KITH_CACHE_DIR="$c" "$kith" eval --json --flake "$dir" --attr clan.exports "${overrides[@]}")
      [ "$m" = fail ] && fail_note "$n" "kith eval"
      ev=$(keep_best "$ev" "$m")
    fi
  done
  if [ "$mode" != eval ] && [ $has_select = 1 ]; then
    # Re-plan: a cache of the current state, one setting changed, one query.
    c="$work/cache-replan-$n"
    mkdir -p "$c"
    sel_cmd "$dir" "$c"
    for r in $(seq "$reps"); do
      "${sel[@]}" >/dev/null 2>&1
      bump_setting "$dir" $((3000 + r))
      m=$(measure "${sel[@]}")
      [ "$m" = fail ] && fail_note "$n" "kith select (re-plan)"
      replan=$(keep_best "$replan" "$m")
    done
  fi

  if [ "${NIX:-1}" != 0 ]; then row=("$n" "$(secs "$nix")" "$(mib "$nix")"); else row=("$n" - -); fi
  if [ "$mode" != eval ]; then
    if [ $has_select = 1 ]; then
      warm_ms=n/a
      [ "$warm" != fail ] && warm_ms=$(awk -v s="${warm%% *}" 'BEGIN { printf "%.0f", s * 1000 }')
      row+=("$(secs "$cold")" "$(mib "$cold")" "$(ratio "$(secs "$nix")" "$(secs "$cold")")"
        "$warm_ms" "$(secs "$replan")" "$(ratio "$(secs "$replan")" "$(secs "$cold")")")
    else
      row+=(n/a n/a n/a n/a n/a n/a)
    fi
  fi
  [ "$mode" != select ] && row+=("$(secs "$ev")" "$(mib "$ev")" "$(ratio "$(secs "$nix")" "$(secs "$ev")")")
  rows+=("$(printf '%s\t' "${row[@]}")")
done

[ $has_select = 0 ] && [ "$mode" != eval ] && echo "select.sh: $kith has no 'select' subcommand: kith select columns are n/a" >&2
{
  printf '%s\t' "${header[@]}"
  echo
  printf '%s\n' "${rows[@]}"
} | column -t -s $'\t'
# Any failed measurement makes the run fail (after the table, so the rest is still shown).
if printf '%s\n' "${rows[@]}" | grep -qw fail; then exit 1; fi
