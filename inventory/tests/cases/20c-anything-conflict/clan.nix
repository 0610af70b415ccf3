{ lib, ... }:
{
  meta.name = "20c-anything-conflict";
  modules.shapes = ./modules/shapes.nix;
  inventory.machines.jon = { };
  inventory.instances.shapes = {
    module.name = "shapes";
    module.input = "self";
    roles.default.machines.jon.settings = { free = lib.mkMerge [ { a = 1; } { a = "x"; } ]; };
  };
}
