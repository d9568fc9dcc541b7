from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from honnin.accounts.service import AccountRecord, AccountService
from honnin.audit.service import Origin
from honnin.cli.common import console, fail, load_settings, one_of, print_json, run, with_database
from honnin.clock import SystemClock
from honnin.db import Tx
from honnin.destinations.kinds import Destinations
from honnin.i18n import LOCALES
from honnin.runtime import Runtime
from honnin.sessions.service import LiveSession
from honnin.support.overview import AccountOverview, account_audit, account_overview

app = typer.Typer(help="Accounts: create one, look one up.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on standard input")
        return password
    password = typer.prompt("Password", hide_input=True)
    if password != typer.prompt("Repeat it", hide_input=True):
        fail("the two passwords are different")
    return str(password)


@app.command()
def create(
    email: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
    verified: bool = typer.Option(
        False, "--verified", help="Count the address as verified (you vouch for it)."
    ),
    locale: str = typer.Option(
        "en", help="The account's language.", metavar="|".join(LOCALES), callback=one_of(LOCALES)
    ),
) -> None:
    """Create an account whose first sign-in name and security info is EMAIL."""
    password = _read_password(password_stdin)
    account = with_database(
        lambda db: AccountService(
            db, SystemClock(), Destinations.from_settings(load_settings())
        ).create(email, password, locale=locale, email_verified=verified)
    )
    console.print(f"created account {account.id} ({', '.join(account.sign_in_names)})")


