# A member's setting at the priority of an option's default (mkOverride 1500) against the
# default `null` of clan-core's internet `user` option: the error lists the default first
# (the module system puts it before the definitions), labelled with the interface's file
# "via option" `_services.allServices.<group>.roles.<role>.interface`, as every definition of
# a deferred module is.
{ lib, ... }:
{
  meta.name = "labels";
  inventory.machines.jon = { };
  inventory.instances.internet.roles.default.machines.jon.settings = {
    host = "jon.example.com";
    user = lib.mkOverride 1500 "admin";
  };
}
