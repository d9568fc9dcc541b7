"""The command line for operators and support staff (Typer + Rich)."""
