{ lib, ... }:
{
  meta.name = "attrs-and-lines";
  meta.domain = "lan";
  modules.knobs = ./modules/knobs.nix;
  inventory.machines = {
    jon = { };
    sara = { };
  };
  inventory.instances = {
    knobs = {
      module.name = "knobs";
      module.input = "self";
      roles.default.tags = [ "all" ];
      # attrs: `//` of the definitions, shallow, later files' entries win.
      roles.default.settings.extra = {
        a = 1;
        nested.x = 1;
      };
      roles.default.settings.motd = "role line";
      roles.default.settings.blobs = [ { k = 1; } ];
      roles.default.machines.jon.settings = {
        extra = {
          b = 2;
          nested.y = 2;
        };
        motd = lib.mkAfter "jon line";
        path = "/bin";
        blobs = [ { k = 2; } ];
      };
      roles.default.machines.sara.settings.extra = lib.mkForce { only = true; };
    };
    # The users service exports `auth`, an interface with a `nullOr attrs` option.
    admins = {
      module.name = "users";
      roles.default.machines.jon.settings = {
        user = "alice";
        identity.main.email = "alice@example.org";
        identity.idp2 = {
          groups = [ "admins" ];
          displayname = "Alice";
        };
      };
    };
  };
}
