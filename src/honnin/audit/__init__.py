"""What happened to an account's security, for the person and for support."""
