# A flake-parts module in a file, with a nested import.
{ lib, ... }:
{
  imports = [ ./checks.nix ];
  perSystem = { ... }: { };
}
