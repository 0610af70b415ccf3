# Interface options of submodule types with no default and (on jon) no definitions: a
# submodule's value is then the submodule evaluated without definitions (its options'
# defaults, `name` the placeholder); `nullOr` gives null and `attrsOf` an empty set.
{ ... }:
{
  _class = "clan.service";
  manifest.name = "holder";
  manifest.readme = "submodule options without definitions";
  manifest.exports.out = [ "endpoints" ];
  roles.peer = {
    description = "peer";
    interface =
      { lib, ... }:
      let
        inherit (lib) mkOption types;
        inner = types.submodule {
          options.c = mkOption {
            type = types.str;
            default = "inner-default";
          };
        };
      in
      {
        options.s = mkOption {
          type = types.submodule (
            { name, ... }:
            {
              options.a = mkOption {
                type = types.str;
                default = "sa";
              };
              options.who = mkOption {
                type = types.str;
                default = name;
              };
              options.given = mkOption {
                type = types.str;
                default = "unset";
              };
              # A nested submodule without default or definitions.
              options.inner = mkOption { type = inner; };
              options.maybe = mkOption { type = types.nullOr inner; };
              options.many = mkOption { type = types.attrsOf inner; };
              options.lazyMany = mkOption { type = types.lazyAttrsOf inner; };
              options.list = mkOption { type = types.listOf inner; };
            }
          );
        };
        options.n = mkOption { type = types.nullOr inner; };
        options.m = mkOption { type = types.attrsOf inner; };
      };
    perInstance =
      { mkExports, settings, ... }:
      {
        exports = mkExports {
          endpoints.hosts = [
            settings.s.a
            settings.s.who
            settings.s.given
            settings.s.inner.c
            (builtins.toJSON settings.s.maybe)
            (builtins.toJSON settings.s.many)
            (builtins.toJSON settings.s.lazyMany)
            (builtins.toJSON settings.s.list)
            (builtins.toJSON settings.n)
            (builtins.toJSON settings.m)
            (builtins.toJSON settings.s)
          ];
        };
      };
  };
}
