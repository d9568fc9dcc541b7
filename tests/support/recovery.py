"""Driving the `recovery` flow ("I don't have any of these") through the JSON API."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.support.settings import nth_code
from tests.support.smtp import Sink

NEW = "new@example.net"  # the address a recovery asks to use from now on
LINK = re.compile(r"/account/changes/([0-9a-f-]{36})\?token=([\w-]+)")


class RecoveryFlow:
    """One recovery flow of an API client, and its actions."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        self.url = ""

    async def begin(self) -> dict[str, Any]:
        response = await self.api.post("/api/v1/flows", json={"kind": "recovery"})
        assert response.status_code == 201, response.text
        self.url = f"/api/v1/flows/{response.json()['id']}"
        return dict(response.json())

    async def act(self, action: str, status: int = 200, **fields: Any) -> dict[str, Any]:
        response = await self.api.post(self.url, json={"action": action, **fields})
        assert response.status_code == status, response.text
        return dict(response.json())

    async def to_confirm(
        self, sink: Sink, name: str, *, new: str = NEW, password: str | None = None
    ) -> dict[str, Any]:
        """From the start to "start the waiting period": the name, the password (or not),
        the new address and its code."""
        await self.begin()
        await self.act("submit_identifier", name=name)
        if password is None:
            await self.act("skip_password")
        else:
            await self.act("submit_password", password=password)
        codes = len(sink.with_codes(new))  # codes of earlier flows, come already
        state = await self.act("submit_new_way", address=new)
        assert state["state"] == "new_code", state
        state = await self.act("submit_code", code=await nth_code(sink, new, codes + 1))
        assert state["state"] == "confirm", state
        return state

    async def start(
        self, sink: Sink, name: str, *, new: str = NEW, password: str | None = None
    ) -> dict[str, Any]:
        await self.to_confirm(sink, name, new=new, password=password)
        state = await self.act("start_recovery", time_zone="Asia/Tokyo")
        assert state["state"] == "started", state
        return state


def cancel_link(text: str) -> tuple[str, str]:
    """The id and token of the "this wasn't me" link in a notice."""
    found = LINK.search(text)
    assert found is not None, text
    return found.group(1), found.group(2)
