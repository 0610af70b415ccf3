{
  meta.name = "submodule-with-class";
  modules.classy = ./modules/classy.nix;
  inventory.machines = {
    jon = { };
    sara = { };
  };
  inventory.instances.classy = {
    module.name = "classy";
    module.input = "self";
    roles.default.tags = [ "all" ];
    roles.default.settings.job.every = 30;
    roles.default.machines.jon.settings.job.what = "sync";
  };
}
