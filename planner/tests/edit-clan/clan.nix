# A clan for kith's inventory-edit tests that needs nothing but this directory: clan-core
# and nixpkgs are locked but in no store, and the one service is the clan's own.
{
  meta.name = "edits";
  modules.hello = ./modules/hello.nix;
  inventory.machines = {
    beta.tags = [ "web" ];
    # Priorities written out as `lib.mkOverride` makes them (no nixpkgs here).
    gamma.description = {
      _type = "override";
      priority = 50;
      content = "forced in Nix";
    };
    gamma.machineClass = {
      _type = "override";
      priority = 1000;
      content = "nixos";
    };
  };
  inventory.instances.greet = {
    module.name = "hello";
    module.input = "self";
    roles.server.machines.beta = { };
  };
}
