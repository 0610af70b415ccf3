# A freeformType beside a namespace of options: undeclared names inside the namespace
# are the freeform type's too.
{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "nested";
  manifest.exports.out = [ "endpoints" ];
  roles.default.interface =
    { lib, ... }:
    {
      freeformType = lib.types.attrsOf lib.types.anything;
      options.sub.x = lib.mkOption {
        type = lib.types.int;
        default = 2;
      };
      options.top = lib.mkOption {
        type = lib.types.str;
        default = "t";
      };
    };
  roles.default.perInstance =
    { settings, mkExports, ... }:
    {
      exports = mkExports { endpoints.hosts = [ (builtins.toJSON settings) ]; };
    };
}
