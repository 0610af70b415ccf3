# Attribute-set updates: 10 000 successive `//` of a growing set, the shape of the module
# system's merges.
let
  merged = builtins.foldl' (acc: i: acc // { "k${toString i}" = i; }) { } (builtins.genList (i: i) 10000);
in
{
  count = builtins.length (builtins.attrNames merged);
  first = merged.k0;
  last = merged.k9999;
}
