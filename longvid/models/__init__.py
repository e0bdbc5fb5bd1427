"""Model layer: small interfaces, backends loaded lazily, and a registry that maps specs to them."""
