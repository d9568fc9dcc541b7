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
from honnin.limits.service import Limiter
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
        limiter = Limiter(settings, SystemClock())
        codes = CodeService(runtime.codes.policy, keyring, SystemClock(), limiter, runtime.outbox)
        return VerificationService(db, SystemClock(), codes, limiter)

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
