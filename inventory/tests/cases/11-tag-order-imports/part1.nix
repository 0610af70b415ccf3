{ lib, ... }:
{
  imports = [ ./part3.nix ];
  inventory =
    { ... }:
    {
      tags.all = lib.mkDefault [ "z" ];
      tags.nixos = lib.mkDefault [ "n1" ];
      machines.a.tags = [ "p1" ];
    };
}
