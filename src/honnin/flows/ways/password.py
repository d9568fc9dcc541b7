"""The password as a way in: what the person types, and how it is checked.

Hashing is slow, so it is checked before the flow's transaction, on a snapshot of the flow
(`FlowService.act` runs `prepare` first); the guess is counted before the hash is computed, in
a transaction of its own that commits, so that guesses sent all at once cannot slip past the
limit. A name without an account costs the same: a dummy hash is checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import update

from honnin.accounts.models import Account
from honnin.accounts.passwords import check_password, verify_nothing
from honnin.flows.guesses import Attempt, Guess, Guesses
from honnin.flows.models import FlowRecord
from honnin.flows.service import Binding, Context, FlowService


@dataclass(frozen=True)
class PasswordCheck:
    account_id: uuid.UUID | None
    right: bool
    attempt: Attempt  # counted before the hash was computed; released if right
    password_hash: str | None = None  # the hash that was checked (outside the transaction)
    new_hash: str | None = None  # right, but hashed with older parameters: today's hash of it


async def check(
    flows: FlowService,
    guesses: Guesses,
    flow: FlowRecord,
    fields: Mapping[str, str],
    binding: Binding,
) -> PasswordCheck:
    """Count the guess, then judge the password typed for the flow's name."""
    name = flow.data["name"]
    await flows.throttle.attempt(binding.requester)
    async with flows.db.transaction() as tx:  # committed: concurrent guesses see it
        account = await flows.account_by_name(tx, name)
        attempt = await guesses.reserve(
            tx,
            Guess.SECRET,
            name=name,
            account_id=account.id if account else None,
            binding=binding,
            now=flows.clock.now(),
            after_code=flow.state == "second_password",
        )
    password = fields.get("password") or ""
    if account is None or account.password_hash is None:
        await verify_nothing(password)  # the same time as a real check
        return PasswordCheck(None, False, attempt)
    checked = await check_password(account.password_hash, password)
    return PasswordCheck(
        account.id, checked.right, attempt, account.password_hash, checked.new_hash
    )


async def rehash(ctx: Context, check: PasswordCheck) -> None:
    """Store today's hash of a right password whose hash had older, weaker parameters: the
    only moment the service holds the password itself. In the sign-in's transaction, and
    only where the hash is still the one that was checked: a conditional UPDATE rather
    than the loaded row's attribute, so that a password changed by a transaction that
    commits meanwhile (PostgreSQL, read committed) wins instead of being overwritten.
    Safe even when a second step is still to come: the password was right, and a
    stronger hash of the same password grants nothing more."""
    if check.new_hash is None or check.password_hash is None:
        return
    await ctx.tx.conn.execute(
        update(Account)
        .where(Account.id == check.account_id, Account.password_hash == check.password_hash)
        .values(password_hash=check.new_hash)
    )
