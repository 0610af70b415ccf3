{ lib, ... }:
{
  inventory.machines.a = {
    description = "plain";
    machineClass = "nixos";
    tags = lib.mkDefault [ "dropped" ];
  };
  inventory.machines.b.description = lib.mkDefault "b-default";
  inventory.machines.c.tags = lib.mkAfter [ "last" ];
  inventory.machines.d.machineClass = "darwin";
}
