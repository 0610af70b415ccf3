# The options of every role interface of clan-core's services, for gen_core.py: run.py writes
#   nix-instantiate --eval --strict --json introspect.nix --arg corpus ../shared/corpus
# into OUT/services.json at startup.
{ corpus }:
let
  lib = import (corpus + "/nixpkgs-lib/lib");
  core = corpus + "/clan-core";
  clanLibBase = import (core + "/lib") { inherit lib; };
  clanLib = lib.fix (
    lib.extends (_final: _prev: {
      clan = import (core + "/lib/clan") { inherit lib clan-core; };
    }) clanLibBase.__unfix__
  );
  clan-core = { inherit clanLib; lib = clanLib; };
  names = builtins.filter (
    name:
    !(builtins.elem name [ "installer" "kde" "coredns" ])
    && builtins.pathExists (core + "/clanServices/${name}/default.nix")
  ) (builtins.attrNames (lib.filterAttrs (_: t: t == "directory") (builtins.readDir (core + "/clanServices"))));
  evalSvc = name: clanLib.evalService { modules = [ (core + "/clanServices/${name}/default.nix") ]; prefix = [ ]; };
  opts = interface:
    let e = lib.evalModules { modules = [ interface ]; };
    in map (o: { inherit (o) name type; hasDefault = o ? default; readOnly = o.readOnly or false; })
      (builtins.filter (o: o.visible or true) (lib.optionAttrSetToDocList e.options));
in
lib.genAttrs names (name:
  let s = (evalSvc name).config; in
  {
    manifestName = s.manifest.name;
    exportsOut = s.manifest.exports.out or [ ];
    roles = lib.mapAttrs (_: r: builtins.tryEval (builtins.deepSeq (opts r.interface) (opts r.interface))) s.roles;
  })
