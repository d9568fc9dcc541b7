"""Telling an account's ways (its email addresses and phones) that its security changed."""
