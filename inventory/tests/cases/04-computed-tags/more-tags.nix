# A second definition of a computed tag (lists concatenate in module order) and an empty tag.
{
  inventory.tags =
    { machines, ... }:
    {
      static = [ "db2" ];
      empty = [ ];
    };
  inventory.machines.db2.description = "second database";
}
