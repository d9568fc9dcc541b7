"""The OpenID Connect provider's signing keys: which are published, which sign, and rotating
them (a new key per algorithm, published ahead of signing: `oidc.keys`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import typer
from rich.table import Table

from honnin.cli.common import console, load_settings, print_json, run
from honnin.oidc.keys import KeyView
from honnin.runtime import Runtime

app = typer.Typer(help="The OpenID Connect provider's signing keys.", no_args_is_help=True)
T = TypeVar("T")


def _with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    async def go() -> T:
        runtime = Runtime(load_settings())
        try:
            return await work(runtime)
        finally:
            await runtime.db.dispose()

    return run(go())


def _at(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else ""


def _show(keys: list[KeyView], now: datetime, as_json: bool) -> None:
    if as_json:
        print_json([{**vars(key), "state": key.state(now)} for key in keys])
        return
    table = Table(title="signing keys (times in UTC)", title_justify="left")
    for column in ("kid", "alg", "state", "signs from", "retires", "published until"):
        table.add_column(column, overflow="fold")
    for key in keys:
        table.add_row(
            key.kid, key.alg, key.state(now), _at(key.active_from), _at(key.retired_at),
            _at(key.published_until),
        )  # fmt: skip
    console.print(table)


@app.command("list")
def list_keys(
    as_json: bool = typer.Option(False, "--json", help="A JSON array for scripts."),
) -> None:
    """The keys in the JWKS: signing, about to sign (published ahead), or retired with tokens
    still alive."""

    async def work(runtime: Runtime) -> tuple[list[KeyView], datetime]:
        await runtime.signing_keys.jwks()  # the first keys, if there are none yet
        return await runtime.signing_keys.listed(), runtime.clock.now()

    keys, now = _with_runtime(work)
    _show(keys, now, as_json)


@app.command()
def rotate(
    as_json: bool = typer.Option(False, "--json", help="A JSON array for scripts."),
) -> None:
    """A new key per algorithm: published now, signing after
    HONNIN_OIDC_KEY_PUBLISH_AHEAD_SECONDS; the keys signing now retire then, and stay
    published until every token they signed has expired."""

    async def work(runtime: Runtime) -> tuple[list[KeyView], datetime]:
        return await runtime.signing_keys.rotate(), runtime.clock.now()

    keys, now = _with_runtime(work)
    if not as_json:
        console.print(f"new keys: published now, signing from {_at(keys[0].active_from)} UTC")
    _show(keys, now, as_json)
