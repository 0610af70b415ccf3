# nixpkgs' own library test suite, lib/tests/misc.nix (about 5 000 lines of `lib` calls;
# the empty list means every test passed). It needs builtins newer than Nix 2.8, so only
# Nix 2.26 is timed against kith. `<nixpkgs-lib>` is nixpkgs' lib (compare.sh passes it).
# compare: skip-nix-2.8
import <nixpkgs-lib/lib/tests/misc.nix>
