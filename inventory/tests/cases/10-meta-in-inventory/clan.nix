# No top-level `meta`: the clan's meta is only in the inventory (inventory.json, an
# imported file and a module function).
{
  imports = [ ./part.nix ];
  inventory =
    { ... }:
    {
      meta.description = "meta only in the inventory";
      machines.a = { };
    };
}
