"""Forgot your password (`password_reset`): codes, then a new password; every session ends and
every way is told. With two-step verification on, two different ways are needed."""

from __future__ import annotations

from typing import Any

import httpx

from honnin.runtime import Runtime
from tests.support.journeys import BACKUP
from tests.support.pages import PageClient
from tests.support.settings import EMMA, PASSWORD, nth_code, sign_in, titled
from tests.support.smtp import Sink

NEW_PASSWORD = "a brand new passphrase of mine"


class Reset:
    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        self.url = ""

    async def start(self, name: str) -> dict[str, Any]:
        flow = (await self.api.post("/api/v1/flows", json={"kind": "password_reset"})).json()
        self.url = f"/api/v1/flows/{flow['id']}"
        return await self.act("submit_identifier", name=name)

    async def act(self, action: str, status: int = 200, **fields: Any) -> dict[str, Any]:
        response = await self.api.post(self.url, json={"action": action, **fields})
        assert response.status_code == status, response.text
        return dict(response.json())


async def test_a_reset_by_code_signs_out_everywhere_and_is_told(
    api: httpx.AsyncClient, emma: Any, sink: Sink
) -> None:
    elsewhere = await sign_in(api)
    reset = Reset(api)
    flow = await reset.start(EMMA)
    assert flow["state"] == "ways"
    assert flow["ways"] == ["email_code"]
    flow = await reset.act("send_code", way="email_code")
    assert flow["state"] == "code"
    early = await reset.act("submit_new_password", status=409, password=NEW_PASSWORD)
    assert early["error"] == "action_not_allowed"  # not before the code
    flow = await reset.act("submit_code", code=await nth_code(sink, EMMA, 1))
    assert flow["state"] == "new_password"
    weak = await reset.act("submit_new_password", status=422, password="hunter2hunter2")
    assert weak["error"] == "weak_password"
    flow = await reset.act("submit_new_password", password=NEW_PASSWORD)
    assert flow["state"] == "done"
    assert flow["session_token"] is None  # it signs nobody in
    gone = await api.get("/api/v1/sessions/current", headers={"X-Session-Token": elsewhere})
    assert gone.status_code == 401
    await titled(sink, EMMA, "The password of your Example account was reset")
    signed_in = Reset(api)
    await signed_in.start(EMMA)  # a sign-in now works with the new password
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    done = await api.post(url, json={"action": "submit_password", "password": NEW_PASSWORD})
    assert done.json()["state"] == "done"


async def test_with_two_step_a_reset_needs_a_second_different_way(
    api: httpx.AsyncClient, emma_two_step: Any, sink: Sink
) -> None:
    """A reset cannot bypass two-step verification: the name's code, then a code to another
    address (never the same one again), then the new password."""
    reset = Reset(api)
    await reset.start(EMMA)
    await reset.act("send_code", way="email_code")
    flow = await reset.act("submit_code", code=await nth_code(sink, EMMA, 1))
    assert flow["state"] == "verify_options"
    assert [o["hint"] for o in flow["options"]] == ["em*****@example.org"]  # not the first
    refused = await reset.act("submit_new_password", status=409, password=NEW_PASSWORD)
    assert refused["error"] == "action_not_allowed"
    flow = await reset.act("choose_option", option=flow["options"][0]["id"])
    flow = await reset.act("confirm_address", address=BACKUP)
    assert flow["state"] == "verify_code"
    flow = await reset.act("submit_code", code=await nth_code(sink, BACKUP, 2))
    assert flow["state"] == "new_password"
    flow = await reset.act("submit_new_password", password=NEW_PASSWORD)
    assert flow["state"] == "done"


async def test_a_name_without_an_account_walks_the_same_steps_and_gets_nothing(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    reset = Reset(api)
    flow = await reset.start("nobody@example.com")
    assert flow["state"] == "ways"
    flow = await reset.act("send_code", way="email_code")
    assert flow["state"] == "code"
    wrong = await reset.act("submit_code", status=400, code="123456")
    assert wrong["error"] in ("invalid_code", "invalid_credentials")
    assert sink.to("nobody@example.com") == []


async def test_the_pages_reset_a_password(browser: PageClient, emma: Any, sink: Sink) -> None:
    page = await browser.get("/signin")
    page = await browser.submit(page, "submit_identifier", name=EMMA)
    assert "Forgot your password?" in page.text
    page = await browser.get("/password/reset")
    assert "Reset your password" in page.text
    page = await browser.submit(page, "submit_identifier", name=EMMA)
    page = await browser.submit(page, "send_code")
    page = await browser.submit(page, "submit_code", code=await nth_code(sink, EMMA, 1))
    assert "Choose a new password" in page.text
    page = await browser.submit(page, "submit_new_password", password=NEW_PASSWORD)
    assert "Your password was changed" in page.text
    assert (await browser.get("/account")).path.startswith("/signin")
    page = await browser.get(page.path)  # reloading the last page
    assert "Your password was changed" in page.text
    assert PASSWORD != NEW_PASSWORD
