from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from honnin.cli.common import console, load_settings, one_of, print_json, with_database
from honnin.codes.pumping import WINDOW, suspects
from honnin.courier.models import MessageStatus
from honnin.courier.reasons import reason_text
from honnin.courier.service import MessageService, MessageView
from honnin.db import Database
from honnin.destinations.phones import country_code_of

app = typer.Typer(help="Messages: what was sent, and how delivery went.", no_args_is_help=True)

_STYLE = {
    "accepted": "green", "delivered": "green", "failed": "red", "undelivered": "red",
    "deferred": "yellow", "sending": "cyan", "handed_over": "yellow",
}  # fmt: skip
STATUSES = tuple(status.value for status in MessageStatus)


def _status(status: str) -> str:
    style = _STYLE.get(status)
    return f"[{style}]{status}[/]" if style else status


def _time(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}" if at else ""


def listing(messages: list[MessageView], *, wide: bool = False) -> Table:
    """The table `messages list` prints. The default one fits 80 columns: a full id (36),
    the month, day and minute, the masked recipient and the status, with no borders."""
    if not wide:
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("id", no_wrap=True)
        table.add_column("created", no_wrap=True)
        table.add_column("to", overflow="fold")
        table.add_column("status", no_wrap=True)
        for m in messages:
            table.add_row(
                str(m.id), f"{m.created_at:%m-%d %H:%M}", m.recipient_hint, _status(m.status)
            )
        return table
    table = Table()
    table.add_column("id", no_wrap=True, min_width=36)
    for column in (
        "created (UTC)", "channel", "to", "template", "locale", "status", "attempts",
        "next attempt (UTC)", "last reply",
    ):  # fmt: skip
        table.add_column(column, overflow="fold")
    for m in messages:
        table.add_row(
            str(m.id),
            _time(m.created_at),
            m.channel,
            m.recipient_hint,
            m.template,
            m.locale,
            _status(m.status),
            str(m.attempts),
            _time(m.next_attempt_at),
            m.last_reply or "",
        )
    return table


def _summary(m: MessageView) -> dict[str, Any]:
    """A message without its timeline (a listing does not read the timelines)."""
    return {f.name: getattr(m, f.name) for f in fields(m) if f.name != "events"}


@app.command("list")
def list_messages(
    status: str | None = typer.Option(
        None,
        help="Only messages in this status.",
        metavar="|".join(STATUSES),
        callback=one_of(STATUSES),
    ),
    limit: int = typer.Option(50, min=1, max=1000, help="At most this many messages."),
    wide: bool = typer.Option(False, "--wide", help="Every column (needs a wide terminal)."),
    as_json: bool = typer.Option(
        False, "--json", help="A JSON array for scripts (times in ISO 8601, UTC)."
    ),
    pumping: bool = typer.Option(
        False,
        "--pumping",
        help="Only the last hour's messages to phone prefixes and countries where few codes "
        "are entered (SMS pumping suspected; HONNIN_PUMPING_ALERT_SHARE).",
    ),
) -> None:
    """The most recent messages, newest first."""
    settings = load_settings()

    async def work(db: Database) -> list[MessageView]:
        messages = MessageService(db)
        if not pumping:
            return await messages.recent(limit=limit, status=status)
        now = datetime.now(UTC)
        found = await suspects(
            db, now, below=settings.pumping_alert_share, min_codes=settings.pumping_alert_min_codes
        )
        for suspect in found:  # on stderr beside --json: its output stays JSON
            typer.echo(suspect.describe(), err=as_json)
        prefixes = [s.key for s in found if s.scope == "prefix"]
        prefixes += [f"+{country_code_of(s.key)}" for s in found if s.scope == "country"]
        return await messages.recent(
            limit=limit, status=status, prefixes=prefixes, since=now - WINDOW
        )

    messages = with_database(work)
    if as_json:
        print_json([_summary(m) for m in messages])
    else:
        console.print(listing(messages, wide=wide))
        if not wide:
            console.print("times in UTC; --wide for every column", style="dim")


@app.command()
def show(
    message_id: str,
    as_json: bool = typer.Option(
        False, "--json", help="A JSON object for scripts (times in ISO 8601, UTC)."
    ),
) -> None:
    """A message's delivery timeline: every attempt, the server's reply, the next retry."""
    m = with_database(lambda db: MessageService(db).show(message_id))
    if as_json:
        print_json(m)
        return
    console.print(f"[bold]message[/] {m.id}")
    console.print(f"to          {m.recipient_hint} ({m.channel}, {m.template}, {m.locale})")
    console.print(f"status      {_status(m.status)} after {m.attempts} attempt(s)")
    if m.header_message_id:
        console.print(f"Message-ID  {m.header_message_id}")
    if m.provider_ref:
        console.print(f"provider id {m.provider_ref}")
    if m.reason:
        console.print(f"why         {reason_text(m.reason).render()}")
    if m.next_attempt_at:
        console.print(f"next try    {m.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC")
    table = Table(title="timeline", title_justify="left")
    for column in ("at (UTC)", "event", "attempt", "reply", "detail", "via", "by"):
        table.add_column(column, overflow="fold")
    for e in m.events:
        table.add_row(
            f"{e.at:%Y-%m-%d %H:%M:%S.%f}"[:-3],
            _status(e.kind),
            str(e.attempt or ""),
            str(e.reply_code or ""),
            e.detail or "",
            e.via or "",
            e.actor or "",
        )
    console.print(table)
