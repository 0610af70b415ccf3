# The flake-parts module as a file: clan-core's module by its other name, the clan in
# `flake.clan`, from a module that reads `self` and `inputs`.
{ inputs, ... }:
{
  imports = [
    inputs.clan-core.flakeModules.clan
    ./clan-part.nix
  ];
  systems = [ "x86_64-linux" ];
}
