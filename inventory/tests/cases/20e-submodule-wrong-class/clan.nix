{
  meta.name = "submodule-wrong-class";
  modules.classy = ./modules/classy.nix;
  inventory.machines.jon = { };
  inventory.instances.classy = {
    module.name = "classy";
    module.input = "self";
    roles.default.machines.jon.settings.job = {
      _class = "timer";
      every = 5;
    };
  };
}
