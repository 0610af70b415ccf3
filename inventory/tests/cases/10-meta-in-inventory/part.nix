{ inventory.meta.domain = "example.lan"; }
