"""Single use under concurrency: of simultaneous checks of one right code, exactly one wins."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from honnin.clock import SystemClock
from honnin.codes.service import CodeService
from honnin.config import Settings
from honnin.crypto import Keyring
from honnin.db import Database
from honnin.verifications.service import VerificationService
from tests.support.smtp import Sink

ADDRESS = "emma@example.com"


async def test_two_simultaneous_checks_of_one_code_approve_once(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    created = (await api.post("/api/v1/verifications", json={"to": ADDRESS})).json()
    code = await sink.wait_for_code(ADDRESS)

    path = f"/api/v1/verifications/{created['id']}/check"
    responses = await asyncio.gather(*(api.post(path, json={"code": code}) for _ in range(2)))

    assert sorted(r.status_code for r in responses) == [200, 409]


async def test_checks_from_separate_connection_pools_approve_once(
    api: httpx.AsyncClient, sink: Sink, settings: Settings, runtime: Any
) -> None:
    """As if from separate processes: each checker has its own engine and connections."""
    created = (await api.post("/api/v1/verifications", json={"to": ADDRESS})).json()
    code = await sink.wait_for_code(ADDRESS)
    client = await runtime.clients.authenticate(api.headers["Authorization"].split()[1])
    assert client is not None

    databases = [Database(settings.effective_database_url) for _ in range(6)]
    keyring = Keyring(settings.resolve_secret())

    def service(db: Database) -> VerificationService:
        codes = CodeService(
            runtime.codes.policy, keyring, SystemClock(), runtime.codes.throttle,
            runtime.codes.limits, runtime.outbox,
        )  # fmt: skip
        return VerificationService(db, SystemClock(), codes)

    async def attempt(db: Database) -> str:
        try:
            return (await service(db).check(client, created["id"], code)).status
        except Exception as error:
            return type(error).__name__

    try:
        outcomes = await asyncio.gather(*(attempt(db) for db in databases))
    finally:
        for db in databases:
            await db.dispose()
    assert sorted(outcomes) == ["NotPending"] * 5 + ["approved"]


async def test_simultaneous_creates_for_one_address_open_one_verification(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    responses = await asyncio.gather(
        *(api.post("/api/v1/verifications", json={"to": ADDRESS}) for _ in range(4))
    )
    created = [r.json() for r in responses if r.status_code == 201]
    refused = [r.json() for r in responses if r.status_code != 201]
    assert len(created) == 1  # the others resend into it and meet the cooldown
    assert {r["error"] for r in refused} == {"rate_limited"}
    await sink.wait_for(ADDRESS)
    await asyncio.sleep(0.2)
    assert len(sink.to(ADDRESS)) == 1


async def test_a_check_racing_a_resend_never_approves_a_superseded_code(
    api: httpx.AsyncClient, sink: Sink, clock: Any
) -> None:
    """Whichever commits first, the old code must not approve once the new one exists."""
    for n in range(5):
        to = f"race{n}@example.com"
        created = (await api.post("/api/v1/verifications", json={"to": to})).json()
        old_code = await sink.wait_for_code(to)
        clock.advance(seconds=31)
        check, resend = await asyncio.gather(
            api.post(f"/api/v1/verifications/{created['id']}/check", json={"code": old_code}),
            api.post("/api/v1/verifications", json={"to": to}),
        )
        if check.status_code == 200:  # the check went first: the resend finds nothing pending
            assert resend.status_code == 201
            assert resend.json()["id"] != created["id"]
        else:  # the resend went first: the old code is superseded
            assert check.json()["error"] == "code_superseded"
            assert resend.json()["id"] == created["id"]
