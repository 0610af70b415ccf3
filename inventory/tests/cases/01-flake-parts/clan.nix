{ lib, ... }:
{
  meta.name = "parts";
  meta.description = "a clan declared through flake-parts";
  machines.extra = { };
  inventory.machines = {
    web.tags = [ "frontend" ];
    db = {
      description = "database";
      tags = [ "backend" ];
    };
    mac.machineClass = "darwin";
  };
  inventory.tags.frontendAndMac = [
    "web"
    "mac"
  ];
}
