{
  _class = "clan.service";
  manifest.name = "hello";
  roles.server = { };
  roles.client = { };
}
