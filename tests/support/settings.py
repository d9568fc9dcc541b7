"""Driving the `settings` flow (the security info) through the JSON API, and reading what the
notices and codes it causes put in the SMTP sink (in any order: the courier sends them at once).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.smtp import CODE, Received, Sink

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"
WORK = "emma@work.example"


class SettingsFlow:
    """A settings flow of one API session, and its actions."""

    def __init__(self, api: httpx.AsyncClient, token: str) -> None:
        self.api = api
        self.headers = {"X-Session-Token": token}
        self.url = ""

    async def start(self) -> dict[str, Any]:
        response = await self.api.post(
            "/api/v1/flows", json={"kind": "settings"}, headers=self.headers
        )
        assert response.status_code == 201, response.text
        self.url = f"/api/v1/flows/{response.json()['id']}"
        return dict(response.json())

    async def act(self, action: str, status: int = 200, **fields: Any) -> dict[str, Any]:
        response = await self.api.post(
            self.url, json={"action": action, **fields}, headers=self.headers
        )
        assert response.status_code == status, response.text
        return dict(response.json())


async def sign_in(api: httpx.AsyncClient, name: str = EMMA, password: str = PASSWORD) -> str:
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": name})
    done = (await api.post(url, json={"action": "submit_password", "password": password})).json()
    assert done["state"] == "done", done
    return str(done["session_token"])


async def add_work(flow: SettingsFlow, sink: Sink) -> dict[str, Any]:
    state = await flow.act("add_proof", address="Emma@Work.example")
    assert state["state"] == "add_code"
    assert state["code"]["destination_hint"] == "em*****@work.example"
    return await flow.act("submit_code", code=await nth_code(sink, WORK, 1))


async def titled(sink: Sink, address: str, subject: str) -> Received:
    """The mail to `address` with this subject (the courier sends them in any order)."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        found = [mail for mail in sink.to(address) if mail.message["Subject"] == subject]
        if found:
            return found[-1]
        assert asyncio.get_running_loop().time() < deadline, [
            m.message["Subject"] for m in sink.to(address)
        ]
        await asyncio.sleep(0.02)


async def nth_code(sink: Sink, address: str, nth: int) -> str:
    """The code of the `nth` mail with a code to `address` (notices come and go between)."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        mails = [mail for mail in sink.to(address) if CODE.search(mail.text)]
        if len(mails) >= nth:
            return mails[nth - 1].code
        assert asyncio.get_running_loop().time() < deadline, [m.text for m in sink.to(address)]
        await asyncio.sleep(0.02)


async def text_with(sink: Sink, inbox: str, words: str) -> str:
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        found = [mail.text for mail in sink.to(inbox) if words in mail.text]
        if found:
            return found[0]
        assert asyncio.get_running_loop().time() < deadline, [m.text for m in sink.to(inbox)]
        await asyncio.sleep(0.02)
