# Deep lazy recursion: each element of a 4 000-long list is a thunk that forces the one
# before it, so forcing the last element nests 4 000 thunk evaluations (each one a function
# call and a builtin call: Nix 2.26 and kith stop at their default max-call-depth of 10 000
# near 5 000 elements).
let
  chain = builtins.genList (i: if i == 0 then 0 else builtins.elemAt chain (i - 1) + 1) 4000;
in
builtins.elemAt chain 3999
