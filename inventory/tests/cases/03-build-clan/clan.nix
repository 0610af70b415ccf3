{
  meta.name = "built";
  inventory.machines.alpha.tags = [ "t" ];
  inventory.machines.beta.description = "second";
}
