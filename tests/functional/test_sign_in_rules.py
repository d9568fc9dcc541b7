"""The rules behind sign-in that an attacker would probe: factors, limits, fixation, binding."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from honnin.accounts.models import Account
from honnin.runtime import Runtime
from tests.support.journeys import (
    BACKUP,
    EMMA,
    PASSWORD,
    client_for,
    option_value,
    to_options,
    to_password,
)
from tests.support.pages import PageClient
from tests.support.smtp import Sink


async def test_two_step_fails_closed_without_verified_security_info(
    browser: PageClient, runtime: Runtime
) -> None:
    account = await runtime.accounts.create(EMMA, PASSWORD)  # its address never verified
    async with runtime.db.transaction() as tx:  # as if turned on by an older version
        await tx.conn.execute(update(Account).where(Account.id == account.id).values(two_step=True))
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert page.status == 403
    assert page.alert is not None
    assert "no verified security info" in page.alert
    assert (await browser.get("/account")).path.startswith("/signin")


async def test_with_two_step_a_code_sign_in_also_needs_the_password(
    browser: PageClient, sink: Sink, emma_two_step: Any
) -> None:
    page = await browser.submit(await to_password(browser), "send_code")
    page = await browser.submit(page, "submit_code", code=await sink.wait_for_code(EMMA, count=1))
    assert "One more step: your password" in page.text
    assert not page.has("send_code")
    wrong = await browser.submit(page, "submit_password", password="not it")
    assert wrong.status == 400
    page = await browser.submit(page, "submit_password", password=PASSWORD)
    assert page.path == "/account"


async def test_five_wrong_codes_burn_the_code(browser: PageClient, sink: Sink, emma: Any) -> None:
    page = await browser.submit(await to_password(browser), "send_code")
    code = await sink.wait_for_code(EMMA)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    alerts = [(await browser.submit(page, "submit_code", code=wrong)).alert for _ in range(5)]
    assert alerts[-1] is not None
    assert "Too many wrong codes" in alerts[-1]
    right = await browser.submit(page, "submit_code", code=code)
    assert right.alert is not None
    assert "Too many wrong codes" in right.alert


async def test_every_wrong_code_counts_against_the_name_the_one_that_burns_it_too(
    api: httpx.AsyncClient, sink: Sink, emma: Any
) -> None:
    """HONNIN_LIMIT_NAME_FAILURES is 10/15minutes: ten wrong codes are judged in one sign-in
    (the name's codes in the flow that asked for them: `flows.guesses`), across the codes they
    burn (five each), and the eleventh is refused unjudged, even the right code."""
    created = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{created['id']}"

    async def act(action: str, **fields: str) -> httpx.Response:
        return await api.post(url, json={"action": action, **fields})

    await act("submit_identifier", name=EMMA)
    assert (await act("email_code")).status_code == 200
    judged = []
    for n in (1, 2):
        code = await sink.wait_for_code(EMMA, count=n)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(5):
            reply = await act("submit_code", code=wrong)
            judged.append((reply.status_code, reply.json()["error"]))
        assert (await act("resend")).status_code == 200  # a burned code is replaced at once
    per_code = [(400, "invalid_code")] * 4 + [(400, "too_many_attempts")]
    assert judged == per_code * 2

    eleventh = await act("submit_code", code=await sink.wait_for_code(EMMA, count=3))
    assert eleventh.status_code == 429, eleventh.text  # before: judged, and signed in
    assert eleventh.json()["error"] == "rate_limited"


@pytest.mark.parametrize("settings_overrides", [{"limit_name_failures": "3/15minutes"}])
async def test_guesses_sent_all_at_once_still_meet_the_limit(app: FastAPI, emma: Any) -> None:
    async with client_for(app) as client:
        browser = PageClient(client)
        page = await to_password(browser)
        form = page.form("submit_password")
        replies = await asyncio.gather(
            *(
                client.post(form.action, data={**form.fields, "password": f"guess {n}"})
                for n in range(12)
            )
        )
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [400] * 3 + [429] * 9  # the limit: three judged, the rest refused unjudged


@pytest.mark.parametrize("settings_overrides", [{"limit_name_failures": "3/15minutes"}])
async def test_guessing_the_address_behind_a_hint_is_limited(
    browser: PageClient, sink: Sink, emma_two_step: Any
) -> None:
    page = await to_options(browser)
    page = await browser.submit(
        page, "choose_option", option=option_value(page, "em*****@example.com")
    )
    statuses = [
        (await browser.submit(page, "confirm_address", address=f"emma{n}@example.com")).status
        for n in range(4)
    ]
    assert statuses == [400, 400, 400, 429]


async def test_a_device_cookie_seen_before_sign_in_is_worthless_after(
    app: FastAPI, browser: PageClient, emma: Any
) -> None:
    page = await to_password(browser)
    planted = list(browser.client.cookies.jar)  # what an attacker saw, or planted
    page = await browser.submit(page, "submit_password", password=PASSWORD)
    assert page.path == "/account"
    assert (
        dict(browser.client.cookies)["__Host-hn_device"]
        != {c.name: c.value for c in planted}["__Host-hn_device"]
    )

    async def account_page_with(cookies: list[Any]) -> httpx.Response:
        async with client_for(app, ip="203.0.113.9") as attacker:
            for cookie in cookies:
                attacker.cookies.jar.set_cookie(cookie)
            return await attacker.get("/account")

    response = await account_page_with(planted)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    # the same copying of the cookies as they are now does carry the sign-in
    assert (await account_page_with(list(browser.client.cookies.jar))).status_code == 200


async def test_a_sign_up_flow_is_not_served_as_a_sign_in_page(browser: PageClient) -> None:
    page = await browser.get("/signup")
    other = await browser.get(page.path.replace("/signup/", "/signin/"))
    assert other.status == 404


async def test_codes_belong_to_their_flow(
    app: FastAPI, sink: Sink, emma: Any, runtime: Runtime
) -> None:
    """A stranger's sign-in for the same name neither supersedes nor cools down yours."""
    async with client_for(app) as mine, client_for(app, ip="203.0.113.5") as theirs:
        me, stranger = PageClient(mine), PageClient(theirs)
        my_page = await me.submit(await to_password(me), "send_code")
        my_code = await sink.wait_for_code(EMMA)
        their_page = await stranger.submit(await to_password(stranger), "send_code")
        assert their_page.status == 200  # no cooldown shared with my flow
        await sink.wait_for(EMMA, count=2)
        page = await me.submit(my_page, "submit_code", code=my_code)
    assert page.path == "/account"


async def test_the_api_verifies_identity_and_signs_out(
    api: httpx.AsyncClient, sink: Sink, emma_two_step: Any
) -> None:
    created = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{created['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    flow = (await api.post(url, json={"action": "submit_password", "password": PASSWORD})).json()
    assert flow["state"] == "verify_options"
    backup = next(o for o in flow["options"] if o["hint"] == "em*****@example.org")
    await api.post(url, json={"action": "choose_option", "option": backup["id"]})
    flow = (await api.post(url, json={"action": "confirm_address", "address": BACKUP})).json()
    assert flow["state"] == "verify_code"
    code = await sink.wait_for_code(BACKUP, count=2)
    done = (await api.post(url, json={"action": "submit_code", "code": code})).json()
    token = done["session_token"]
    assert token

    headers = {"X-Session-Token": token}
    me = await api.get("/api/v1/sessions/current", headers=headers)
    assert me.status_code == 200
    assert me.json()["name"] == EMMA
    assert me.json()["method"] == "password+code"
    assert (await api.delete("/api/v1/sessions/current", headers=headers)).status_code == 204
    gone = await api.get("/api/v1/sessions/current", headers=headers)
    assert gone.status_code == 401
    assert gone.json()["error"] == "no_session"
