"""Support's view of recoveries ("I don't have any of these"): which wait, and cancelling one
— or a scheduled removal of an account's last security info — for a person who calls in (a
recovery's cancel secures the account as the notices' "this wasn't me" link does).
"""

from __future__ import annotations

import uuid
from typing import Any

import typer
from rich.table import Table

from honnin.audit.service import Origin
from honnin.cli.common import console, fail, load_settings, print_json, run
from honnin.jobs.models import JobStatus
from honnin.runtime import Runtime
from honnin.security.recovery import Recovery
from honnin.security.service import RECOVER, REMOVE_PROOF

app = typer.Typer(help="Recoveries waiting for their time.", no_args_is_help=True)

SUPPORT = Origin(None, "honnin recovery cancel")  # how the audit log names the command
CANCELABLE = (RECOVER, REMOVE_PROOF)  # a closed account is reopened instead (accounts reopen)


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
def cancel(change_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Cancel the waiting recovery ID (every way is told, every session of the account is
    signed out, its next sign-in asks for a code and a new password) or the scheduled removal
    ID (`honnin accounts show` lists both): the account's ways are told."""
    try:
        key = uuid.UUID(change_id)
    except ValueError:
        fail(f"{change_id!r} is not the id of a change (see: honnin recovery list)")

    async def go() -> str:
        runtime = Runtime(load_settings())
        try:
            async with runtime.db.transaction() as tx:
                job = await runtime.jobs.get(tx, key)
                account = (
                    await runtime.accounts.record(tx, job.account_id)
                    if job and job.account_id and job.status == JobStatus.PENDING
                    else None
                )
                if job is None or job.kind not in CANCELABLE or account is None:
                    fail(
                        f"no recovery or removal {change_id} is waiting (see: honnin recovery list)"
                    )
                await runtime.security.cancel(tx, account, key, SUPPORT)
                hint = await runtime.security.hint(tx, account)
                if job.kind == RECOVER:
                    return f"canceled the recovery of {hint}; its sessions were signed out"
                return f"canceled the removal of {job.payload.get('hint', '')} from {hint}"
        finally:
            await runtime.db.dispose()

    console.print(run(go()))
