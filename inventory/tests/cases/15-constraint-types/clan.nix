{
  meta.name = "ctypes";

  modules.bounded = ./modules/bounded.nix;

  inventory.machines = {
    jon = { };
    sara = { };
  };

  inventory.instances.bounded = {
    module.input = "self";
    roles.peer.machines.jon = { };
    roles.peer.machines.sara = { };
    roles.lead.machines.jon = { };
  };
}
