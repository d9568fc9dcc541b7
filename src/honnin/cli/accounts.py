from __future__ import annotations

import sys

import typer
from rich.table import Table

from honnin.accounts.service import AccountService
from honnin.cli.common import console, fail, with_database
from honnin.clock import SystemClock
from honnin.i18n import LOCALES

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
    locale: str = typer.Option("en", help="The account's language: en or ja."),
) -> None:
    """Create an account whose first sign-in name and security info is EMAIL."""
    if locale not in LOCALES:
        fail(f"--locale must be one of: {', '.join(LOCALES)}")
    password = _read_password(password_stdin)
    account = with_database(
        lambda db: AccountService(db, SystemClock()).create(
            email, password, locale=locale, email_verified=verified
        )
    )
    console.print(f"created account {account.id} ({', '.join(account.sign_in_names)})")


@app.command()
def show(name: str) -> None:
    """Show the account that has the sign-in name NAME, with its security info (masked)."""
    account = with_database(lambda db: AccountService(db, SystemClock()).show(name))
    console.print(f"[bold]account[/] {account.id}")
    console.print(f"created        {account.created_at:%Y-%m-%d %H:%M:%S} UTC")
    console.print(f"status         {account.status}")
    console.print(f"language       {account.locale}")
    console.print(f"sign-in names  {', '.join(account.sign_in_names)}")
    table = Table(title="security info", title_justify="left")
    for column in ("kind", "hint", "verified", "added (UTC)"):
        table.add_column(column)
    for proof in account.proofs:
        table.add_row(
            proof.kind,
            proof.hint,
            "yes" if proof.verified else "no",
            f"{proof.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@app.command("two-step")
def two_step(
    name: str,
    state: str = typer.Argument(..., help="on or off"),
) -> None:
    """Turn two-step verification on or off for the account with the sign-in name NAME."""
    if state not in ("on", "off"):
        fail("say on or off")
    account = with_database(
        lambda db: AccountService(db, SystemClock()).set_two_step(name, state == "on")
    )
    console.print(f"two-step verification is {state} for {', '.join(account.sign_in_names)}")
