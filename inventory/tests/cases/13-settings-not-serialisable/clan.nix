{
  meta.name = "serialisable";
  inventory.machines.jon = { };
  # settings must be JSON serialisable: a function inside them is not
  inventory.instances.internet.roles.default.machines.jon.settings = {
    host = x: x;
  };
}
