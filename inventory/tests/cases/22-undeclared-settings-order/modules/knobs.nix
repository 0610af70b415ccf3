# A role interface with a plain option and a namespace of options.
{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "knobs";
  manifest.exports.out = [ "endpoints" ];
  roles.default.interface =
    { lib, ... }:
    {
      options.known = lib.mkOption {
        type = lib.types.int;
        default = 1;
      };
      options.sub.x = lib.mkOption {
        type = lib.types.int;
        default = 2;
      };
    };
  roles.default.perInstance =
    { settings, mkExports, ... }:
    {
      exports = mkExports {
        endpoints.hosts = [ (toString (settings.known + settings.sub.x)) ];
      };
    };
}
