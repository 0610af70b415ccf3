builtins.length (builtins.foldl' (acc: x: [acc]) [] (builtins.genList (x: x) 200000))
