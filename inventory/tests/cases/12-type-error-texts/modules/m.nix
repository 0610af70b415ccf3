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
        options.modes = lib.mkOption {
          type = lib.types.listOf (lib.types.enum [ "fast" "safe" ]);
          default = [ ];
        };
      };
    perInstance =
      { mkExports, settings, ... }:
      {
        exports = mkExports { endpoints.hosts = settings.modes; };
      };
  };
}
