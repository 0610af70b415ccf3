{
  self,
  inputs,
  lib,
  ...
}:
{
  flake.clan = {
    imports = lib.optional (self ? inputs && inputs ? nixpkgs) ./clan.nix;
  };
}
