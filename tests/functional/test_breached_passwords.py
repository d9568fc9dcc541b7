"""A password seen in data breaches is refused at sign-up, asked of a Pwned-Passwords-
compatible range API by the first 5 characters of its SHA-1 only; when the API does not
answer, the bundled list has decided alone and the sign-up goes on."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.pwned import FakePwned
from tests.support.smtp import Sink

BREACHED = "glass harbor quietly 1987"  # long, not on the bundled list, but breached here


@pytest.fixture
def pwned() -> Iterator[FakePwned]:
    fake = FakePwned().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings_overrides(pwned: FakePwned) -> dict[str, Any]:
    return {"pwned_passwords_url": pwned.url}


async def sign_up(api: httpx.AsyncClient, password: str) -> httpx.Response:
    created = (await api.post("/api/v1/flows", json={"kind": "sign_up"})).json()
    return await api.post(
        f"/api/v1/flows/{created['id']}",
        json={"action": "submit_details", "email": "emma@example.com", "password": password},
    )


async def test_a_breached_password_is_refused_and_only_a_prefix_left(
    api: httpx.AsyncClient, pwned: FakePwned, sink: Sink
) -> None:
    pwned.breach(BREACHED)
    refused = await sign_up(api, BREACHED)
    assert refused.status_code == 422
    assert refused.json()["error"] == "weak_password"
    assert "data breach" in refused.json()["message"]
    digest = hashlib.sha1(BREACHED.encode()).hexdigest().upper()  # noqa: S324
    assert pwned.paths == [f"/range/{digest[:5]}"]  # k-anonymity: 5 of 40 characters
    assert sink.received == []


async def test_a_password_the_api_does_not_know_is_taken(
    api: httpx.AsyncClient, pwned: FakePwned, sink: Sink
) -> None:
    accepted = await sign_up(api, "glass harbor quietly 1988")
    assert accepted.status_code == 200
    assert accepted.json()["state"] == "code"
    await sink.wait_for("emma@example.com")


async def test_when_the_api_is_down_the_bundled_list_decides_alone(
    api: httpx.AsyncClient, pwned: FakePwned, sink: Sink
) -> None:
    pwned.breach(BREACHED)
    pwned.stop()
    accepted = await sign_up(api, BREACHED)
    assert accepted.status_code == 200  # not blocked by someone else's outage
    refused = await sign_up(api, "qwertyuiop123456")  # the bundled list still refuses
    assert refused.status_code == 422
