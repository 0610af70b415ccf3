{
  flake.checks = { };
  debug = false;
}
