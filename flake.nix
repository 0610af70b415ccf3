{
  description = "kith: a Rust-native engine for Clan fleets";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        kith = pkgs.rustPlatform.buildRustPackage {
          pname = "kith";
          version = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).workspace.package.version;
          src = self;
          cargoLock.lockFile = ./Cargo.lock;
          cargoBuildFlags = [ "-p" "kith" ];
          # The build to ship, Cargo.toml's `[profile.dist]`: fat LTO, one codegen unit, no
          # unwinding; about 10% faster than `release` on the module-system benchmarks
          # (docs/benchmarks.md). buildRustPackage passes it to cargo as `--profile dist`.
          buildType = "dist";
          # Tests as CI runs them: fat LTO on every test binary would only slow the build.
          checkType = "release";
          # The conformance suite reads ../shared/corpus, which is not part of the source;
          # without it that test says so and passes, the rest runs.
          cargoTestFlags = [ "--workspace" ];
          meta = {
            description = "Instant, precise answers about a Clan fleet";
            license = pkgs.lib.licenses.mit;
            mainProgram = "kith";
          };
        };
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.kith;
      });

      # A derivation that runs `kith check` on the clan in `src`, for a clan's own `checks`
      # output (docs/check.md): offline, in the build sandbox, nothing cached.
      lib.clanCheck =
        {
          pkgs,
          src,
          name ? "kith-check",
          extraArgs ? [ ],
        }:
        pkgs.runCommand name
          {
            nativeBuildInputs = [ self.packages.${pkgs.stdenv.hostPlatform.system}.kith ];
          }
          ''
            export HOME="$TMPDIR"
            kith check --flake ${src} --offline --no-cache --format github ${pkgs.lib.escapeShellArgs extraArgs}
            touch "$out"
          '';

      # The bundled example clan passes `kith check`.
      checks = forAllSystems (pkgs: {
        example-clan = self.lib.clanCheck {
          inherit pkgs;
          src = ./fixtures/clan;
          name = "kith-check-example-clan";
        };
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.kith ];
          packages = [
            pkgs.cargo
            pkgs.rustc
            pkgs.rustfmt
            pkgs.clippy
            pkgs.rust-analyzer
            pkgs.cargo-nextest
            pkgs.hyperfine
            pkgs.nix
            pkgs.python3
          ];
        };
      });
    };
}
