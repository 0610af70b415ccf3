{ lib, ... }:
{
  # Same priority, different values: the module system's conflict error. (The mkDefault
  # machineClass above is overridden without error.)
  inventory.machines.a.description = "two";
  inventory.machines.a.machineClass = "nixos";
}
