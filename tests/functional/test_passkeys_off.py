"""A service reached at an IP address (`HONNIN_BASE_URL`) can have no passkeys: an IP address
is never a relying party. Nothing offers them, and asking for one is refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from honnin.authenticators import passkeys
from honnin.authenticators.passkeys import NewPasskey
from honnin.runtime import Runtime
from tests.support.pages import PageClient
from tests.support.settings import SettingsFlow


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"base_url": "http://127.0.0.1:8000"}


async def test_no_passkeys_at_an_ip_address(
    api: httpx.AsyncClient, flow_of_emma: SettingsFlow, browser: PageClient
) -> None:
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    assert flow["actions"] == ["submit_identifier"]
    assert flow["webauthn"] is None
    state = await flow_of_emma.start()
    assert state["security"]["passkeys_available"] is False
    assert "add_passkey" not in state["actions"]
    refused = await flow_of_emma.act("add_passkey", status=409)
    assert refused["error"] == "action_not_allowed"
    page = await browser.get("/signin")
    assert page.element("name")["autocomplete"] == "username"
    assert "data-passkey" not in page.html


async def test_passkeys_kept_from_before_do_not_count_as_a_way(
    flow_of_emma: SettingsFlow, runtime: Runtime, emma: Any
) -> None:
    """Registered while the service had a host name: unusable now, so no second way."""
    async with runtime.db.transaction() as tx:
        new = NewPasskey(b"\x01" * 16, b"key", 0, "0" * 36, True, True, True, "")
        await passkeys.add(tx, emma.id, new, "laptop", runtime.clock.now())
    await flow_of_emma.start()
    refused = await flow_of_emma.act("two_step_on", status=409)
    assert refused["error"] == "two_ways_needed"
