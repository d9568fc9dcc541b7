"""An authenticator app: the code it shows, typed back. Nothing is sent, so nothing can fail
to arrive; it is offered as the second step and for "verify your identity", one option per
app the account has (named by its person), never as a first step.

A typed code is a guess: counted before it is judged (`flows.guesses`, `Guess.APP_CODE`: the
flow's key and the account's own, with the sign-in's failure limits), and the request's own
throttle. The code's rules (drift, replay) are `authenticators.totp`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable

from honnin.authenticators import apps
from honnin.authenticators.apps import AppView
from honnin.flows.guesses import Guess, Guesses
from honnin.flows.service import Context
from honnin.flows.ways.base import Option, proof_id_of

NAME = "totp"
KIND = "app"


def options(found: Iterable[AppView]) -> list[Option]:
    return [Option(f"{NAME}:{app.id}", NAME, KIND, app.name) for app in found]


def is_app(option: dict[str, str]) -> bool:
    return option.get("way") == NAME


def app_id_of(option_id: str) -> uuid.UUID:
    return uuid.UUID(proof_id_of(option_id))


def session_way(app_id: uuid.UUID | str) -> str:
    """How a session records a verification by an app."""
    return f"app:{app_id}"


async def counted(
    ctx: Context,
    guesses: Guesses,
    account_id: uuid.UUID,
    judge: Callable[[], Awaitable[AppView | None]],
) -> AppView | None:
    """Judge a typed app code (`judge`: `authenticators.apps.check`, or a setup's finish),
    counted as a guess before it is judged and released if right."""
    await guesses.flows.throttle.attempt(ctx.binding.requester)
    attempt = await guesses.reserve(
        ctx.tx,
        Guess.APP_CODE,
        name=ctx.data["name"],
        account_id=account_id,
        binding=ctx.binding,
        now=ctx.now,
        flow_id=ctx.flow.id,
    )
    app = await judge()
    if app is not None:
        await guesses.release(ctx.tx, attempt)
    return app


async def check(
    ctx: Context, guesses: Guesses, account_id: uuid.UUID, app_id: uuid.UUID, typed: str
) -> AppView | None:
    """The app, if `typed` is its code now (counted, `counted`)."""
    keyring = guesses.flows.keyring
    return await counted(
        ctx,
        guesses,
        account_id,
        lambda: apps.check(ctx.tx, keyring, account_id, app_id, typed, ctx.now),
    )
