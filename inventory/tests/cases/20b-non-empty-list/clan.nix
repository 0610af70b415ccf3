{ lib, ... }:
{
  meta.name = "20b-non-empty-list";
  modules.shapes = ./modules/shapes.nix;
  inventory.machines.jon = { };
  inventory.instances.shapes = {
    module.name = "shapes";
    module.input = "self";
    roles.default.machines.jon.settings = { some = [ ]; };
  };
}
