"""Support's view of recoveries ("I don't have any of these"): which wait, and cancelling one
for a person who calls in (it secures the account as the notices' "this wasn't me" link does).
"""

from __future__ import annotations

import uuid
from typing import Any

import typer
from rich.table import Table

from honnin.audit.service import Origin
from honnin.cli.common import console, fail, load_settings, print_json, run
from honnin.runtime import Runtime
from honnin.security.recovery import Recovery

app = typer.Typer(help="Recoveries waiting for their time.", no_args_is_help=True)

SUPPORT = Origin(None, "honnin recovery cancel")  # how the audit log names the command


@app.command("list")
def list_waiting(
    as_json: bool = typer.Option(
        False, "--json", help="A JSON array for scripts (times in ISO 8601, UTC)."
    ),
) -> None:
    """Every recovery that waits, soonest first: its account, the new way (masked), when it
    started and ends, whether the password was proven, and where it was asked from."""

    async def go() -> list[tuple[Recovery, str]]:
        runtime = Runtime(load_settings())
        try:
            async with runtime.db.transaction(write=False) as tx:
                found = []
                for recovery in await runtime.recoveries.waiting(tx):
                    account = await runtime.accounts.record(tx, recovery.account_id)
                    hint = await runtime.security.hint(tx, account) if account else ""
                    found.append((recovery, hint))
                return found
        finally:
            await runtime.db.dispose()

    found = run(go())
    if as_json:
        rows: list[dict[str, Any]] = [
            {**vars(recovery), "account_hint": hint} for recovery, hint in found
        ]
        print_json(rows)
        return
    if not found:
        console.print("no recovery is waiting")
        return
    table = Table(title="recoveries waiting", title_justify="left", show_lines=False)
    for column in ("id", "account", "new way", "password", "started (UTC)", "ends (UTC)", "from"):
        table.add_column(column, overflow="fold")
    for recovery, hint in found:
        table.add_row(
            str(recovery.id),
            hint,
            recovery.hint,
            "proven" if recovery.password_proven else "not proven",
            f"{recovery.started_at:%Y-%m-%d %H:%M}",
            f"{recovery.due_at:%Y-%m-%d %H:%M}",
            " ".join(part for part in (recovery.ip, recovery.agent) if part),
        )
    console.print(table)


@app.command()
def cancel(recovery_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Cancel the waiting recovery ID: every way is told, every session of the account is
    signed out, and its next sign-in (by a code) asks for a new password."""
    try:
        key = uuid.UUID(recovery_id)
    except ValueError:
        fail(f"{recovery_id!r} is not a recovery id (see: honnin recovery list)")

    async def go() -> str:
        runtime = Runtime(load_settings())
        try:
            async with runtime.db.transaction() as tx:
                recovery = await runtime.recoveries.get(tx, key)
                account = (
                    await runtime.accounts.record(tx, recovery.account_id) if recovery else None
                )
                if recovery is None or account is None:
                    fail(f"no recovery {recovery_id} is waiting (see: honnin recovery list)")
                await runtime.security.cancel(tx, account, key, SUPPORT)
                return await runtime.security.hint(tx, account)
        finally:
            await runtime.db.dispose()

    hint = run(go())
    console.print(f"canceled the recovery of {hint}; its sessions were signed out")
