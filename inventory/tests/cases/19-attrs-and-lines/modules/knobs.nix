{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "knobs";
  manifest.exports.out = [ "endpoints" ];
  roles.default.interface =
    { lib, ... }:
    {
      options.extra = lib.mkOption {
        type = lib.types.attrs;
        default = { };
      };
      options.motd = lib.mkOption {
        type = lib.types.lines;
        default = "";
      };
      options.path = lib.mkOption {
        type = lib.types.nullOr lib.types.envVar;
        default = null;
      };
      options.blobs = lib.mkOption {
        type = lib.types.listOf lib.types.attrs;
        default = [ ];
      };
    };
  roles.default.perInstance =
    { settings, mkExports, machine, ... }:
    {
      exports = mkExports {
        endpoints.hosts = [
          "${machine.name}: ${builtins.toJSON settings.extra}"
          settings.motd
          (builtins.toJSON settings.path)
          (builtins.toJSON settings.blobs)
        ];
      };
    };
}
