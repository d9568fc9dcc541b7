from __future__ import annotations

import typer

from honnin.cli.common import console, load_settings, one_line_errors
from honnin.db.migrate import upgrade

app = typer.Typer(help="The database: migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = load_settings()
    with one_line_errors():
        upgrade(settings.effective_database_url, revision)
    console.print(f"database is at {revision}")
