# Manifest constraints are typed: `maxInstances` and `maxMachines` are
# `nullOr ints.positive`, `minMachines` is `nullOr ints.unsigned`. 0 is a valid
# `minMachines` and `maxInstances = 1` a valid bound; `maxMachines = 0` is not a positive
# integer, which fails cliChecks with the module system's type error (exports and the
# inventory view do not read the constraints).
{ ... }:
{
  _class = "clan.service";
  manifest.name = "bounded";
  manifest.readme = "typed constraints";
  manifest.constraints.maxInstances = 1;
  manifest.constraints.roles.lead.minMachines = 0;
  manifest.constraints.roles.lead.maxMachines = 1;
  manifest.constraints.roles.peer.minMachines = 0;
  manifest.constraints.roles.peer.maxMachines = 0;
  roles.peer.description = "peer";
  roles.lead.description = "lead";
}