def _at(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else ""


def _table(title: str) -> Table:
    """A borderless table, so that an account fits an 80-column terminal."""
    return Table(
        title=f"{title} (times in UTC)",
        title_justify="left",
        title_style="bold",
        box=None,
        pad_edge=False,
        header_style="underline",
    )


def _device(session: LiveSession) -> str:
    if session.browser is not None:
        return f"browser {session.browser}"
    return f"API: {session.client}" if session.client else "API"


def _as_json(overview: AccountOverview) -> dict[str, Any]:
    """The overview as scripts read it: one flat object, nothing that could resume a session."""
    account = overview.account
    return {
        "id": account.id,
        "created_at": account.created_at,
        "status": account.status,
        "locale": account.locale,
        "two_step": account.two_step,
        "sign_in_names": account.sign_in_names,
        "security_info": [
            {
                "id": proof.id,
                "kind": proof.kind,
                "hint": proof.hint,
                "verified": proof.verified,
                "added_at": proof.created_at,
                "verified_at": proof.verified_at,
                "last_used_at": overview.last_used_at(proof),
            }
            for proof in account.proofs
        ],
        "authenticator_apps": [
            {
                "id": app.id,
                "name": app.name,
                "added_at": app.created_at,
                "last_used_at": app.last_used_at,
            }
            for app in overview.apps
        ],
        "passkeys": [
            {
                "id": key.id,
                "name": key.name,
                "authenticator": key.authenticator,
                "synced": key.synced,
                "added_at": key.created_at,
                "last_used_at": key.last_used_at,
            }
            for key in overview.passkeys
        ],
        "pending_changes": [
            {"id": change.id, "change": change.change, "hint": change.hint, "due_at": change.due_at}
            for change in overview.pending
        ],
        "sessions": [
            {
                "id": session.id,
                "started_at": session.created_at,
                "method": session.method,
                "expires_at": session.expires_at,
                "device": "browser" if session.browser is not None else "api",
                "browser": session.browser,
                "client": session.client,
            }
            for session in overview.sessions
        ],
    }


@app.command()
def show(
    name: str,
    as_json: bool = typer.Option(
        False, "--json", help="A JSON object for scripts (times in ISO 8601, UTC)."
    ),
) -> None:
    """Show the account that has the sign-in name NAME: its two-step state, the status of its
    security info (masked) and its active sessions."""
    overview = with_database(
        lambda db: account_overview(
            db, SystemClock(), name, destinations=Destinations.from_settings(load_settings())
        )
    )
    if as_json:
        print_json(_as_json(overview))
        return
    account = overview.account
    console.print(f"[bold]account[/] {account.id}")
    console.print(f"created        {account.created_at:%Y-%m-%d %H:%M:%S} UTC")
    console.print(f"status         {account.status}")
    console.print(f"language       {account.locale}")
    console.print(f"two-step       {'on' if account.two_step else 'off'}")
    console.print(f"sign-in names  {', '.join(account.sign_in_names)}")
    console.print()
    info = _table("security info")
    for column in ("kind", "hint", "added", "verified", "last used"):
        info.add_column(column, overflow="fold")
    for proof in account.proofs:
        info.add_row(
            proof.kind,
            proof.hint,
            _at(proof.created_at),
            _at(proof.verified_at) or "no",
            _at(overview.last_used_at(proof)),
        )
    console.print(info)
    console.print()
    if overview.apps or overview.passkeys:
        others = _table("authenticator apps and passkeys")
        for column in ("kind", "name", "added", "last used"):
            others.add_column(column, overflow="fold")
        for app in overview.apps:
            others.add_row("app", app.name, _at(app.created_at), _at(app.last_used_at))
        for key in overview.passkeys:
            made = f" ({key.authenticator})" if key.authenticator else ""
            others.add_row("passkey", key.name + made, _at(key.created_at), _at(key.last_used_at))
        console.print(others)
        console.print()
    if overview.pending:
        waiting = _table("changes waiting")
        for column in ("id", "change", "hint", "due"):
            waiting.add_column(column, overflow="fold")
        for change in overview.pending:
            waiting.add_row(str(change.id), change.change, change.hint, _at(change.due_at))
        console.print(waiting)
        console.print()
    if not overview.sessions:
        console.print("[bold]active sessions[/]: none")
        return
    sessions = _table("active sessions")
    for column in ("started", "how", "expires", "device"):
        sessions.add_column(column, overflow="fold")
    for session in overview.sessions:
        sessions.add_row(
            _at(session.created_at), session.method, _at(session.expires_at), _device(session)
        )
    console.print(sessions)


@app.command()
def audit(
    name: str,
    as_json: bool = typer.Option(
        False, "--json", help="A JSON array for scripts (times in ISO 8601, UTC)."
    ),
    limit: int = typer.Option(100, min=1, help="The newest this many lines."),
) -> None:
    """Show the audit log of the account that has the sign-in name NAME: every change of its
    security, newest first, with where it came from (IP address, browser or application)."""
    destinations = Destinations.from_settings(load_settings())
    account, log = with_database(
        lambda db: account_audit(db, SystemClock(), name, limit=limit, destinations=destinations)
    )
    if as_json:
        print_json(
            [
                {"at": e.at, "action": e.action, "detail": e.detail, "ip": e.ip, "agent": e.agent}
                for e in log
            ]
        )
        return
    table = _table(f"audit log of {', '.join(account.sign_in_names)}")
    for column in ("at", "action", "detail", "from"):
        table.add_column(column, overflow="fold")
    for e in log:
        detail = ", ".join(f"{k}={v}" for k, v in e.detail.items())
        origin = " ".join(part for part in (e.ip, e.agent) if part) or "(scheduled)"
        table.add_row(_at(e.at), e.action, detail, origin)
    console.print(table if log else "no changes of its security recorded")


@app.command("two-step")
def two_step(
    name: str,
    state: str = typer.Argument(
        ..., metavar="STATE", help="on or off", callback=one_of(("on", "off"))
    ),
) -> None:
    """Turn two-step verification on or off for the account with the sign-in name NAME."""
    destinations = Destinations.from_settings(load_settings())
    account = with_database(
        lambda db: AccountService(db, SystemClock(), destinations).set_two_step(name, state == "on")
    )
    console.print(f"two-step verification is {state} for {', '.join(account.sign_in_names)}")


OPERATOR = Origin(None, "honnin accounts")  # how the audit log names these commands


def _with_account(name: str, work: Callable[[Runtime, Tx, AccountRecord], Awaitable[str]]) -> str:
    """Run `work` on the account with the sign-in name NAME, in one transaction."""

    async def go() -> str:
        runtime = Runtime(load_settings())
        try:
            async with runtime.db.transaction() as tx:
                found = await runtime.accounts.view_by_name(tx, name)  # as `show` finds it
                account = await runtime.accounts.record(tx, found.id)
                assert account is not None
                return await work(runtime, tx, account)
        finally:
            await runtime.db.dispose()

    return run(go())


@app.command()
def close(
    name: str,
    now: bool = typer.Option(
        False, "--now", help="Delete it at once (an erasure request) instead of after the wait."
    ),
) -> None:
    """Close the account with the sign-in name NAME as its holder would: signed out
    everywhere, every way told, deleted after HONNIN_CLOSE_WAIT_SECONDS (signing in meanwhile
    reopens it). Needs the service's HONNIN_SECRET_KEY, like the server."""

    async def work(runtime: Runtime, tx: Tx, account: AccountRecord) -> str:
        if now:
            await runtime.closing.delete(tx, account)
            return f"deleted the account {name} and everything of it"
        waiting = await runtime.closing.due_at(tx, account.id)
        if waiting is not None:
            fail(f"the account {name} is closed already; deleted on {waiting:%Y-%m-%d %H:%M} UTC")
        due_at = await runtime.closing.close(tx, account, OPERATOR)
        return f"closed the account {name}; it will be deleted on {due_at:%Y-%m-%d %H:%M} UTC"

    console.print(_with_account(name, work))


@app.command()
def reopen(name: str) -> None:
    """Reopen the closed account with the sign-in name NAME (it will not be deleted)."""

    async def work(runtime: Runtime, tx: Tx, account: AccountRecord) -> str:
        if not await runtime.closing.reopen(tx, account, OPERATOR):
            fail(f"the account {name} is not closed")
        return f"reopened the account {name}"

    console.print(_with_account(name, work))
