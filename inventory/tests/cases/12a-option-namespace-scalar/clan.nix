{
  meta.name = "namespace";
  modules.m = ./modules/m.nix;
  inventory.machines.jon = { };
  inventory.instances.m = {
    module.input = "self";
    # `sub` is a namespace of options (`sub.x`), not an option
    roles.peer.machines.jon.settings.sub = 5;
  };
}
