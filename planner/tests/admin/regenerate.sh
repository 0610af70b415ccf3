#!/usr/bin/env bash
# Writes the expected outputs of kith's admin commands for every clan conformance case:
# `planner/tests/admin/<shared|inventory>/<case>/expected.json`, computed by the independent
# model `planner/tests/clan_cli_model.py` from each case's saved clan-core views
# (`expected.json`, or `expected-partial.json` where clan-core rejects the case).
# Cases: ../shared/conformance/cases/*, inventory/tests/cases/* and the bundled example
# clan(s) in fixtures/ (those with an expected.json). Run from anywhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
model="$here/../clan_cli_model.py"
shared="$root/../shared/conformance/cases"
gen() {
  local group="$1" src="$2"
  for case in "$src"/*/; do
    case="${case%/}"
    [ -e "$case/expected.json" ] || [ -e "$case/expected-partial.json" ] || continue
    name="$(basename "$case")"
    mkdir -p "$here/$group/$name"
    python3 "$model" "$case" > "$here/$group/$name/expected.json"
    echo "$group/$name"
  done
}
if [ -d "$shared" ]; then
  gen shared "$shared"
else
  echo "regenerate.sh: $shared not found: shared cases not regenerated" >&2
fi
gen inventory "$root/inventory/tests/cases"
gen fixtures "$root/fixtures"
