{ lib, ... }:
{
  meta.name = "attrs-filter-order";
  inventory.machines.max = { };
  inventory.instances = {
    # Both conditions fail: `attrsOf` filters its elements by name, `aaq` first.
    zzq = lib.mkIf (throw "zzq's condition") { roles.default.machines.max = { }; };
    aaq = lib.mkIf (throw "aaq's condition") { roles.default.machines.max = { }; };
  };
}
