{ ... }:
{
  _class = "clan.service";
  manifest.name = "m";
  manifest.readme = "x";
  manifest.exports.out = [ "endpoints" ];
  roles.peer = {
    description = "peer";
    interface =
      { lib, ... }:
      {
        options.sub.x = lib.mkOption {
          type = lib.types.int;
          default = 1;
        };
      };
    perInstance =
      { mkExports, settings, ... }:
      {
        exports = mkExports { endpoints.hosts = [ (toString settings.sub.x) ]; };
      };
  };
}
