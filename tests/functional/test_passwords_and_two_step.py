"""Changing the password and turning two-step verification on and off from the security info
(the `settings` flow, through the JSON API), and signing in with the recovery code."""

from __future__ import annotations

import re
from typing import Any

import httpx

from honnin.audit.service import for_account
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.settings import (
    EMMA,
    PASSWORD,
    WORK,
    SettingsFlow,
    add_work,
    sign_in,
    titled,
)
from tests.support.smtp import Sink

NEW_PASSWORD = "a brand new passphrase of mine"
RECOVERY = re.compile(r"^([2-9A-Z]{5}-){4}[2-9A-Z]{5}$")


async def test_a_new_password_signs_out_everywhere_else_and_is_told(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, sink: Sink, runtime: Runtime, emma: Any
) -> None:
    elsewhere = await sign_in(api)
    await flow_of_emma.start()
    flow = await flow_of_emma.act("change_password")
    assert flow["state"] == "new_password"  # signed in just now: fresh
    weak = await flow_of_emma.act("submit_new_password", status=422, password="password123")
    assert weak["error"] == "weak_password"
    flow = await flow_of_emma.act("submit_new_password", password=NEW_PASSWORD)
    assert flow["notice"] == "password_changed"
    gone = await api.get("/api/v1/sessions/current", headers={"X-Session-Token": elsewhere})
    assert gone.status_code == 401
    kept = await api.get("/api/v1/sessions/current", headers=flow_of_emma.headers)
    assert kept.status_code == 200
    await titled(sink, EMMA, "The password of your Example account was changed")
    refused = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{refused['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    old = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
    assert old.status_code == 400
    new = await api.post(url, json={"action": "submit_password", "password": NEW_PASSWORD})
    assert new.json()["state"] == "done"
    async with runtime.db.transaction(write=False) as tx:
        assert [e.action for e in await for_account(tx, emma.id)] == ["password_changed"]


async def test_changing_the_password_needs_a_fresh_verification(
    flow_of_emma: SettingsFlow, clock: ShiftableClock
) -> None:
    await flow_of_emma.start()
    clock.advance(seconds=601)
    flow = await flow_of_emma.act("change_password")
    assert flow["state"] == "verify_options"
    refused = await flow_of_emma.act("submit_new_password", status=409, password=NEW_PASSWORD)
    assert refused["error"] == "action_not_allowed"
    flow = await flow_of_emma.act("submit_password", password=PASSWORD)
    assert flow["state"] == "new_password"


async def two_step_on(flow: SettingsFlow, sink: Sink) -> str:
    await flow.start()
    await add_work(flow, sink)
    state = await flow.act("two_step_on")
    assert state["state"] == "confirm_two_step"
    done = await flow.act("confirm")
    assert done["notice"] == "two_step_on"
    assert done["security"]["two_step"] is True
    code = done["recovery_code"]
    assert RECOVERY.match(code), code
    return str(code)


async def test_two_step_needs_two_ways_and_gives_a_recovery_code_once(
    flow_of_emma: SettingsFlow, sink: Sink, runtime: Runtime
) -> None:
    await flow_of_emma.start()
    refused = await flow_of_emma.act("two_step_on", status=409)
    assert refused["error"] == "two_ways_needed"
    code = await two_step_on(flow_of_emma, sink)
    again = await flow_of_emma.api.get(flow_of_emma.url, headers=flow_of_emma.headers)
    assert again.json()["recovery_code"] is None  # shown once
    for address in (EMMA, WORK):
        await titled(sink, address, "Two-step verification is on for your Example account")
    account = await runtime.accounts.show(EMMA)
    assert account.two_step
    async with runtime.db.transaction(write=False) as tx:
        record = await runtime.accounts.record(tx, account.id)
    assert record is not None
    assert record.recovery_code_digest is not None
    assert code.replace("-", "").encode() not in record.recovery_code_digest  # a digest


async def test_the_recovery_code_signs_in_once_instead_of_the_second_step(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, sink: Sink
) -> None:
    code = await two_step_on(flow_of_emma, sink)

    async def at_second_step() -> str:
        flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
        url = f"/api/v1/flows/{flow['id']}"
        await api.post(url, json={"action": "submit_identifier", "name": EMMA})
        second = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
        assert second.json()["state"] == "verify_options"
        assert "use_recovery_code" in second.json()["actions"]
        return url

    url = await at_second_step()
    wrong = await api.post(url, json={"action": "use_recovery_code", "recovery_code": "X" * 25})
    assert wrong.status_code == 400
    typed = code.lower().replace("-", " ")  # as someone might type it
    done = await api.post(url, json={"action": "use_recovery_code", "recovery_code": typed})
    body = done.json()
    assert body["state"] == "done"
    assert body["session_token"]
    assert RECOVERY.match(body["recovery_code"])
    assert body["recovery_code"] != code
    await titled(sink, EMMA, "Your Example recovery code was used")

    url = await at_second_step()
    used = await api.post(url, json={"action": "use_recovery_code", "recovery_code": code})
    assert used.status_code == 400  # used once: gone
    fresh = body["recovery_code"]
    assert (
        await api.post(url, json={"action": "use_recovery_code", "recovery_code": fresh})
    ).json()["state"] == "done"


async def test_turning_two_step_off_says_the_risk_and_tells_every_way(
    flow_of_emma: SettingsFlow, sink: Sink, clock: ShiftableClock, runtime: Runtime
) -> None:
    await two_step_on(flow_of_emma, sink)
    clock.advance(seconds=601)
    flow = await flow_of_emma.act("two_step_off")
    assert flow["state"] == "verify_options"
    flow = await flow_of_emma.act("submit_password", password=PASSWORD)
    assert flow["state"] == "confirm_two_step"
    assert flow["security"]["intent"]["change"] == "two_step_off"
    flow = await flow_of_emma.act("confirm")
    assert flow["security"]["two_step"] is False
    for address in (EMMA, WORK):
        await titled(sink, address, "Two-step verification is off for your Example account")
    assert not (await runtime.accounts.show(EMMA)).two_step


async def test_a_new_recovery_code_replaces_the_old_one(
    flow_of_emma: SettingsFlow, sink: Sink
) -> None:
    old = await two_step_on(flow_of_emma, sink)
    flow = await flow_of_emma.act("new_recovery_code")
    new = flow["recovery_code"]
    assert RECOVERY.match(new)
    assert new != old
