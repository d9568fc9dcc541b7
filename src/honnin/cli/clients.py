from __future__ import annotations

import typer

from honnin.cli.common import console, with_database
from honnin.clients.service import ClientService
from honnin.clock import SystemClock

app = typer.Typer(help="API clients: applications that call the API.", no_args_is_help=True)


@app.command()
def create(name: str) -> None:
    """Create a client NAME and print its API key (shown only this once)."""
    new = with_database(lambda db: ClientService(db, SystemClock()).create(name))
    console.print(f"created client {new.client.id} ({new.client.name})")
    console.print("API key (shown only now; store it safely):")
    console.print(new.api_key, soft_wrap=True)
