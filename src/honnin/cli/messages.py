from __future__ import annotations

import typer
from rich.table import Table

from honnin.cli.common import console, with_database
from honnin.courier.service import MessageService

app = typer.Typer(help="Messages: what was sent, and how delivery went.", no_args_is_help=True)

_STYLE = {"accepted": "green", "failed": "red", "deferred": "yellow", "sending": "cyan"}


def _status(status: str) -> str:
    style = _STYLE.get(status)
    return f"[{style}]{status}[/]" if style else status


@app.command("list")
def list_messages(
    status: str | None = typer.Option(None, help="Only this status (queued, deferred, …)."),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """The most recent messages, newest first."""
    messages = with_database(lambda db: MessageService(db).recent(limit=limit, status=status))
    table = Table()
    table.add_column("id", no_wrap=True, min_width=36)
    for column in ("created (UTC)", "to", "template", "status", "attempts"):
        table.add_column(column, overflow="fold")
    for m in messages:
        table.add_row(
            str(m.id),
            f"{m.created_at:%Y-%m-%d %H:%M:%S}",
            m.recipient_hint,
            m.template,
            _status(m.status),
            str(m.attempts),
        )
    console.print(table)


@app.command()
def show(message_id: str) -> None:
    """A message's delivery timeline: every attempt, the server's reply, the next retry."""
    m = with_database(lambda db: MessageService(db).show(message_id))
    console.print(f"[bold]message[/] {m.id}")
    console.print(f"to          {m.recipient_hint} ({m.channel}, {m.template}, {m.locale})")
    console.print(f"status      {_status(m.status)} after {m.attempts} attempt(s)")
    if m.header_message_id:
        console.print(f"Message-ID  {m.header_message_id}")
    if m.next_attempt_at:
        console.print(f"next try    {m.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC")
    table = Table(title="timeline", title_justify="left")
    for column in ("at (UTC)", "event", "attempt", "reply", "detail", "by"):
        table.add_column(column, overflow="fold")
    for e in m.events:
        table.add_row(
            f"{e.at:%Y-%m-%d %H:%M:%S.%f}"[:-3],
            _status(e.kind),
            str(e.attempt or ""),
            str(e.reply_code or ""),
            e.detail or "",
            e.actor or "",
        )
    console.print(table)
