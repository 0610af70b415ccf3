{
  meta.name = "absent-core";
  inventory.machines.alpha.tags = [ "t" ];
  inventory.machines.beta.machineClass = "darwin";
}
