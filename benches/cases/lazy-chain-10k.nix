# Deep lazy recursion: each element of a 10 000-long list is a thunk that forces the one
# before it, so forcing the last element nests 10 000 thunk evaluations.
let
  chain = builtins.genList (i: if i == 0 then 0 else builtins.elemAt chain (i - 1) + 1) 10000;
in
builtins.elemAt chain 9999
