# A machine with an invalid class, and no role that selects machines by tag: clan-core
# evaluates machines' tags (and so their classes, for the builtin `nixos`/`darwin` tags)
# only to resolve a role's tags, so the exports and cliChecks still evaluate; only the
# inventory view fails.
{
  meta.name = "lazy-tags";
  inventory.machines.a.machineClass = "linux";
  inventory.machines.b = { };
  inventory.instances.internet.roles.default.machines.b.settings.host = "b.example.com";
}
