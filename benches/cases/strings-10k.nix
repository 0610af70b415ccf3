# String building: 10 000 interpolated pieces joined with concatStrings, and the same
# pieces joined by repeated `+` (quadratic copying, as in naive Nix code).
let
  pieces = builtins.genList (i: "piece ${toString i}, ") 10000;
  concatenated = builtins.concatStringsSep "" pieces;
  added = builtins.foldl' (acc: s: acc + s) "" pieces;
in
{
  length = builtins.stringLength concatenated;
  same = concatenated == added;
  hash = builtins.hashString "sha256" added;
}
