# kith's source-tree substitute for the clan-core flake (see docs/store-and-flakes.md).
#
# Used when clan-core's own flake inputs (flake-parts, nixpkgs, …) are not in the store,
# so its flake.nix cannot run. Builds the outputs a clan's flake uses from clan-core's
# files, following what clan-core's lib/flake-module.nix, modules/clan/flake-module.nix,
# flakeModules/flake-module.nix and clanServices/*/flake-module.nix declare:
#   src      clan-core's source tree (a path)
#   nixpkgs  the nixpkgs input whose `lib/` is used
#   self     the finished flake value (this set, plus outPath, inputs, sourceInfo, …)
#   skip     service directories left out of `clan.modules` (they need packages)
{ src, nixpkgs, self, skip }:
let
  lib = import (nixpkgs.outPath + "/lib");
  services = src + "/clanServices";
  isService =
    name: kind:
    kind == "directory"
    && !(builtins.elem name skip)
    && builtins.pathExists (services + "/${name}/default.nix");
  serviceModules = builtins.mapAttrs (name: _: services + "/${name}/default.nix") (
    lib.filterAttrs isService (builtins.readDir services)
  );
  baseLib = import (src + "/lib") { inherit lib; };
  withClan = final: _prev: {
    clan = import (src + "/lib/clan") {
      inherit lib;
      clan-core = self;
    };
  };
  clanLib = lib.fix (lib.extends withClan baseLib.__unfix__);
  # clan-core's flake `lib` as lib/flake-module.nix extends it (with the deprecated
  # `buildClan`), taken from that file where the tree has it.
  flakeModule = src + "/lib/flake-module.nix";
  flakeLib =
    if builtins.pathExists flakeModule then
      (import flakeModule {
        inherit lib self;
        inputs = self.inputs or { };
      }).flake.lib
    else
      clanLib;
  # clan-core's flake-parts module (flakeModules/flake-module.nix), given the
  # `flake-parts-lib` of the flake-parts evaluation that imports it (clan-core's own
  # flake-parts is what is missing).
  partsModule = src + "/flakeModules/clan.nix";
  clanFlakeModule =
    {
      flake-parts-lib,
      self,
      inputs,
      config,
      lib,
      ...
    }@args:
    import partsModule {
      clanLib = flakeLib;
      coreInputs = self'.inputs or { };
      coreModules = self'.modules;
      inherit flake-parts-lib;
    } args;
  self' = self;
in
{
  clanLib = flakeLib;
  lib = flakeLib;
  modules.clan.default = lib.modules.importApply (src + "/modules/clan") { clan-core = self; };
  clan = {
    modules = serviceModules;
    deprecatedModules = [ ];
    templates = { };
  };
}
// lib.optionalAttrs (builtins.pathExists partsModule) {
  flakeModules = {
    clan = clanFlakeModule;
    default = clanFlakeModule;
  };
}
