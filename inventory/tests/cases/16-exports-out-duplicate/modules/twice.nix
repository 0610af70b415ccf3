# An export interface named twice in `manifest.exports.out`: clan-core imports its
# declaring module twice, so the option is declared twice (both with a default), and
# reading it fails with the module system's "already declared" error (exports view).
{ ... }:
{
  _class = "clan.service";
  manifest.name = "twice";
  manifest.readme = "an interface named twice";
  manifest.exports.out = [
    "endpoints"
    "endpoints"
  ];
  roles.peer = {
    description = "peer";
    perInstance =
      { mkExports, ... }:
      {
        exports = mkExports { endpoints.hosts = [ "a" ]; };
      };
  };
}
