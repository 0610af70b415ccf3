# kith's stand-in for the modules of clan-core that feed `clan.inventory`
# (modules/clan/default.nix and the imports of modules/clan/module.nix), with their
# structure kept: the module system orders definitions by where modules sit in the import
# graph, and clan's results (tag order, error listings) depend on that order.
#   core   clan-core's source path as a string (only to name files)
{ core }:
let
  mkDefault = content: {
    _type = "override";
    priority = 1000;
    inherit content;
  };
  moduleFile = core + "/modules/clan/module.nix";
  fromJson =
    { config, ... }:
    let
      file = "${config.directory}/inventory.json";
      loaded = if builtins.pathExists file then builtins.fromJSON (builtins.readFile file) else { };
    in
    {
      imports = [ { inventory._inventoryFile = file; } ];
      inventory = _: {
        _file = file;
        imports = [ loaded ];
      };
    };
  machineDirs =
    { config, ... }:
    let
      dir = "${config.directory}/machines";
      entries = builtins.readDir dir;
      names = builtins.filter (n: entries.${n} == "directory") (builtins.attrNames entries);
    in
    {
      inventory =
        if builtins.pathExists dir then
          {
            imports = map (name: {
              _file = "${dir}/${name}";
              machines.${name} = { };
            }) names;
          }
        else
          { };
    };
  clanMachines =
    { config, ... }:
    {
      inventory.machines = builtins.mapAttrs (_: _: { }) config.machines;
    };
  computedTags = {
    _file = core + "/modules/clan/computed-tags.nix";
    inventory.tags =
      { machines, ... }:
      let
        ofClass = c: builtins.filter (n: machines.${n}.machineClass == c) (builtins.attrNames machines);
      in
      {
        all = mkDefault (builtins.attrNames machines);
        nixos = mkDefault (ofClass "nixos");
        darwin = mkDefault (ofClass "darwin");
      };
  };
  module =
    { config, ... }:
    {
      _file = moduleFile;
      imports = [
        fromJson
        machineDirs
        clanMachines
        computedTags
      ];
      config.inventory.meta = config.meta;
    };
in
# clan-core's `modules.clan.default`, which `lib.clan` (and clan-core's flake-parts module)
# evaluate first: `lib.modules.importApply ./default.nix { … }` (`{ _file; imports = [ … ]; }`)
# published through flake-parts' `flake.modules` option, whose `apply` wraps it in a
# function module importing the option's `deferredModule` merge, which imports it with a
# default location. Three levels then importApply's: default.nix's imports are five modules
# deep, module.nix's (computed tags, inventory.json) six. The module system collects modules
# breadth-first and definitions merge in that order reversed, so this depth orders clan-core's
# definitions against the user's (tag lists of one priority concatenate in that order).
{
  _file = core + "/modules/clan/default.nix";
  imports = [
    {
      imports = [
        {
          imports = [
            {
              imports = [
                {
                  imports = [
                    { _file = core + "/modules/clan/top-level-interface.nix"; }
                    module
                    { _file = core + "/modules/clan/distributed-services.nix"; }
                    { _file = core + "/modules/clan/checks.nix"; }
                  ];
                }
              ];
            }
          ];
        }
      ];
    }
  ];
}
