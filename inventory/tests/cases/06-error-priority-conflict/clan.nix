{ lib, ... }:
{
  meta.name = "conflict";
  imports = [ ./other.nix ];
  inventory.machines.a.description = "one";
  inventory.machines.a.machineClass = lib.mkDefault "darwin";
}
