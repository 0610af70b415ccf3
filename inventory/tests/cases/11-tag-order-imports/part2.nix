{ lib, ... }:
{
  inventory.tags.all = lib.mkDefault [ "y" ];
  inventory.tags.darwin = lib.mkDefault [ "d" ];
  inventory.tags.shared = [ "a" ];
  inventory.machines.b.tags = [ "bp2" ];
}
