{ self, ... }:
{
  meta.name = "parts-file";
  inventory.machines.one = {
    tags = [ "all-of-them" ];
    deploy.targetHost = "root@one";
  };
  inventory.machines.two.machineClass = "darwin";
  inventory.tags.pair = [
    "one"
    "two"
  ];
}
