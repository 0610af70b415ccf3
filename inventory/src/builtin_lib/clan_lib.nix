# kith's built-in `clanLib`: used only when clan-core's source is not on disk (see
# `builtin_lib.rs`). `buildScopeKey`, `getPath`, `getPublicValue` and `exists` behave as
# clan-core's (its in-repo vars backend; the deprecated `shared` argument is not
# provided); every other name of clan-core's clanLib (`names`) aborts, naming itself.
{ lib, names }:
let
  missing =
    name:
    builtins.abort "clanLib.${name} is not available: clan-core is not in the store, and kith's built-in clanLib does not provide `${name}' (fetch clan-core, e.g. with `nix flake archive`, to use it)";

  buildScopeKey =
    {
      serviceName ? "",
      instanceName ? "",
      roleName ? "",
      machineName ? "",
    }:
    let
      parts = [
        serviceName
        instanceName
        roleName
        machineName
      ];
      checked = map (
        part:
        if builtins.match ".?:.?" part != null then
          throw "mkExportsScope: ${part} cannot contain the \":\" character\n"
        else
          part
      ) parts;
    in
    if builtins.all (p: p == "") parts then
      throw "buildScopeKey: Global exports (\":::\") are not yet supported.\n"
    else if serviceName == "" && machineName == "" then
      throw "buildScopeKey requires at least 'serviceName' or 'machineName'\n\nExamples:\n- { serviceName = \"myservice\"; ... }\n- { machineName = \"server01\"; ... }\n\nIf you need a scope with neither service nor machine, please file an issue\nexplaining your use case at: https://git.clan.lol/clan/clan-core/issues\n"
    else
      builtins.concatStringsSep ":" checked;

  getPath =
    {
      generator,
      machine,
      file,
      rootDir,
    }:
    rootDir
    + (
      if machine == null then
        "/vars/shared/${generator}/${file}/value"
      else
        "/vars/per-machine/${machine}/${generator}/${file}/value"
    );

  getPublicValue =
    {
      default ? throw "getPublicValue: Public value ${
        if machine == null then "shared" else machine
      }/${generator}/${file} not found!",
      generator,
      machine ? null,
      file,
      flake,
      shared ? null,
    }:
    if shared != null then
      missing "getPublicValue's deprecated `shared' argument"
    else
      let
        path = getPath {
          inherit generator machine file;
          rootDir = flake;
        };
      in
      if builtins.pathExists path then builtins.readFile path else default;
in
builtins.listToAttrs (
  map (n: {
    name = n;
    value = missing n;
  }) names
)
// {
  inherit buildScopeKey getPath getPublicValue;
  exists = throw "Not implemented for in-repo yet";
}
