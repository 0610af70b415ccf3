[ (builtins.match "(.*)[.]nix" "foobar.nix") (builtins.split "(a)|b" "xaybz") (builtins.match "a*" "") (builtins.split "x*" "abc") ]
