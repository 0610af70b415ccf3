{
  meta.name = "freeform-type-error";
  modules.passthru = ./modules/passthru.nix;
  inventory.machines.sara = { };
  inventory.instances.passthru = {
    module.name = "passthru";
    module.input = "self";
    roles.client.machines.sara.settings.retries = "three";
  };
}
