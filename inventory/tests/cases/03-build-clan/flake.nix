{
  inputs.clan-core.url = "https://git.clan.lol/clan/clan-core/archive/main.tar.gz";
  inputs.nixpkgs.follows = "clan-core/nixpkgs";
  outputs =
    { self, clan-core, ... }:
    let
      clan = clan-core.lib.buildClan {
        inherit self;
        imports = [ ./clan.nix ];
      };
    in
    {
      inherit (clan) nixosConfigurations darwinConfigurations clanInternals;
      inherit clan;
    };
}
