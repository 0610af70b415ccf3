{
  meta.name = "typeerrors";
  modules.m = ./modules/m.nix;
  inventory.machines.jon = { };
  inventory.instances.m = {
    module.input = "self";
    # a list of an enum given a string
    roles.peer.machines.jon.settings.modes = "fast";
  };
}
