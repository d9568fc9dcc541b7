"""Changing how an account proves who it is: the rules, for the pages, the API and the CLI."""
