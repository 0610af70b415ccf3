#!/usr/bin/env bash
# Regenerates the expected answers of every case in this directory with clan-core's own
# Nix code under C++ Nix (the shared `clan-oracle`, evaluating each case's `clan.nix`):
#   expected.json          all three views, when they all evaluate;
#   expected-partial.json  the views that evaluate, when one fails;
#   expected-error.txt     the first `error:` line Nix prints for the first failing view
#                          (views in the order exports, inventory, cliChecks), paths
#                          written @CASE@ and @CORPUS@ as in the JSON views.
# Never edit those files by hand. Needs nix-instantiate (apt-get install -y nix-bin).
#   regenerate.sh [CASE...]     (default: every case here, and the bundled example clan
#                                ../../../fixtures/clan)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
oracle="${KITH_CLAN_ORACLE:-$here/../../../../shared/tools/clan-oracle}"
corpus="$(cd "$(dirname "$oracle")/../corpus" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ "$#" -eq 0 ]; then
  set -- "$here"/*/ "$here/../../../fixtures/clan"
fi
for dir in "$@"; do
  dir="$(cd "$dir" && pwd)"
  rm -f "$dir/expected.json" "$dir/expected-partial.json" "$dir/expected-error.txt"
  if "$oracle" "$dir" all >"$tmp/all.json" 2>"$tmp/all.err"; then
    mv "$tmp/all.json" "$dir/expected.json"
    echo "$(basename "$dir"): expected.json"
    continue
  fi
  error=""
  views=()
  for view in exports inventory cliChecks; do
    if "$oracle" "$dir" "$view" >"$tmp/$view.json" 2>"$tmp/$view.err"; then
      views+=("$view")
    elif [ -z "$error" ]; then
      error="$(grep -m1 '^error:' "$tmp/$view.err" | sed 's/^error: //')"
      error="${error//"$dir"/@CASE@}"
      error="${error//"$corpus"/@CORPUS@}"
      if [ -z "$error" ]; then
        echo "$(basename "$dir"): the oracle failed without an error line:" >&2
        cat "$tmp/$view.err" >&2
        exit 1
      fi
    fi
  done
  python3 - "$tmp" "$dir/expected-partial.json" "${views[@]}" <<'PY'
import json, sys
tmp, out, views = sys.argv[1], sys.argv[2], sys.argv[3:]
partial = {v: json.load(open(f"{tmp}/{v}.json")) for v in views}
with open(out, "w") as f:
    f.write(json.dumps(partial, indent=2, sort_keys=True) + "\n")
PY
  printf '%s\n' "$error" >"$dir/expected-error.txt"
  echo "$(basename "$dir"): expected-partial.json (${views[*]:-none}), expected-error.txt"
done
