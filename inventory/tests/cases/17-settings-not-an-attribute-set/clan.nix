# Settings must be an attribute set (clan's settings type checks `builtins.toJSON value`
# first, then `isAttrs value`): a file name is rejected by the type, in every view that
# merges the settings.
{
  meta.name = "settings-type";
  inventory.machines.jon = { };
  inventory.instances.internet.roles.default.machines.jon.settings = "jon.nix";
}
