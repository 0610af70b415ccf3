{
  meta.name = "22a-undeclared-in-namespace";
  modules.knobs = ./modules/knobs.nix;
  inventory.machines.max = { };
  inventory.instances.knobs = {
    module.name = "knobs";
    module.input = "self";
    roles.default.machines.max.settings = { zeta = 1; sub.zz = 3; };
  };
}
