"""Authenticator apps through the JSON API: added from the security info (the first code makes
one count), used as the second step and to verify who you are, never accepting a code twice,
wrong codes counted like sent ones, removed like any other way; the secret sealed at rest.
Codes are computed by `pyotp`, as the person's app would."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from honnin.audit.service import for_account
from honnin.authenticators.models import AuthenticatorApp
from honnin.runtime import Runtime
from tests.support.apps import PhoneApp, add_app
from tests.support.clock import ShiftableClock
from tests.support.recovery import RecoveryFlow
from tests.support.settings import EMMA, PASSWORD, SettingsFlow, titled
from tests.support.smtp import Sink


async def stored_apps(runtime: Runtime) -> list[AuthenticatorApp]:
    async with runtime.db.transaction(write=False) as tx:
        return list(await tx.session.scalars(select(AuthenticatorApp)))


async def test_an_app_counts_once_its_first_code_comes_back(
    flow_of_emma: SettingsFlow, clock: ShiftableClock, sink: Sink, runtime: Runtime, emma: Any
) -> None:
    await flow_of_emma.start()
    state = await flow_of_emma.act("add_app", name="  work   phone ")
    setup = state["app_setup"]
    assert setup["name"] == "work phone"
    groups = setup["secret"].split(" ")
    assert len(groups) == 8
    assert all(len(g) == 4 for g in groups)
    secret = "".join(groups)
    assert setup["uri"].startswith("otpauth://totp/Example:emma%40example.com?secret=" + secret)
    assert "issuer=Example" in setup["uri"]
    assert setup["qr_svg"].startswith("<svg")
    assert state["security"]["apps"] == []  # not yet: its first code has not come back
    app = PhoneApp(secret, clock)

    wrong = await flow_of_emma.act("submit_code", status=400, code="000000")
    assert wrong["error"] == "invalid_code"
    assert wrong["flow"]["state"] == "add_app"
    done = await flow_of_emma.act("submit_code", code=app.code())
    assert done["notice"] == "app_added"
    assert done["app_setup"] is None  # the secret is never shown again
    [listed] = done["security"]["apps"]
    assert listed["name"] == "work phone"
    assert listed["verified_at"] is not None
    again = await flow_of_emma.api.get(flow_of_emma.url, headers=flow_of_emma.headers)
    assert secret not in again.text
    mail = await titled(sink, EMMA, "An authenticator app was added to your Example account")
    assert "“work phone”" in mail.text
    async with runtime.db.transaction(write=False) as tx:
        assert [e.action for e in await for_account(tx, emma.id)] == ["app_added"]
    [row] = await stored_apps(runtime)
    assert secret.encode() not in row.secret_sealed  # sealed, not in clear
    assert row.last_step is not None


async def test_an_app_needs_a_name_of_its_own(
    flow_of_emma: SettingsFlow, clock: ShiftableClock
) -> None:
    await flow_of_emma.start()
    unnamed = await flow_of_emma.act("add_app", status=422, name="   ")
    assert unnamed["error"] == "invalid_request"
    assert "name" in unnamed["message"]
    await add_app(flow_of_emma, clock, "Phone")
    same = await flow_of_emma.act("add_app", status=409, name="phone")
    assert same["error"] == "conflict"


async def test_going_back_forgets_the_setup(flow_of_emma: SettingsFlow, runtime: Runtime) -> None:
    await flow_of_emma.start()
    await flow_of_emma.act("add_app", name="phone")
    assert len(await stored_apps(runtime)) == 1
    back = await flow_of_emma.act("back")
    assert back["state"] == "overview"
    assert await stored_apps(runtime) == []


async def with_app_and_two_step(flow: SettingsFlow, clock: ShiftableClock) -> PhoneApp:
    """Emma's address and an app: two ways, so two-step verification can be on."""
    await flow.start()
    app = await add_app(flow, clock)
    assert (await flow.act("two_step_on"))["state"] == "confirm_two_step"
    assert (await flow.act("confirm"))["security"]["two_step"] is True
    return app


