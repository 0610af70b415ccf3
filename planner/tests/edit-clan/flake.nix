{
  inputs.clan-core.url = "github:clan-lol/clan-core";
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  outputs =
    { self, clan-core, ... }:
    let
      clan = clan-core.lib.clan {
        inherit self;
        imports = [ ./clan.nix ];
      };
    in
    {
      inherit (clan.config) nixosConfigurations darwinConfigurations clanInternals;
      clan = clan.config;
    };
}
