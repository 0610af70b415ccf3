{
  inputs.clan-core.url = "https://git.clan.lol/clan/clan-core/archive/main.tar.gz";
  inputs.nixpkgs.follows = "clan-core/nixpkgs";
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.flake-parts.inputs.nixpkgs-lib.follows = "nixpkgs";
  outputs =
    inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (
      {
        inputs,
        self,
        lib,
        config,
        ...
      }:
      {
        imports = [
          inputs.clan-core.flakeModules.default
          ./parts/dev.nix
          { systems = [ "aarch64-linux" ]; }
        ];
        systems = [ "x86_64-linux" ];
        perSystem = { system, ... }: { };
        flake.templates = { };
        clan = {
          imports = [ ./clan.nix ];
        };
      }
    );
}
