from __future__ import annotations

import typer

from honnin.cli.common import console, load_settings, one_line_errors, with_database
from honnin.clock import SystemClock
from honnin.housekeeping import prune
from honnin.migrations import upgrade

app = typer.Typer(help="The database: migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = load_settings()
    with one_line_errors():
        upgrade(settings.effective_database_url, revision)
    console.print(f"database is at {revision}")


@app.command("prune")
def prune_command() -> None:
    """Delete expired flows and challenges, old failed attempts, long-ended sessions and
    finished messages older than HONNIN_MESSAGE_HISTORY_SECONDS, in batches.

    Every serving process also does this every 10 minutes."""
    settings = load_settings()
    pruned = with_database(lambda db: prune(db, SystemClock(), settings))
    console.print(
        f"deleted {pruned.flows} flows, {pruned.challenges} other challenges, "
        f"{pruned.failed_attempts} failed attempts, {pruned.sessions} sessions, "
        f"{pruned.messages} messages, {pruned.jobs} finished jobs, "
        f"{pruned.oidc} expired OpenID Connect records"
    )
