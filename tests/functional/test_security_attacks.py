"""Attacks on the security info: what a thief with a session (or two tabs) must not get."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import delete

from honnin.audit.service import Origin
from honnin.proofs.models import Proof
from honnin.runtime import Runtime
from honnin.security.errors import NotYours
from tests.support.clock import ShiftableClock
from tests.support.settings import (
    EMMA,
    PASSWORD,
    WORK,
    SettingsFlow,
    add_work,
    nth_code,
    sign_in,
)
from tests.support.smtp import Sink


async def test_removing_the_last_two_ways_at_once_removes_one_and_schedules_the_other(
    flow_of_emma: SettingsFlow, sink: Sink, api: httpx.AsyncClient, runtime: Runtime
) -> None:
    flow = await flow_of_emma.start()
    flow = await add_work(flow_of_emma, sink)
    first, second = (w["id"] for w in flow["security"]["ways"])
    other_tab = SettingsFlow(api, flow_of_emma.headers["X-Session-Token"])
    await other_tab.start()
    assert (await flow_of_emma.act("remove_proof", proof=first))["state"] == "confirm_remove"
    assert (await other_tab.act("remove_proof", proof=second))["state"] == "confirm_remove"
    done = await asyncio.gather(flow_of_emma.act("confirm"), other_tab.act("confirm"))
    assert sorted(d["notice"] for d in done) == ["removal_scheduled", "removed"]
    ways = (await runtime.accounts.show(EMMA)).proofs
    assert len(ways) == 1  # the last one stays until the wait is over


async def test_a_stale_session_cannot_skip_verifying(
    flow_of_emma: SettingsFlow, sink: Sink, clock: ShiftableClock
) -> None:
    flow = await flow_of_emma.start()
    email = flow["security"]["ways"][0]["id"]
    clock.advance(seconds=601)
    flow = await flow_of_emma.act("remove_proof", proof=email)
    assert flow["state"] == "verify_options"
    refused = await flow_of_emma.act("confirm", status=409)
    assert refused["error"] == "action_not_allowed"
    back = await flow_of_emma.act("back")
    flow = await flow_of_emma.act("add_proof", address=WORK)
    assert flow["state"] == "verify_options"  # adding needs it too: a thief's own address
    assert sink.to(WORK) == []
    assert back["security"]["fresh"] is False
    assert back["security"]["ways"][0]["hint"] == "em*****@example.com"  # masked


async def test_a_confirm_page_left_open_too_long_asks_again(
    flow_of_emma: SettingsFlow, sink: Sink, clock: ShiftableClock, runtime: Runtime
) -> None:
    flow = await flow_of_emma.start()
    flow = await flow_of_emma.act("remove_proof", proof=flow["security"]["ways"][0]["id"])
    assert flow["state"] == "confirm_remove"
    clock.advance(seconds=601)
    flow = await flow_of_emma.act("confirm")
    assert flow["state"] == "verify_options"
    async with runtime.db.transaction(write=False) as tx:
        assert await runtime.jobs.pending(tx) == []


async def test_a_code_to_the_address_removed_does_not_count_as_another_way(
    api: httpx.AsyncClient, emma: Any, sink: Sink
) -> None:
    """Signed in with a code to X, removing X needs the password or another address."""
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    await api.post(url, json={"action": "send_code", "way": "email_code"})
    code = await nth_code(sink, EMMA, 1)
    done = (await api.post(url, json={"action": "submit_code", "code": code})).json()
    settings = SettingsFlow(api, done["session_token"])
    await settings.start()
    flow = await add_work(settings, sink)
    email = flow["security"]["ways"][0]["id"]
    flow = await settings.act("remove_proof", proof=email)
    assert flow["state"] == "verify_options"
    assert [o["hint"] for o in flow["options"]] == ["em*****@work.example"]
    flow = await settings.act("submit_password", password=PASSWORD)
    assert flow["state"] == "confirm_remove"


async def test_a_cancel_link_works_only_with_its_own_token(
    flow_of_emma: SettingsFlow, runtime: Runtime, api: httpx.AsyncClient
) -> None:
    flow = await flow_of_emma.start()
    await flow_of_emma.act("remove_proof", proof=flow["security"]["ways"][0]["id"])
    flow = await flow_of_emma.act("confirm")
    (change,) = flow["security"]["pending"]
    for token in ("", "x" * 43, "guess"):
        try:
            await runtime.security.cancel_by_link(change["id"], token, Origin())
        except NotYours:
            continue
        raise AssertionError(f"cancelled with {token!r}")
    async with runtime.db.transaction(write=False) as tx:
        assert len(await runtime.jobs.pending(tx)) == 1
    await sign_in(api)  # the account is still usable meanwhile


async def second_step(api: httpx.AsyncClient) -> str:
    """A sign-in of Emma (two-step on) at "verify your identity", after her password."""
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    second = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
    assert second.json()["state"] == "verify_options", second.text
    return url


async def turned_on(flow: SettingsFlow, sink: Sink) -> str:
    await flow.start()
    await add_work(flow, sink)
    await flow.act("two_step_on")
    return str((await flow.act("confirm"))["recovery_code"])


async def test_a_recovery_code_signs_in_once_even_twice_at_once(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, sink: Sink
) -> None:
    code = await turned_on(flow_of_emma, sink)
    first, second = await second_step(api), await second_step(api)
    both = await asyncio.gather(
        *(
            api.post(url, json={"action": "use_recovery_code", "recovery_code": code})
            for url in (first, second)
        )
    )
    assert sorted(r.status_code for r in both) == [200, 400]


async def test_with_two_step_on_a_way_it_needs_is_not_removed(
    flow_of_emma: SettingsFlow, sink: Sink
) -> None:
    await turned_on(flow_of_emma, sink)
    flow = await flow_of_emma.act("verify")
    flow = await flow_of_emma.act("submit_password", password=PASSWORD)
    work = flow["security"]["ways"][1]["id"]
    refused = await flow_of_emma.act("remove_proof", status=409, proof=work)
    assert refused["error"] == "two_step_needs_two"  # said before anything else is asked


async def test_a_recovery_code_is_the_way_in_when_no_way_is_left(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, sink: Sink, runtime: Runtime, emma: Any
) -> None:
    """Ways lost (deleted by support, or no channel reaches them any more): the password and
    the recovery code still sign in; the password alone never does."""
    code = await turned_on(flow_of_emma, sink)
    async with runtime.db.transaction() as tx:
        await tx.session.execute(delete(Proof).where(Proof.account_id == emma.id))
    url = await second_step(api)
    flow = (await api.get(url)).json()
    assert flow["options"] == []
    assert "use_recovery_code" in flow["actions"]
    done = await api.post(url, json={"action": "use_recovery_code", "recovery_code": code})
    assert done.json()["state"] == "done"


async def test_an_address_verified_after_a_removal_was_scheduled_does_not_count(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, sink: Sink
) -> None:
    """One change at a time, even across tabs: the add waits its turn."""
    flow = await flow_of_emma.start()
    await flow_of_emma.act("add_proof", address=WORK)  # its code is on its way
    other_tab = SettingsFlow(api, flow_of_emma.headers["X-Session-Token"])
    await other_tab.start()
    await other_tab.act("remove_proof", proof=flow["security"]["ways"][0]["id"])
    assert (await other_tab.act("confirm"))["notice"] == "removal_scheduled"
    refused = await flow_of_emma.act("submit_code", status=409, code=await nth_code(sink, WORK, 1))
    assert refused["error"] == "change_pending"
