#!/usr/bin/env bash
# Times `kith eval --strict FILE` against C++ Nix's `nix-instantiate --eval --strict` on every
# benches/cases/*.nix, in the same run, and checks that the outputs are identical.
#
#   bash benches/compare.sh [CASE.nix ...]
#
# Nix 2.8 is Debian's nix-bin (installed with apt-get when missing and running as root);
# Nix 2.26 runs through ../shared/tools/nix-current when that script exists (its first use
# builds a chroot, a few minutes; set NIX_CURRENT=0 to leave it out). See below for timing.
# Each engine's peak memory (max RSS, from one run under /usr/bin/time) is printed as well.
# Cases may import nixpkgs' lib as `<nixpkgs-lib/lib>`: every engine gets
# `-I nixpkgs-lib=$NIXPKGS_LIB` (default: the corpus copy next to this checkout). A case whose
# text contains the line `# compare: skip-nix-2.8` is not run under Nix 2.8 (it needs newer
# builtins).
# kith is the `dist` build (`cargo build --profile dist`); with PGO=1 the profile-guided one
# that benches/pgo.sh makes (trained on other inputs than these cases); KITH=PATH times a
# given binary instead.
# Timing: rounds that run every engine once in turn, median per engine (benches/interleave.py;
# a shared machine's speed drifts, and back-to-back blocks of runs would skew the ratios);
# INTERLEAVE=0 times each engine in one block instead (hyperfine's mean when installed).
# Environment: RUNS (default 10), WARMUP (default 1), NIX_CURRENT (default 1), NIXPKGS_LIB,
# PGO (default 0), KITH, INTERLEAVE (default 1).
set -euo pipefail
# Run from the checkout: nix-current only runs Nix 2.26 from inside a git checkout (from
# elsewhere it falls back to the host's Nix).
cd "$(dirname "$0")/.."
root="$(pwd)"
nixpkgs_lib="${NIXPKGS_LIB:-$root/../shared/corpus/nixpkgs-lib}"
nixpkgs_lib="$(cd "$nixpkgs_lib" 2>/dev/null && pwd || echo "$nixpkgs_lib")"
runs="${RUNS:-10}"
warmup="${WARMUP:-1}"
nix_current="$root/../shared/tools/nix-current"
[ "${NIX_CURRENT:-1}" = 0 ] && nix_current=""

