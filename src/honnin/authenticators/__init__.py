"""Ways to verify that send nothing: authenticator apps (TOTP), later passkeys."""
