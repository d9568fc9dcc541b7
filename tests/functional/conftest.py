"""The whole service, driven over HTTP, sending to a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from honnin.app import create_app
from honnin.config import Settings
from honnin.limits.service import Requester
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.journeys import BACKUP, EMMA, PASSWORD, client_for
from tests.support.operators import Operator
from tests.support.pages import PageClient
from tests.support.relying_party import RelyingParty, register
from tests.support.settings import SettingsFlow, sign_in
from tests.support.smtp import Sink

SECRET = "test-secret-" + "x" * 40
SENDER = "account-security-noreply@accountprotection.example.com"


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module (or with indirect parametrisation) to change settings."""
    return {}


@pytest.fixture
def settings(
    database_url: str, sink: Sink, tmp_path: Path, settings_overrides: dict[str, Any]
) -> Settings:
    values: dict[str, Any] = {
        "secret_key": SECRET,
        "database_url": database_url,
        "smtp_url": sink.url,
        "data_dir": tmp_path / "data",
        "mail_from": f"Example account team <{SENDER}>",
        "service_name": "Example",
        "courier_poll_seconds": 0.2,
        "courier_retry_base_seconds": 0.2,
        "courier_retry_max_seconds": 1.0,
        "limit_client_sends": "1000/hour",
        "limit_client_checks": "1000/hour",
        **settings_overrides,
    }
    return Settings(**values)


@pytest.fixture
async def app(settings: Settings, clock: ShiftableClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    value: Runtime = app.state.runtime
    return value


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def api_key(runtime: Runtime) -> str:
    return (await runtime.clients.create("Example shop")).api_key


@pytest.fixture
async def api(app: FastAPI, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client authenticated as an application."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {api_key}"},
    ) as client:
        yield client


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[PageClient]:
    async with client_for(app) as client:
        yield PageClient(client)


@pytest.fixture
async def another_browser(app: FastAPI) -> AsyncIterator[PageClient]:
    async with client_for(app, ip="192.0.2.11") as client:
        yield PageClient(client)


@pytest.fixture
async def emma(runtime: Runtime) -> Any:
    return await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)


@pytest.fixture
async def emma_two_step(runtime: Runtime, emma: Any, sink: Sink) -> Any:
    """Emma, with two-step verification on and a second verified address."""
    proof = await runtime.proofs.add(emma.id, "email", BACKUP)
    me = Requester(ip="198.51.100.1")
    sent = await runtime.proofs.send_code(emma.id, proof.id, requester=me, locale="en")
    code = await sink.wait_for_code(BACKUP)
    await runtime.proofs.confirm(emma.id, sent.challenge_id, code, requester=me)
    return await runtime.accounts.set_two_step(EMMA, True)


@pytest.fixture
async def flow_of_emma(api: httpx.AsyncClient, emma: Any) -> SettingsFlow:
    """Emma, signed in through the API just now, and her security info's flow (`start` it)."""
    return SettingsFlow(api, await sign_in(api))


@pytest.fixture
def operator(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Operator:
    """`honnin …` as an operator runs it beside this test's service (its database, secret and
    service name)."""
    monkeypatch.setenv("HONNIN_DATABASE_URL", database_url)
    monkeypatch.setenv("HONNIN_SECRET_KEY", SECRET)
    monkeypatch.setenv("HONNIN_SERVICE_NAME", "Example")
    monkeypatch.setenv("COLUMNS", "200")
    return Operator(CliRunner())


@pytest.fixture
async def rp(runtime: Runtime, app: FastAPI) -> RelyingParty:
    """An application registered with honnin (a confidential client, one redirect URI)."""
    return await register(runtime, app)
