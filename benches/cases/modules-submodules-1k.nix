# The module system with submodules: an `attrsOf (submodule …)` option with 1 000 entries,
# each defined by two modules (one with mkDefault), every entry's options evaluated.
# `<nixpkgs-lib>` is nixpkgs' lib (compare.sh passes it).
let
  lib = import <nixpkgs-lib/lib>;
  inherit (lib) mkOption types;
  names = builtins.genList (i: "user${toString i}") 1000;
  userType = types.submodule (
    { name, config, ... }:
    {
      options = {
        name = mkOption {
          type = types.str;
          default = name;
        };
        uid = mkOption { type = types.int; };
        shell = mkOption {
          type = types.str;
          default = "/bin/sh";
        };
        groups = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        home = mkOption {
          type = types.str;
          default = "/home/${config.name}";
        };
      };
    }
  );
  decl = {
    options.users = mkOption {
      type = types.attrsOf userType;
      default = { };
    };
  };
  uids = {
    config.users = lib.listToAttrs (
      lib.imap0 (i: n: lib.nameValuePair n { uid = 1000 + i; groups = [ "users" ]; }) names
    );
  };
  shells = {
    config.users = lib.genAttrs names (n: {
      shell = lib.mkDefault "/bin/bash";
      groups = [ "wheel" ];
    });
  };
  result = lib.evalModules {
    modules = [
      decl
      uids
      shells
    ];
  };
  users = builtins.attrValues result.config.users;
in
{
  count = builtins.length users;
  uidSum = builtins.foldl' (acc: u: acc + u.uid) 0 users;
  homes = builtins.stringLength (lib.concatMapStrings (u: u.home) users);
  groups = builtins.foldl' (acc: u: acc + builtins.length u.groups) 0 users;
  sample = result.config.users.user999;
}
