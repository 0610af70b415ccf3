# Settings of types the engine runs by their own Nix functions: `either`, `oneOf`,
# `anything`, `unspecified`, `uniq`, `nonEmptyListOf`, `ints.positive`, `coercedTo`.
{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "shapes";
  manifest.exports.out = [ "endpoints" ];
  roles.default.interface =
    { lib, ... }:
    {
      options = {
        services = lib.mkOption {
          type = lib.types.either (lib.types.enum [
            "all"
            "nixos"
          ]) (lib.types.listOf lib.types.str);
          default = "nixos";
        };
        extra = lib.mkOption {
          type = lib.types.attrsOf (
            lib.types.oneOf [
              lib.types.str
              lib.types.int
              lib.types.bool
            ]
          );
          default = { };
        };
        free = lib.mkOption {
          type = lib.types.anything;
          default = { };
        };
        blob = lib.mkOption {
          type = lib.types.unspecified;
          default = [ ];
        };
        once = lib.mkOption {
          type = lib.types.uniq (lib.types.listOf lib.types.str);
          default = [ "x" ];
        };
        some = lib.mkOption {
          type = lib.types.nonEmptyListOf lib.types.str;
          default = [ "a" ];
        };
        count = lib.mkOption {
          type = lib.types.ints.positive;
          default = 1;
        };
        # no type: `types.unspecified` (lists concatenated)
        untyped = lib.mkOption { default = [ 0 ]; };
        # a scalar type given its own merge
        joined = lib.mkOption {
          type = lib.types.str // {
            merge = loc: defs: lib.concatMapStringsSep "+" (d: d.value) defs;
          };
          default = "none";
        };
        names = lib.mkOption {
          type = lib.types.coercedTo lib.types.str (x: [ x ]) (lib.types.listOf lib.types.str);
          default = [ ];
        };
      };
    };
  roles.default.perInstance =
    { settings, mkExports, ... }:
    {
      exports = mkExports {
        endpoints.hosts = [ (builtins.toJSON settings) ];
      };
    };
}