apt_install() {
  [ "$(id -u)" = 0 ] || return 1
  command -v apt-get >/dev/null || return 1
  if [ -z "${apt_updated:-}" ]; then
    apt-get update -qq >&2 || return 1
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

if [ -n "${KITH:-}" ]; then
  kith="$(realpath "$KITH")"
elif [ "${PGO:-0}" = 1 ]; then
  echo "building kith (profile dist, profile-guided: benches/pgo.sh)..." >&2
  kith="$(bash benches/pgo.sh)"
else
  echo "building kith (profile dist)..." >&2
  cargo build --profile dist -q -p kith
  kith="$root/target/dist/kith"
fi
echo "kith: $kith" >&2

command -v nix-instantiate >/dev/null || apt_install nix-bin || true
command -v nix-instantiate >/dev/null || { echo "nix-instantiate not found and could not be installed" >&2; exit 1; }
command -v hyperfine >/dev/null || apt_install hyperfine || true
if [ -n "$nix_current" ] && [ ! -e "$nix_current" ]; then nix_current=""; fi
if [ -n "$nix_current" ] && [ "$(id -u)" != 0 ]; then
  echo "nix-current needs root; leaving Nix 2.26 out" >&2
  nix_current=""
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# kith's cache of lowered files lives in the run's own directory: it starts empty, the
# first (output-checking) run fills it, and the timed runs read it, as a user's repeated
# queries do. The "cold" column times `--no-ir-cache` (parse and lower every file).
export KITH_CACHE_DIR="$tmp/kith-cache"

# Mean wall time of a command in milliseconds (the command's output is discarded).
time_ms() {
  if command -v hyperfine >/dev/null; then
    hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
      --export-csv "$tmp/t.csv" "$(printf '%q ' "$@")" >/dev/null 2>&1 || { echo "-"; return; }
    awk -F, 'NR == 2 { printf "%.1f", $2 * 1000 }' "$tmp/t.csv"
  else
    local i start end total=0
    for ((i = 0; i < warmup; i++)); do "$@" >/dev/null 2>&1 || true; done
    for ((i = 0; i < runs; i++)); do
      start=$(date +%s%N)
      "$@" >/dev/null 2>&1 || { echo "-"; return; }
      end=$(date +%s%N)
      total=$((total + end - start))
    done
    awk -v t="$total" -v n="$runs" 'BEGIN { printf "%.1f", t / n / 1e6 }'
  fi
}

# Peak resident memory of one run of a command, in MB ("-" on failure).
rss_mb() {
  [ -x /usr/bin/time ] || { echo "-"; return; }
  /usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null 2>&1 || { echo "-"; return; }
  awk '{ v = $1 } END { printf "%.0f", v / 1024 }' "$tmp/rss"
}

# nix/kith: how many times faster kith is ("-" when either side has no time).
ratio() {
  if [ "$1" = - ] || [ "$2" = - ]; then echo "-"; else awk -v k="$1" -v n="$2" 'BEGIN { printf "%.2fx", n / k }'; fi
}

# Runs a command, saving stdout; prints "ok" or "error".
capture() {
  local out="$1"; shift
  if "$@" >"$out" 2>"$out.err"; then echo ok; else echo error; fi
}

if [ "$#" -gt 0 ]; then cases=("$@"); else cases=("$root"/benches/cases/*.nix); fi
# Interleaved rounds with medians (benches/interleave.py) unless INTERLEAVE=0 or there is no
# python3; then each command's runs come in one block (hyperfine's mean, or a loop's).
interleave="${INTERLEAVE:-1}"
command -v python3 >/dev/null || interleave=0
if [ "$interleave" = 1 ]; then
  echo "timing: interleaved rounds, median of $runs runs (benches/interleave.py)" >&2
else
  echo "timing: $(command -v hyperfine >/dev/null && echo "hyperfine, mean of $runs runs" || echo "loop of $runs runs, mean")" >&2
fi
fmt='%-22s %9s %9s %10s %9s %9s %11s %9s %9s %9s %9s  %s\n'
printf "$fmt" case "kith ms" "cold ms" "2.8 ms" "2.8/kith" "2.8/cold" "2.26 ms" "2.26/kith" "kith MB" "2.8 MB" "2.26 MB" output
mismatches=0
for file in "${cases[@]}"; do
  file="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
  name="$(basename "$file" .nix)"
  inc=(-I "nixpkgs-lib=$nixpkgs_lib")
  kith_cmd=("$kith" eval --strict "${inc[@]}" "$file")
  nix_cmd=(nix-instantiate --eval --strict --store dummy:// "${inc[@]}" "$file")
  new_cmd=()
  [ -n "$nix_current" ] && new_cmd=("$nix_current" nix-instantiate --eval --strict --store dummy:// "${inc[@]}" "$file")
  skip_old=""
  grep -qx '# compare: skip-nix-2.8' "$file" && skip_old=1

  notes=()
  k_status=$(capture "$tmp/kith.out" "${kith_cmd[@]}")
  n_status=skipped
  [ -z "$skip_old" ] && n_status=$(capture "$tmp/nix.out" "${nix_cmd[@]}")
  [ "$k_status" = ok ] || notes+=("kith failed: $(grep -a 'error:' "$tmp/kith.out.err" | tail -n 1 | sed 's/^ *//')")
  [ "$n_status" = error ] && notes+=("nix 2.8 failed")
  if [ "$k_status" = ok ] && [ "$n_status" = ok ] && ! cmp -s "$tmp/kith.out" "$tmp/nix.out"; then
    notes+=("MISMATCH vs 2.8")
  fi
  if [ ${#new_cmd[@]} -gt 0 ]; then
    c_status=$(capture "$tmp/new.out" "${new_cmd[@]}")
    [ "$c_status" = ok ] || notes+=("nix 2.26 failed")
    if [ "$k_status" = ok ] && [ "$c_status" = ok ] && ! cmp -s "$tmp/kith.out" "$tmp/new.out"; then
      notes+=("MISMATCH vs 2.26")
    fi
  fi

  k_ms="-"; kc_ms="-"; n_ms="-"; c_ms="-"
  cold_cmd=("${kith_cmd[0]}" eval --no-ir-cache "${kith_cmd[@]:2}")
  if [ "$interleave" = 1 ]; then
    # Every engine that ran correctly, timed in interleaved rounds (benches/interleave.py).
    timed=(); slots=()
    if [ "$k_status" = ok ]; then timed+=("${kith_cmd[@]}" -- "${cold_cmd[@]}" --); slots+=(k kc); fi
    if [ "$n_status" = ok ]; then timed+=("${nix_cmd[@]}" --); slots+=(n); fi
    if [ ${#new_cmd[@]} -gt 0 ] && [ "${c_status:-}" = ok ]; then timed+=("${new_cmd[@]}" --); slots+=(c); fi
    if [ ${#slots[@]} -gt 0 ]; then
      mapfile -t medians < <(python3 "$root/benches/interleave.py" "$runs" "$warmup" "${timed[@]}")
      for i in "${!slots[@]}"; do
        case "${slots[$i]}" in
          k) k_ms="${medians[$i]}" ;; kc) kc_ms="${medians[$i]}" ;;
          n) n_ms="${medians[$i]}" ;; c) c_ms="${medians[$i]}" ;;
        esac
      done
    fi
  else
    [ "$k_status" = ok ] && k_ms=$(time_ms "${kith_cmd[@]}")
    [ "$k_status" = ok ] && kc_ms=$(time_ms "${cold_cmd[@]}")
    [ "$n_status" = ok ] && n_ms=$(time_ms "${nix_cmd[@]}")
    [ ${#new_cmd[@]} -gt 0 ] && [ "${c_status:-}" = ok ] && c_ms=$(time_ms "${new_cmd[@]}")
  fi
  k_mb="-"; [ "$k_status" = ok ] && k_mb=$(rss_mb "${kith_cmd[@]}")
  n_mb="-"; [ "$n_status" = ok ] && n_mb=$(rss_mb "${nix_cmd[@]}")
  c_mb="-"; [ "$c_ms" != - ] && c_mb=$(rss_mb "${new_cmd[@]}")
  [ -n "$skip_old" ] && notes+=("not run under 2.8")
  [ ${#notes[@]} -eq 0 ] && notes=("identical")
  case "${notes[*]}" in *MISMATCH*|*failed*) mismatches=$((mismatches + 1)) ;; esac
  printf "$fmt" "$name" "$k_ms" "$kc_ms" "$n_ms" "$(ratio "$k_ms" "$n_ms")" "$(ratio "$kc_ms" "$n_ms")" \
    "$c_ms" "$(ratio "$k_ms" "$c_ms")" "$k_mb" "$n_mb" "$c_mb" "$(IFS=';'; echo "${notes[*]}")"
done
if [ "$mismatches" -gt 0 ]; then
  echo "$mismatches case(s) with differing output or a failure" >&2
  exit 1
fi
