{
  meta.name = "subdefaults";

  modules.holder = ./modules/holder.nix;

  inventory.machines = {
    jon = { };
    sara = { };
  };

  inventory.instances.holder = {
    module.input = "self";
    roles.peer.machines.jon = { };
    # `s.given` defined: the submodule merges it with the other options' defaults.
    roles.peer.machines.sara.settings.s.given = "set-on-sara";
  };
}
