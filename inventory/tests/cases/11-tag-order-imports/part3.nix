# Two imports deep: only definitions ordered against the user's own (a plain tag list,
# machine tags).
{
  inventory.tags.shared = [ "a3" ];
  inventory.machines.a.tags = [ "p3" ];
}
