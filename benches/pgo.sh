#!/usr/bin/env bash
# Builds kith with profile-guided optimisation: an instrumented `dist` build runs a training
# workload, LLVM merges the profile, and a second `dist` build uses it.
#
#   bash benches/pgo.sh            # writes target/pgo/dist/kith
#
# The training workload is general Nix and Clan code, and none of benches/cases/*.nix (so the
# benchmarks measure how the build generalises, not what it was trained on):
#   - the Nix language test suite (../shared/tools/nix-lang-suite);
#   - every module of nixpkgs' lib/tests/modules, each evaluated alone with lib.evalModules;
#   - nixpkgs' other pure lib tests (systems.nix, checkAndMergeCompat.nix);
#   - every clan conformance case, its exports and inventory views.
# Needs `llvm-profdata` of the LLVM that rustc uses (`rustc -vV`); as root it installs
# Debian's llvm-N package when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
shared="$(cd "$root/../shared" 2>/dev/null && pwd)" || {
  echo "pgo.sh: ../shared (the training corpus) not found" >&2
  exit 1
}
lib="$shared/corpus/nixpkgs-lib"
out="$root/target/pgo"
raw="$out/raw"

llvm_major="$(rustc -vV | awk '/^LLVM version/ { split($3, v, "."); print v[1] }')"
profdata="$(command -v "llvm-profdata-$llvm_major" || true)"
if [ -z "$profdata" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get install -y -qq "llvm-$llvm_major" >&2 || true
  profdata="$(command -v "llvm-profdata-$llvm_major" || true)"
fi
[ -n "$profdata" ] || {
  echo "pgo.sh: llvm-profdata-$llvm_major (rustc's LLVM) not found" >&2
  exit 1
}

rm -rf "$raw"
mkdir -p "$raw"
echo "pgo.sh: instrumented build..." >&2
RUSTFLAGS="-Cprofile-generate=$raw" \
  cargo build --profile dist -q -p kith --target-dir "$out/gen-target"
kith="$out/gen-target/dist/kith"

cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
export KITH_CACHE_DIR="$cache"
# Training runs may fail on purpose (error cases); only their execution matters here.
train() { timeout 60 "$@" >/dev/null 2>&1 || true; }

echo "pgo.sh: training: language suite" >&2
train python3 "$shared/tools/nix-lang-suite" "$kith"

echo "pgo.sh: training: lib/tests/modules" >&2
for f in "$lib"/lib/tests/modules/*.nix; do
  train "$kith" eval --strict -I "nixpkgs-lib=$lib" \
    -E "((import <nixpkgs-lib/lib>).evalModules { modules = [ $f ]; }).config"
done
for t in systems.nix checkAndMergeCompat.nix; do
  train "$kith" eval --strict "$lib/lib/tests/$t"
done

echo "pgo.sh: training: clan conformance cases" >&2
for case in "$shared"/conformance/cases/*/; do
  for view in clan.exports clanInternals.inventoryClass.inventorySerialization \
    clanInternals.cliChecks; do
    train "$kith" eval --json --flake "${case%/}#$view" \
      --override-input clan-core "$shared/corpus/clan-core" \
      --override-input nixpkgs "$lib"
  done
done

"$profdata" merge -o "$out/kith.profdata" "$raw"
echo "pgo.sh: optimised build..." >&2
RUSTFLAGS="-Cprofile-use=$out/kith.profdata" \
  cargo build --profile dist -q -p kith --target-dir "$out"
echo "$out/dist/kith"
