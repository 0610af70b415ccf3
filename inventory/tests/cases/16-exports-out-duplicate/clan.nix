{
  meta.name = "dupout";

  modules.twice = ./modules/twice.nix;

  inventory.machines.jon = { };

  inventory.instances.twice = {
    module.input = "self";
    roles.peer.machines.jon = { };
  };
}
