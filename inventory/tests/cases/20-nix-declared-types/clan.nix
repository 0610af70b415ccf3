{ lib, ... }:
{
  meta.name = "nix-declared-types";
  modules.shapes = ./modules/shapes.nix;
  inventory.machines = {
    jon = { };
    sara = { };
    tim = { };
  };
  inventory.instances.shapes = {
    module.name = "shapes";
    module.input = "self";
    roles.default.tags = [ "all" ];
    roles.default.settings = {
      services = [ "sshd" ];
      extra = {
        a = "x";
        n = 1;
      };
      free = {
        deep.list = [ 1 ];
        keep = "role";
      };
      blob = [ 1 ];
      names = "role";
      joined = "r";
      untyped = [ "role" ];
    };
    roles.default.machines.jon.settings = {
      # both definitions pass the list type: listOf's merge concatenates them
      services = [ "nginx" ];
      extra.b = true;
      free = {
        deep.other = 2;
        more = lib.mkForce "jon";
      };
      blob = [ 2 ];
      count = 3;
      joined = "j";
      untyped = [ "jon" ];
    };
    roles.default.machines.sara.settings = {
      services = lib.mkForce "all";
      extra.a = lib.mkForce 7;
      once = [ "only" ];
      some = [
        "b"
        "c"
      ];
    };
    roles.default.machines.tim.settings = {
      free.deep.list = lib.mkForce [ 2 ];
      names = lib.mkForce [
        "t1"
        "t2"
      ];
    };
  };
}
