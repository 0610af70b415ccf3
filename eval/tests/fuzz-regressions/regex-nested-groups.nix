let n = 15000; p = builtins.concatStringsSep "" (builtins.genList (x: "(") n) + "a" + builtins.concatStringsSep "" (builtins.genList (x: ")") n); in builtins.match p "a" == null
