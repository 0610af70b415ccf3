# The module system's merge path: `lib.evalModules` over 2 000 options, each defined by 10
# modules with distinct priorities (mkDefault, mkForce, mkOverride) — priority filtering,
# type checks and merging per option. `<nixpkgs-lib>` is nixpkgs' lib (compare.sh passes it).
let
  lib = import <nixpkgs-lib/lib>;
  inherit (lib) mkOption types;
  names = builtins.genList (i: "opt${toString i}") 2000;
  # Definition number k of option number i; exactly one definition has the best priority.
  define =
    k: i:
    if k == 0 then
      lib.mkDefault (i + k)
    else if k == 1 && lib.mod i 2 == 0 then
      lib.mkForce (i + k)
    else
      lib.mkOverride (100 + k) (i + k);
  defModule = k: {
    config.flat = lib.listToAttrs (lib.imap0 (i: n: lib.nameValuePair n (define k i)) names);
  };
  optionsModule = {
    options.flat = lib.genAttrs names (
      _:
      mkOption {
        type = types.int;
        default = 0;
      }
    );
  };
  result = lib.evalModules {
    modules = [ optionsModule ] ++ builtins.genList defModule 10;
  };
  values = builtins.attrValues result.config.flat;
in
{
  count = builtins.length values;
  sum = builtins.foldl' builtins.add 0 values;
  first = result.config.flat.opt0;
  last = result.config.flat.opt1999;
}
