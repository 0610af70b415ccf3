# A strict left fold over a million-element list: primop calls and list traversal.
builtins.foldl' (acc: x: acc + x) 0 (builtins.genList (i: i) 1000000)
