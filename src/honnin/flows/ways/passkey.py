"""A passkey: the browser (or app) answers a challenge with it; nothing is sent. It signs in
without a name (the sign-in page offers it, and browsers list passkeys in the name field's
autofill), and it is offered as the second step and for "verify your identity": one option,
the browser picks among the account's passkeys.

The challenge lives in the flow (`CHALLENGE` in its data) and is spent by the first answer,
right or wrong: the action returns its error rather than raising it, so that spending it
commits, and a new one is put in its place for the next try. A passkey whose sign count did
not go up is recorded in the audit log (a possible clone) and still accepted: synced passkeys
and some authenticators never count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from honnin.audit import service as audit
from honnin.authenticators import passkeys
from honnin.authenticators.passkeys import Assertion, PasskeyView
from honnin.db import Tx
from honnin.flows.models import FlowRecord
from honnin.flows.service import Context, FlowService
from honnin.flows.ways.base import Option
from honnin.sessions.service import HOW

NAME = "passkey"
KIND = "passkey"
CHALLENGE = "passkey_challenge"


def options(found: Iterable[PasskeyView]) -> list[Option]:
    """One option for all the account's passkeys (its hint: how many; the browser lists
    them)."""
    return [Option(f"{NAME}:any", NAME, KIND, "")] if list(found) else []


def is_passkey(option: dict[str, str]) -> bool:
    return option.get("way") == NAME


# a session's way beside the passkey's when the authenticator verified its person (PIN,
# biometrics): OpenID Connect's `amr` says `user`
USER_VERIFIED = f"{HOW}user-verified"


def session_way(passkey_id: object) -> str:
    """How a session records a verification by a passkey."""
    return f"passkey:{passkey_id}"


def fresh(flows: FlowService) -> dict[str, str]:
    """Flow data with a new challenge (none where passkeys are not available)."""
    return {CHALLENGE: passkeys.new_challenge()} if flows.relying_party.available else {}


async def request_options(
    tx: Tx, flows: FlowService, flow: FlowRecord, *, account_bound: bool
) -> dict[str, Any] | None:
    """What the page gives `navigator.credentials.get()`: any of this site's passkeys, or
    (`account_bound`) one of the flow's account's."""
    rp = flows.relying_party
    challenge = flow.data.get(CHALLENGE)
    if not rp.available or not challenge:
        return None
    allow = None
    if account_bound:
        assert flow.account_id is not None
        allow = await passkeys.rows_of(tx, flow.account_id)
    return passkeys.request_options(rp, challenge=challenge, allow=allow)


def spend(ctx: Context, flows: FlowService) -> str | None:
    """The flow's challenge, spent: a new one takes its place."""
    challenge = ctx.data.get(CHALLENGE)
    ctx.update(**fresh(flows))
    return str(challenge) if challenge else None


async def check(
    ctx: Context, flows: FlowService, credential: str, *, account_id: Any = None
) -> Assertion:
    """The browser's answer, checked against the flow's challenge (spent), and a possible
    clone recorded; `PasskeyRefused` if it is not right (the caller returns it)."""
    await flows.throttle.attempt(ctx.binding.requester)
    challenge = spend(ctx, flows)
    if challenge is None or not flows.relying_party.available:
        raise passkeys.refused()
    assertion = await passkeys.check(
        ctx.tx, flows.relying_party, credential, challenge, ctx.now, account_id=account_id
    )
    if assertion.went_back:
        await audit.record(
            ctx.tx,
            assertion.account_id,
            "passkey_count_went_back",
            ctx.now,
            ctx.binding.origin,
            hint=assertion.passkey.name,
        )
    return assertion
