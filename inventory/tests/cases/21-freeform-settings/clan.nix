{ lib, ... }:
{
  meta.name = "freeform-settings";
  modules.passthru = ./modules/passthru.nix;
  inventory.machines = {
    jon = { };
    sara = { };
  };
  inventory.instances.passthru = {
    module.name = "passthru";
    module.input = "self";
    roles.server.machines.jon.settings = {
      port = 8080;
      extraConfig = {
        a.b = [ 1 ];
        z = "last";
      };
      flag = true;
    };
    roles.server.settings = {
      extraConfig.a.c = 2;
      alpha = lib.mkDefault "role";
    };
    roles.client.machines.sara.settings = {
      retries = 3;
      backoff = lib.mkIf true 10;
    };
    roles.client.settings.retries = lib.mkDefault 1;
  };
}
