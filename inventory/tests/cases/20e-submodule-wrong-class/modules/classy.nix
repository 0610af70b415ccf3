# An interface option of a submodule type with a `class`: its modules must be of that
# class (or none), which nixpkgs' own submodule merge checks.
{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "classy";
  manifest.exports.out = [ "endpoints" ];
  roles.default.interface =
    { lib, ... }:
    {
      options.job = lib.mkOption {
        type = lib.types.submoduleWith {
          class = "job";
          modules = [
            {
              options.every = lib.mkOption {
                type = lib.types.int;
                default = 60;
              };
              options.what = lib.mkOption {
                type = lib.types.str;
                default = "backup";
              };
            }
          ];
        };
        default = { };
      };
    };
  roles.default.perInstance =
    { settings, mkExports, ... }:
    {
      exports = mkExports {
        endpoints.hosts = [ "${settings.job.what}/${toString settings.job.every}" ];
      };
    };
}
