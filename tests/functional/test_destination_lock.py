"""One lock per destination, whichever secret key its pending challenge was made under: the
send limits of a destination are read under its lock, and two locks would let two sends to one
address be counted side by side (`CodeService.lock_destination`)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text, update

from honnin.codes.models import Challenge
from honnin.db.locks import lock_keys
from honnin.limits.service import Requester
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock

OLD = "old-secret-" + "o" * 40
ADDRESS = "someone@example.com"
ME = Requester(ip="192.0.2.1")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"secret_key_previous": OLD}


async def test_a_send_into_a_challenge_made_before_a_rotation_takes_one_lock(
    runtime: Runtime, clock: ShiftableClock, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes no locks: every write transaction there runs alone")
    codes = runtime.codes
    async with runtime.db.transaction() as tx:
        sent = await codes.send(
            tx, purpose="verify", channel="email", destination=ADDRESS, locale="en", requester=ME
        )
    current, old = codes.keyring.digests("destination", "email", ADDRESS)
    async with runtime.db.transaction() as tx:  # as if made under the key before the rotation
        await tx.conn.execute(
            update(Challenge)
            .where(Challenge.id == sent.challenge.id)
            .values(destination_digest=old)
        )
    clock.advance(seconds=31)  # past the resend cooldown

    async with runtime.db.transaction() as tx:
        again = await codes.send(
            tx, purpose="verify", channel="email", destination=ADDRESS, locale="en", requester=ME
        )
        assert again.challenge.id == sent.challenge.id  # a resend into the pending challenge
        assert again.challenge.destination_digest == old
        assert tx.locked == {current}  # before: {current, old}


async def test_keys_are_locked_together_in_one_statement(
    runtime: Runtime, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes no locks: every write transaction there runs alone")
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    engine = runtime.db.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with runtime.db.transaction() as tx:
            await lock_keys(tx, [b"b" * 32, b"a" * 32])
            await lock_keys(tx, [b"a" * 32])  # held already: nothing sent
            held = (
                await tx.conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND pid = pg_backend_pid() AND granted"
                    )
                )
            ).scalar()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert held == 2
    assert len([sql for sql in sent if "pg_advisory_xact_lock" in sql]) == 1
