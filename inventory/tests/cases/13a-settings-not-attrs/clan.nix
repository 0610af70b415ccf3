{
  meta.name = "serialisable";
  inventory.machines.jon = { };
  # settings are a module as an attribute set: a number serialises but is not one
  inventory.instances.internet.roles.default.machines.jon.settings = 5;
}
