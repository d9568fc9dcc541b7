"""Accounts: who someone is to us, the names they sign in with, their password."""
