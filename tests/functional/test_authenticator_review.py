"""What a review of authenticator apps and passkeys found, pinned: a password reset whose
second step is an app; app codes limited per account, not per flow or per name; a passkey's
sign-in that lands on a page naming the account; "this wasn't me" on a new browser's notice
takes away the passkeys added since; a session verified by an app cancels a recovery at once;
an answer nested past any sense is a 400; passkeys that cannot be used do not count."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
import pyotp
from fastapi import FastAPI

from honnin.authenticators import passkeys
from honnin.runtime import Runtime
from tests.support.apps import add_app
from tests.support.clock import ShiftableClock
from tests.support.journeys import EMMA, PASSWORD, client_for, to_password
from tests.support.pages import Page, PageClient
from tests.support.passkeys import SoftAuthenticator
from tests.support.recovery import RecoveryFlow
from tests.support.settings import SettingsFlow, titled
from tests.support.smtp import Sink

ORIGIN = "http://localhost:8000"


async def app_and_two_step(flow: SettingsFlow, clock: ShiftableClock) -> Any:
    await flow.start()
    app = await add_app(flow, clock)
    assert (await flow.act("two_step_on"))["state"] == "confirm_two_step"
    await flow.act("confirm")
    return app


async def test_a_reset_takes_the_app_as_its_second_step(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, clock: ShiftableClock, sink: Sink
) -> None:
    app = await app_and_two_step(flow_of_emma, clock)
    flow = (await api.post("/api/v1/flows", json={"kind": "password_reset"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    before = len(sink.with_codes(EMMA))
    await api.post(url, json={"action": "send_code", "way": "email_code"})
    code = await sink.wait_for_code(EMMA, before + 1)
    options = (await api.post(url, json={"action": "submit_code", "code": code})).json()
    [only] = options["options"]  # not the address the first code went to
    assert only["way"] == "totp"
    chosen = (await api.post(url, json={"action": "choose_option", "option": only["id"]})).json()
    assert chosen["state"] == "verify_app"
    done = (await api.post(url, json={"action": "submit_code", "code": app.code()})).json()
    assert done["state"] == "new_password", done
    assert done["session_token"] is None  # a reset signs nobody in
    new = "a brand new passphrase of mine"
    finished = await api.post(url, json={"action": "submit_new_password", "password": new})
    assert finished.json()["state"] == "done"


async def test_app_codes_are_limited_per_account_across_flows(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, clock: ShiftableClock, runtime: Runtime
) -> None:
    app = await app_and_two_step(flow_of_emma, clock)
    limit = runtime.flows.failures.items[0].amount  # HONNIN_LIMIT_NAME_FAILURES

    async def second_step() -> str:
        flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
        url = f"/api/v1/flows/{flow['id']}"
        await api.post(url, json={"action": "submit_identifier", "name": EMMA})
        options = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
        [option] = [o for o in options.json()["options"] if o["way"] == "totp"]
        await api.post(url, json={"action": "choose_option", "option": option["id"]})
        return url

    wrong = 0
    while wrong < limit:  # a few guesses per flow, in new flows: the account's limit binds
        url = await second_step()
        for _ in range(3):
            if wrong < limit:
                response = await api.post(url, json={"action": "submit_code", "code": "000000"})
                assert response.status_code == 400
                wrong += 1
    url = await second_step()
    blocked = await api.post(url, json={"action": "submit_code", "code": app.code()})
    assert blocked.status_code == 429


def options_on(page: Page) -> dict[str, Any]:
    found = re.search(r'data-options="([^"]+)"', page.html)
    assert found is not None, page.text
    return dict(json.loads(html.unescape(found.group(1))))


async def passkey_sign_in(browser: PageClient, key: SoftAuthenticator) -> Page:
    page = await browser.get("/signin")
    answer = key.get(options_on(page))
    return await browser.submit(page, "submit_passkey", credential=json.dumps(answer))


async def with_passkey(flow: SettingsFlow) -> SoftAuthenticator:
    key = SoftAuthenticator(ORIGIN)
    state = await flow.act("add_passkey", name="laptop")
    await flow.act("submit_passkey", credential=key.create(state["webauthn"]))
    return key


async def test_a_passkeys_sign_in_names_the_account_on_the_pages_that_follow(
    flow_of_emma: SettingsFlow, browser: PageClient
) -> None:
    await flow_of_emma.start()
    key = await with_passkey(flow_of_emma)
    assert (await flow_of_emma.act("close_account"))["state"] == "confirm_close"
    await flow_of_emma.act("confirm")
    page = await passkey_sign_in(browser, key)
    assert page.status == 200, page.text
    assert "Reopen your account?" in page.text
    assert EMMA in page.text


async def test_this_wasnt_me_takes_away_the_passkeys_added_since_that_sign_in(
    app: FastAPI, browser: PageClient, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    # someone with the password signs in from a new browser and adds a passkey there
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert page.path == "/account"
    page = await browser.get("/account/security")
    page = await browser.submit(page, "add_passkey", name="theirs")
    theirs = SoftAuthenticator(ORIGIN)
    answer = theirs.create(options_on(page))
    page = await browser.submit(page, "submit_passkey", credential=json.dumps(answer))
    assert "The passkey is added" in page.text
    # the owner reads the new browser's notice, and secures the account
    notice = await titled(sink, EMMA, "New sign-in to your Example account")
    link = re.search(r"http://\S+(/account/secure/\S+)", notice.text)
    assert link is not None
    async with client_for(app, ip="192.0.2.20") as owner_client:
        owner = PageClient(owner_client)
        page = await owner.get(link.group(1))
        page = await owner.post(link.group(1).split("?")[0], page)
        assert page.status == 200
        async with runtime.db.transaction(write=False) as tx:
            assert await passkeys.of_account(tx, emma.id) == []
        refused = await passkey_sign_in(owner, theirs)
        assert refused.status == 400


async def test_a_session_verified_by_an_app_cancels_a_recovery_at_once(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, clock: ShiftableClock, sink: Sink,
    runtime: Runtime,
) -> None:  # fmt: skip
    app = await app_and_two_step(flow_of_emma, clock)
    clock.advance(seconds=30)
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    options = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
    [option] = [o for o in options.json()["options"] if o["way"] == "totp"]
    await api.post(url, json={"action": "choose_option", "option": option["id"]})
    done = (await api.post(url, json={"action": "submit_code", "code": app.code()})).json()
    by_app = SettingsFlow(api, done["session_token"])
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    state = await by_app.start()
    assert state["security"]["recovery"]["can_cancel"] is True
    cancelled = await by_app.act("cancel_change", change=state["security"]["recovery"]["id"])
    assert cancelled["notice"] == "recovery_cancelled"


async def test_an_answer_nested_past_any_sense_is_refused_not_a_crash(
    browser: PageClient, api: httpx.AsyncClient, emma: Any
) -> None:
    page = await browser.get("/signin")
    deep = "[" * 5000 + "]" * 5000
    refused = await browser.submit(page, "submit_passkey", credential=deep)
    assert refused.status == 400
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    nested = '{"a":' * 3000 + "{}" + "}" * 3000
    response = await api.post(
        f"/api/v1/flows/{flow['id']}",
        content=f'{{"action": "submit_passkey", "credential": {nested}}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code < 500


async def test_this_wasnt_me_voids_a_recovery_code_made_since_that_sign_in(
    app: FastAPI, browser: PageClient, emma: Any, sink: Sink, runtime: Runtime,
    clock: ShiftableClock,
) -> None:  # fmt: skip
    # someone with the password signs in from a new browser, adds an app, turns two-step
    # verification on (the address and the app: two ways) and is shown a recovery code
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    page = await browser.submit(await browser.get("/account/security"), "add_app", name="x")
    key = re.search(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>', page.html)
    assert key is not None
    code = pyotp.TOTP(key.group(1).replace(" ", "")).at(clock.now())
    page = await browser.submit(page, "submit_code", code=code)
    page = await browser.submit(page, "two_step_on")
    page = await browser.submit(page, "confirm")
    assert "recovery code" in page.text.lower()
    async with runtime.db.transaction(write=False) as tx:
        before = await runtime.accounts.record(tx, emma.id)
    assert before is not None
    assert before.two_step
    notice = await titled(sink, EMMA, "New sign-in to your Example account")
    link = re.search(r"http://\S+(/account/secure/\S+)", notice.text)
    assert link is not None
    async with client_for(app, ip="192.0.2.20") as owner_client:
        owner = PageClient(owner_client)
        page = await owner.post(link.group(1).split("?")[0], await owner.get(link.group(1)))
    async with runtime.db.transaction(write=False) as tx:
        after = await runtime.accounts.record(tx, emma.id)
    assert after is not None
    assert after.recovery_code_digest is None  # theirs: it no longer works
    assert not after.two_step  # the app went: one way left
