{ lib, ... }:
{
  meta.name = "20a-either-mismatch";
  modules.shapes = ./modules/shapes.nix;
  inventory.machines.jon = { };
  inventory.instances.shapes = {
    module.name = "shapes";
    module.input = "self";
    roles.default.machines.jon.settings = { services = 5; };
  };
}
