"""Driving the `recovery` flow ("I don't have any of these") through the JSON API."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from honnin.runtime import Runtime
from honnin.security.recovery import RECOVERY_START
from tests.support.settings import nth_code
from tests.support.smtp import Sink

NEW = "new@example.net"  # the address a recovery asks to use from now on
LINK = re.compile(r"/account/changes/([0-9a-f-]{36})\?token=([\w-]+)")


async def requests_done(runtime: Runtime, timeout: float = 10.0) -> None:
    """Wait until every recovery request's account work (a job run at once, in the
    background: `Recoveries.start`) is done."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with runtime.db.transaction(write=False) as tx:
            if not await runtime.jobs.pending(tx, kinds=(RECOVERY_START,)):
                return
        assert asyncio.get_running_loop().time() < deadline, "a recovery request is still waiting"
        await asyncio.sleep(0.02)


class RecoveryFlow:
    """One recovery flow of an API client, and its actions (`runtime`: to wait, after
    `start`, until the request's account work is done)."""

    def __init__(self, api: httpx.AsyncClient, runtime: Runtime | None = None) -> None:
        self.api = api
        self.runtime = runtime
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
        if self.runtime is not None:
            await requests_done(self.runtime)
        return state


def cancel_link(text: str) -> tuple[str, str]:
    """The id and token of the "this wasn't me" link in a notice."""
    found = LINK.search(text)
    assert found is not None, text
    return found.group(1), found.group(2)
