# Settings passed through: declared options beside a module's `freeformType`.
{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "passthru";
  manifest.exports.out = [ "endpoints" ];
  roles.server.interface =
    { lib, ... }:
    {
      freeformType = lib.types.attrsOf lib.types.anything;
      options.port = lib.mkOption {
        type = lib.types.port;
        default = 80;
      };
    };
  roles.client.interface =
    { lib, ... }:
    {
      freeformType = lib.types.lazyAttrsOf lib.types.int;
      options.name = lib.mkOption {
        type = lib.types.str;
        default = "c";
      };
    };
  roles.server.perInstance =
    { settings, mkExports, ... }:
    {
      exports = mkExports { endpoints.hosts = [ (builtins.toJSON settings) ]; };
    };
  roles.client.perInstance =
    { settings, mkExports, ... }:
    {
      exports = mkExports { endpoints.hosts = [ (builtins.toJSON settings) ]; };
    };
}
