"""Security info ("proofs"): the email addresses (later phones, apps, passkeys) that prove
it is really the account holder, and how they are shown (masked hints)."""