async def second_step(api: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    options = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
    [app_option] = [o for o in options.json()["options"] if o["way"] == "totp"]
    assert app_option["kind"] == "app"
    assert app_option["hint"] == "phone"
    chosen = await api.post(url, json={"action": "choose_option", "option": app_option["id"]})
    assert chosen.json()["state"] == "verify_app", chosen.text
    return url, chosen.json()


async def test_the_app_is_the_second_step_and_a_code_works_once(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, clock: ShiftableClock, sink: Sink
) -> None:
    app = await with_app_and_two_step(flow_of_emma, clock)
    url, _ = await second_step(api)
    assert len(sink.to(EMMA)) == 2  # the two notices: nothing was sent for the sign-in
    wrong = await api.post(url, json={"action": "submit_code", "code": "123456"})
    assert wrong.json()["error"] == "invalid_code"
    code = app.code()
    done = await api.post(url, json={"action": "submit_code", "code": code})
    assert done.json()["state"] == "done", done.text
    token = done.json()["session_token"]
    session = await api.get("/api/v1/sessions/current", headers={"X-Session-Token": token})
    assert session.status_code == 200

    url, _ = await second_step(api)
    replayed = await api.post(url, json={"action": "submit_code", "code": code})
    assert replayed.status_code == 400  # the same code again: refused, even within its step
    earlier = await api.post(url, json={"action": "submit_code", "code": app.code(-1)})
    assert earlier.status_code == 400  # an older one too
    clock.advance(seconds=30)
    later = await api.post(url, json={"action": "submit_code", "code": app.code()})
    assert later.json()["state"] == "done"


async def test_wrong_app_codes_are_limited_like_sent_codes(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, clock: ShiftableClock, runtime: Runtime
) -> None:
    app = await with_app_and_two_step(flow_of_emma, clock)
    url, _ = await second_step(api)
    limit = runtime.flows.failures.items[0].amount  # HONNIN_LIMIT_NAME_FAILURES, per flow
    for _ in range(limit):
        wrong = await api.post(url, json={"action": "submit_code", "code": "000000"})
        assert wrong.status_code == 400
    blocked = await api.post(url, json={"action": "submit_code", "code": app.code()})
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "rate_limited"


async def test_the_app_verifies_who_you_are_and_is_removed_by_another_way(
    flow_of_emma: SettingsFlow, clock: ShiftableClock, sink: Sink
) -> None:
    await flow_of_emma.start()
    app = await add_app(flow_of_emma, clock)
    clock.advance(seconds=601)  # no longer fresh
    state = await flow_of_emma.act("verify")
    [option] = [o for o in state["options"] if o["way"] == "totp"]
    chosen = await flow_of_emma.act("choose_option", option=option["id"])
    assert chosen["state"] == "verify_app"
    verified = await flow_of_emma.act("submit_code", code=app.code())
    assert verified["notice"] == "verified"
    # verified by the app itself: removing it asks for another way
    app_id = verified["security"]["apps"][0]["id"]
    state = await flow_of_emma.act("remove_app", app=app_id)
    assert state["state"] == "verify_options"
    assert [o["way"] for o in state["options"]] == ["email_code"]
    assert state["security"]["intent"] == {"change": "remove_app", "hint": "phone", "last": False}
    state = await flow_of_emma.act("submit_password", password=PASSWORD)
    assert state["state"] == "confirm_remove"
    removed = await flow_of_emma.act("confirm")
    assert removed["notice"] == "app_removed"
    assert removed["security"]["apps"] == []
    await titled(sink, EMMA, "An authenticator app was removed from your Example account")


async def test_with_two_step_on_an_app_stays_while_it_is_one_of_two(
    flow_of_emma: SettingsFlow, clock: ShiftableClock
) -> None:
    await with_app_and_two_step(flow_of_emma, clock)
    state = await flow_of_emma.api.get(flow_of_emma.url, headers=flow_of_emma.headers)
    app_id = state.json()["security"]["apps"][0]["id"]
    refused = await flow_of_emma.act("remove_app", status=409, app=app_id)
    assert refused["error"] == "two_step_needs_two"


async def test_a_recovery_hides_the_apps_while_it_waits_and_replaces_them_at_its_end(
    flow_of_emma: SettingsFlow,
    api: httpx.AsyncClient,
    clock: ShiftableClock,
    sink: Sink,
    runtime: Runtime,
) -> None:
    await flow_of_emma.start()
    await add_app(flow_of_emma, clock)
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    waiting = await flow_of_emma.api.get(flow_of_emma.url, headers=flow_of_emma.headers)
    assert waiting.json()["security"]["apps"] == []  # the limited mode shows none of its info
    refused = await flow_of_emma.act("add_app", status=409, name="another")
    assert refused["error"] == "recovery_waiting"
    clock.advance(days=30, minutes=1)
    await runtime.jobs.run_due("test")
    assert await stored_apps(runtime) == []  # the new way replaced every old one
