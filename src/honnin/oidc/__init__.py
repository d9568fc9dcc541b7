"""honnin as an OpenID Connect provider (issue 15): its signing keys first."""
