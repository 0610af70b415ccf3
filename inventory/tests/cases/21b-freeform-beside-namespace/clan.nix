{ lib, ... }:
{
  meta.name = "freeform-beside-namespace";
  modules.nested = ./modules/nested.nix;
  inventory.machines = {
    jon = { };
    sara = { };
  };
  inventory.instances.nested = {
    module.name = "nested";
    module.input = "self";
    roles.default.settings = {
      sub.extra = [ 1 ];
      other.deep = "role";
    };
    roles.default.machines.jon.settings = {
      sub = {
        x = 5;
        more = true;
      };
      top = "jon";
      other.deep2 = 2;
    };
    roles.default.machines.sara.settings.sub.extra = lib.mkForce [ 9 ];
  };
}
