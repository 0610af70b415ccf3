{
  meta.name = "inventory-function";
  modules.roster = ./modules/roster.nix;
  # The inventory as a module function reading its own config.
  inventory =
    { config, lib, ... }:
    {
      machines = {
        a.tags = [ "t" ];
        b.description = "one of ${toString (builtins.length (builtins.attrNames config.machines))}";
        c.machineClass = "darwin";
      };
      tags.fromConfig = lib.filter (n: config.machines.${n}.machineClass == "nixos") (
        builtins.attrNames config.machines
      );
      instances.r = {
        module.name = "roster";
        module.input = "self";
        roles.primary.tags = [ "t" ];
        roles.replica.machines.b.settings.zone = "z";
      };
    };
}
