{ lib, ... }:
{
  meta.name = "computed";
  imports = [ ./more-tags.nix ];
  inventory.machines = {
    web1.tags = [ "web" ];
    web2 = {
      tags = [ "web" ];
      machineClass = "darwin";
    };
    db1.description = "first database";
    db2.tags = [
      "db"
      "web"
    ];
  };
  # Computed tags: static, and dynamic from builtin tags (`config.all`, `config.darwin`)
  # and from the machines.
  inventory.tags =
    { config, machines, ... }:
    {
      static = [
        "db1"
        "web1"
      ];
      databases = lib.filter (n: lib.hasPrefix "db" n) config.all;
      darwinOrStatic = lib.unique (config.darwin ++ config.static);
      described = builtins.attrNames (lib.filterAttrs (_: m: m.description != null) machines);
    };
}
