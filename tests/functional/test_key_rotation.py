"""Rotating `HONNIN_SECRET_KEY`: with the old key in `HONNIN_SECRET_KEY_PREVIOUS` everything made
under it keeps working (nobody is signed out, no pending code breaks, a queued message still
goes out); once the old key is dropped, what only it could vouch for stops working.

Each phase is a fresh start of the service on the same database, as an operator would restart it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from honnin.app import create_app
from honnin.config import Settings
from honnin.errors import ConfigurationError
from tests.support.clock import ShiftableClock
from tests.support.journeys import EMMA, PASSWORD, client_for, to_password
from tests.support.pages import PageClient
from tests.support.smtp import Sink

NEW = "new-secret-" + "n" * 40
DELIVERED = "delivered@example.com"  # a code that reached its inbox under the old key
QUEUED = "queued@example.com"  # a code still sealed in the outbox when the key changed


@asynccontextmanager
async def running(
    settings: Settings, clock: ShiftableClock, **changes: Any
) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update=changes), clock=clock)
    async with app.router.lifespan_context(app):
        yield app


def api_client(app: FastAPI, api_key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {api_key}"},
    )


@dataclass
class MadeUnderOldKey:
    api_key: str
    cookies: httpx.Cookies  # a browser signed in as Emma
    csrf_form: dict[str, str]  # the language switcher of a page it was shown
    session_token: str  # an application's session for Emma
    delivered: tuple[str, str]  # a pending verification and its code, read from the email
    queued: str  # a pending verification whose email had not gone out


async def make_under_old_key(
    settings: Settings, clock: ShiftableClock, sink: Sink
) -> MadeUnderOldKey:
    async with running(settings, clock) as app:
        runtime = app.state.runtime
        await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
        api_key = (await runtime.clients.create("Shop")).api_key
        async with client_for(app) as client:
            browser = PageClient(client)
            page = await browser.submit(
                await to_password(browser), "submit_password", password=PASSWORD
            )
            assert page.path == "/account"
            form = next(f for f in page.forms() if f.action == "/lang")
            cookies = httpx.Cookies(client.cookies)
        async with api_client(app, api_key) as api:
            flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
            url = f"/api/v1/flows/{flow['id']}"
            await api.post(url, json={"action": "submit_identifier", "name": EMMA})
            done = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
            session_token = done.json()["session_token"]
            delivered = (await api.post("/api/v1/verifications", json={"to": DELIVERED})).json()
            code = await sink.wait_for_code(DELIVERED)
    async with (
        running(settings, clock, courier_enabled=False) as app,
        api_client(app, api_key) as api,
    ):
        queued = (await api.post("/api/v1/verifications", json={"to": QUEUED})).json()
        assert queued["delivery"]["status"] == "queued"
    assert sink.to(QUEUED) == []
    return MadeUnderOldKey(
        api_key, cookies, {**form.fields, "locale": "ja"}, session_token,
        (delivered["id"], code), queued["id"],
    )  # fmt: skip


async def delivery_of(api: httpx.AsyncClient, verification_id: str, status: str) -> dict[str, Any]:
    """The verification once its message reached `status` (the courier works in the background)."""
    for _ in range(200):
        body: dict[str, Any] = (await api.get(f"/api/v1/verifications/{verification_id}")).json()
        if body["delivery"]["status"] == status:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"the message never reached {status}: {body}")


async def test_with_the_old_key_as_previous_nothing_breaks(
    settings: Settings, clock: ShiftableClock, sink: Sink
) -> None:
    made = await make_under_old_key(settings, clock, sink)
    old = settings.secret_key
    assert old is not None
    async with (
        running(settings, clock, secret_key=SecretStr(NEW), secret_key_previous=old) as app,
        api_client(app, made.api_key) as api,
    ):
        # the API key, and the application's session for Emma
        me = await api.get(
            "/api/v1/sessions/current", headers={"X-Session-Token": made.session_token}
        )
        assert me.status_code == 200
        assert me.json()["name"] == EMMA
        # the browser is still signed in, and a form it was shown before still posts
        async with client_for(app) as client:
            client.cookies = made.cookies
            browser = PageClient(client)
            assert f"Signed in as {EMMA}" in (await browser.get("/account")).text
            switched = await client.post("/lang", data=made.csrf_form)
            assert switched.status_code == 303
            assert switched.cookies["lang"] == "ja"
        # the code that had arrived still works
        verification_id, code = made.delivered
        checked = await api.post(
            f"/api/v1/verifications/{verification_id}/check", json={"code": code}
        )
        assert checked.status_code == 200
        assert checked.json()["status"] == "approved"
        # the sealed message goes out, and its code works
        await delivery_of(api, made.queued, "accepted")
        queued_code = await sink.wait_for_code(QUEUED)
        checked = await api.post(
            f"/api/v1/verifications/{made.queued}/check", json={"code": queued_code}
        )
        assert checked.json()["status"] == "approved"
        # and what is made now is made under the new key
        new_flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
        assert new_flow["state"] == "identifier"
    # the new key alone recognises what was made after the rotation: a new sign-in
    async with (
        running(settings, clock, secret_key=SecretStr(NEW)) as app,
        client_for(app) as client,
    ):
        browser = PageClient(client)
        page = await browser.submit(
            await to_password(browser), "submit_password", password=PASSWORD
        )
        assert f"Signed in as {EMMA}" in (await browser.get("/account")).text
        assert page.path == "/account"


async def test_once_the_old_key_is_dropped_what_it_made_stops_working(
    settings: Settings, clock: ShiftableClock, sink: Sink
) -> None:
    made = await make_under_old_key(settings, clock, sink)
    async with (
        running(settings, clock, secret_key=SecretStr(NEW)) as app,
        api_client(app, made.api_key) as api,
    ):
        # API keys are not derived from the secret: the application keeps working
        me = await api.get(
            "/api/v1/sessions/current", headers={"X-Session-Token": made.session_token}
        )
        assert me.status_code == 401
        assert me.json()["error"] == "no_session"
        async with client_for(app) as client:
            client.cookies = made.cookies
            browser = PageClient(client)
            assert (await browser.get("/account")).path.startswith("/signin/")
            refused = await client.post("/lang", data=made.csrf_form)
            assert refused.status_code == 403
            assert "lang" not in refused.cookies
        verification_id, code = made.delivered
        checked = await api.post(
            f"/api/v1/verifications/{verification_id}/check", json={"code": code}
        )
        assert checked.status_code == 400
        assert checked.json()["error"] == "invalid_code"
        failed = await delivery_of(api, made.queued, "failed")
        assert failed["delivery"]["last_reply"] == "could not build the message: InvalidTag"
    assert sink.to(QUEUED) == []


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        ("", 0),
        (" ", 0),
        ("a" * 32, 1),
        ("a" * 32 + ", " + "b" * 40 + ",", 2),
    ],
)
def test_previous_keys_are_a_comma_separated_list(previous: str, expected: int) -> None:
    settings = Settings(secret_key="c" * 32, secret_key_previous=previous)
    assert settings.resolve_previous_secrets() == [
        v.strip().encode() for v in previous.split(",") if v.strip()
    ]
    assert len(settings.resolve_previous_secrets()) == expected


def test_a_short_previous_key_is_refused_with_the_reason() -> None:
    settings = Settings(secret_key="c" * 32, secret_key_previous="a" * 32 + ",short")
    with pytest.raises(ConfigurationError) as caught:
        settings.resolve_previous_secrets()
    assert caught.value.message.render("en") == (
        "A key in HONNIN_SECRET_KEY_PREVIOUS is too short: each comma-separated key must be at "
        "least 32 characters, as HONNIN_SECRET_KEY was."
    )


async def test_counts_kept_under_the_old_key_go_on_counting(
    settings: Settings, clock: ShiftableClock, sink: Sink
) -> None:
    """Wrong passwords per sign-in name, and the pending code of a destination: a rotation
    neither hands out a fresh allowance of guesses nor starts a second code beside the first."""
    old = settings.secret_key
    async with running(settings, clock) as app:
        runtime = app.state.runtime
        await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
        api_key = (await runtime.clients.create("Shop")).api_key
        async with api_client(app, api_key) as api:
            flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
            url = f"/api/v1/flows/{flow['id']}"
            await api.post(url, json={"action": "submit_identifier", "name": EMMA})
            for _ in range(10):  # HONNIN_LIMIT_NAME_FAILURES: 10 per 15 minutes
                wrong = await api.post(url, json={"action": "submit_password", "password": "x"})
                assert wrong.json()["error"] == "invalid_credentials"
            first = (await api.post("/api/v1/verifications", json={"to": DELIVERED})).json()
    clock.advance(seconds=settings.resend_cooldown_seconds)
    async with (
        running(settings, clock, secret_key=SecretStr(NEW), secret_key_previous=old) as app,
        api_client(app, api_key) as api,
    ):
        eleventh = await api.post(url, json={"action": "submit_password", "password": "x"})
        assert eleventh.status_code == 429
        assert eleventh.json()["error"] == "rate_limited"
        again = (await api.post("/api/v1/verifications", json={"to": DELIVERED})).json()
        assert (again["id"], again["send_count"]) == (first["id"], 2)
