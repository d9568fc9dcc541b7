"""`honnin`: the command line."""

from __future__ import annotations

import typer

from honnin.cli import accounts, clients, db, keys, messages, recovery, serve

app = typer.Typer(
    name="honnin",
    help="honnin (本人確認): account security with codes that arrive.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(accounts.app, name="accounts")
app.add_typer(clients.app, name="clients")
app.add_typer(messages.app, name="messages")
app.add_typer(recovery.app, name="recovery")
app.add_typer(keys.app, name="keys")
app.command()(serve.serve)
app.command()(serve.courier)


def main() -> None:
    app()
