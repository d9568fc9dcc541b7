"""Where an account is signed in (its security page), signing out elsewhere, a notice for a
browser that never signed in before, and the time zone notices use."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from fastapi import FastAPI

from honnin.runtime import Runtime
from tests.support.journeys import client_for, to_password
from tests.support.pages import PageClient
from tests.support.settings import EMMA, PASSWORD, SettingsFlow, sign_in, titled
from tests.support.smtp import Sink

NEW_SIGN_IN = "New sign-in to your Example account"


async def test_the_page_lists_the_sessions_and_signs_out_elsewhere(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient
) -> None:
    other = await sign_in(api)
    third = await sign_in(api)
    flow = await flow_of_emma.start()
    sessions = flow["security"]["sessions"]
    assert len(sessions) == 3
    assert [s["current"] for s in sessions] == [True, False, False]
    assert {s["agent"] for s in sessions} == {"API: Example shop"}
    flow = await flow_of_emma.act("sign_out_session", session=sessions[1]["id"])
    assert flow["notice"] == "signed_out"
    gone = await api.get("/api/v1/sessions/current", headers={"X-Session-Token": other})
    assert gone.status_code == 401
    refused = await flow_of_emma.act("sign_out_session", status=409, session=sessions[0]["id"])
    assert refused["error"] == "action_not_allowed"  # this one signs out as usual
    flow = await flow_of_emma.act("sign_out_others")
    assert [s["current"] for s in flow["security"]["sessions"]] == [True]
    gone = await api.get("/api/v1/sessions/current", headers={"X-Session-Token": third})
    assert gone.status_code == 401


async def test_a_browser_that_never_signed_in_before_is_told_of(
    browser: PageClient, another_browser: PageClient, api: httpx.AsyncClient, emma: Any, sink: Sink
) -> None:
    for who in (browser, browser, another_browser):
        page = await who.submit(await to_password(who), "submit_password", password=PASSWORD)
        assert page.path == "/account"
    await sign_in(api)  # an application's sign-in: no browser to tell of
    await asyncio.sleep(0.5)
    notices = [m for m in sink.to(EMMA) if m.message["Subject"] == NEW_SIGN_IN]
    assert len(notices) == 2  # each browser once
    assert "IP address 192.0.2.10" in notices[0].text


async def test_the_time_zone_comes_from_the_browser_at_sign_up_and_can_change(
    browser: PageClient, runtime: Runtime, sink: Sink
) -> None:
    browser.client.cookies.set("tz", "America/New_York")
    page = await browser.get("/signup")
    page = await browser.submit(page, "submit_details", email=EMMA, password=PASSWORD)
    page = await browser.submit(page, "submit_code", code=await sink.wait_for_code(EMMA))
    async with runtime.db.transaction(write=False) as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
    assert account is not None
    assert account.time_zone == "America/New_York"
    page = await browser.get("/account/security")
    assert "Notices we send give times in America/New_York." in page.text
    browser.client.cookies.set("tz", "Asia/Tokyo")
    page = await browser.submit(page, "set_time_zone")
    assert "Notices we send give times in Asia/Tokyo." in page.text
    browser.client.cookies.set("tz", "Mars/Olympus_Mons")
    page = await browser.submit(page, "set_time_zone")
    assert page.status == 422
    assert "isn't a time zone we know" in page.text


async def test_the_new_browser_notice_secures_the_account(
    browser: PageClient, another_browser: PageClient, api: httpx.AsyncClient, emma: Any, sink: Sink
) -> None:
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert page.path == "/account"
    notice = await titled(sink, EMMA, NEW_SIGN_IN)
    link = re.search(r"http://\S+(/account/secure/([0-9a-f-]+)\?token=(\w+))", notice.text)
    assert link is not None
    path, session_id, token = link.groups()
    wrong = await another_browser.get(f"/account/secure/{session_id}?token={'0' * len(token)}")
    assert wrong.status == 410
    link_page = await another_browser.get(path)  # the person reads it elsewhere: no sign-in
    assert "Secure your account" in link_page.text
    assert (await browser.get("/account")).path == "/account"  # opening it did nothing
    page = await another_browser.post(f"/account/secure/{session_id}", link_page)
    assert "Your account is secured" in page.text
    assert (await browser.get("/account")).path.startswith("/signin")  # signed out everywhere
    await titled(sink, EMMA, "Your Example account was secured")
    again = await another_browser.post(f"/account/secure/{session_id}", link_page)  # once
    assert again.status == 410
    # the password alone no longer signs in: a code to the account's security info too,
    # then a new password
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert "Verify your identity" in page.text
    option = page.form("choose_option").fields["option"]
    page = await browser.submit(page, "choose_option", option=option)
    codes = len(sink.with_codes(EMMA))
    page = await browser.submit(page, "confirm_address", address=EMMA)
    code = await sink.wait_for_code(EMMA, codes + 1)
    page = await browser.submit(page, "submit_code", code=code)
    assert "Choose a new password" in page.text


async def test_the_security_page_shows_recent_activity(
    flow_of_emma: SettingsFlow, browser: PageClient, emma: Any
) -> None:
    state = await flow_of_emma.start()
    await flow_of_emma.act("sign_out_others")
    await flow_of_emma.act("change_password")
    state = await flow_of_emma.act("submit_new_password", password="a brand new passphrase here")
    [line] = state["security"]["activity"]
    assert (line["action"], line["hint"], line["agent"]) == (
        "password_changed",
        "",
        "API: Example shop",
    )
    page = await browser.submit(
        await to_password(browser), "submit_password", password="a brand new passphrase here"
    )
    page = await browser.get("/account/security")
    assert "Recent activity" in page.text
    assert "Your password was changed" in page.text
    assert "A browser signed in for the first time" in page.text


async def test_where_it_is_signed_in_says_the_country_of_the_address(
    app: FastAPI, api: httpx.AsyncClient, emma: Any, sink: Sink
) -> None:
    async with client_for(app, ip="1.0.16.1") as client:  # registered in Japan (APNIC)
        tokyo = PageClient(client)
        page = await tokyo.submit(await to_password(tokyo), "submit_password", password=PASSWORD)
        page = await tokyo.get("/account/security")
        assert "IP address 1.0.16.1 · Japan" in page.text
    notice = await titled(sink, EMMA, NEW_SIGN_IN)
    assert "IP address 1.0.16.1 (Japan)" in notice.text
    state = await SettingsFlow(api, await sign_in(api)).start()
    assert [s["country"] for s in state["security"]["sessions"]] == ["JP", None]
