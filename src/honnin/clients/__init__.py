"""Clients: applications that call the API with a key."""
