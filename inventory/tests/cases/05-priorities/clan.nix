{ lib, ... }:
{
  meta.name = "priorities";
  imports = [ ./defaults.nix ];
  inventory.machines.a = {
    description = lib.mkForce "forced";
    machineClass = lib.mkDefault "darwin";
    tags = lib.mkMerge [
      [ "one" ]
      (lib.mkIf true [ "two" ])
      (lib.mkIf false [ "never" ])
    ];
  };
  inventory.machines.b = lib.mkIf true { description = "b"; };
  inventory.machines.c = lib.mkMerge [
    { tags = [ "x" ]; }
    { tags = lib.mkBefore [ "first" ]; }
  ];
  inventory.machines.d.machineClass = lib.mkForce "nixos";
  inventory.machines.e = lib.mkIf false { description = "hidden"; };
  inventory.tags.manual = lib.mkMerge [
    [ "a" ]
    (lib.mkIf false [ "b" ])
  ];
}
