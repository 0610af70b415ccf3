# Tag definitions in imported files (nested too) beside clan-core's builtin mkDefault tags
# (computed-tags.nix, imported one level deeper than the user's files).
{
  meta.name = "order";
  imports = [
    ./part1.nix
    ./part2.nix
  ];
  inventory.machines.a.tags = [ "top" ];
  inventory.machines.b = {
    machineClass = "darwin";
    tags = [ "btop" ];
  };
  inventory.tags.shared = [ "b" ];
}
