"""The security info of a signed-in account through `/api/v1/flows` (`kind: settings`): adding
and removing ways, verifying who you are first, the scheduled removal of the last way, its
cancellation by the link of its notice, and the audit log — notices read from the real SMTP
server."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from honnin.audit.service import for_account
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.pages import PageClient
from tests.support.settings import (
    EMMA,
    PASSWORD,
    WORK,
    SettingsFlow,
    add_work,
    nth_code,
    sign_in,
    text_with,
    titled,
)
from tests.support.smtp import Sink


async def test_a_fresh_session_sees_its_security_info_in_full(flow_of_emma: SettingsFlow) -> None:
    flow = await flow_of_emma.start()
    assert flow["state"] == "overview"
    security = flow["security"]
    assert security["fresh"] is True
    assert [w["hint"] for w in security["ways"]] == [EMMA]
    assert security["ways"][0]["verified_at"] is not None
    assert security["names"] == [{"kind": "email", "hint": EMMA}]
    assert security["pending"] == []
    assert set(flow["actions"]) == {
        "add_proof",
        "remove_proof",
        "cancel_change",
        "verify",
        "change_password",
        "two_step_on",
        "two_step_off",
        "new_recovery_code",
        "sign_out_session",
        "sign_out_others",
        "set_time_zone",
        "close_account",
        "add_app",
        "remove_app",
        "add_passkey",
        "remove_passkey",
    }


async def test_adding_an_address_counts_once_its_code_comes_back_and_every_way_is_told(
    flow_of_emma: SettingsFlow, sink: Sink, runtime: Runtime, emma: Any
) -> None:
    await flow_of_emma.start()
    flow = await add_work(flow_of_emma, sink)
    assert flow["state"] == "overview"
    assert flow["notice"] == "added"
    assert [w["hint"] for w in flow["security"]["ways"]] == [EMMA, WORK]
    assert all(w["verified_at"] for w in flow["security"]["ways"])
    for address in (EMMA, WORK):  # the new address hears of it too
        notice = await titled(sink, address, "Security info was added to your Example account")
        assert "em*****@work.example was added" in notice.text
    async with runtime.db.transaction(write=False) as tx:
        log = await for_account(tx, emma.id)
    assert [(e.action, e.detail["hint"]) for e in log] == [("proof_added", "em*****@work.example")]
    assert log[0].agent == "API: Example shop"


async def test_a_code_that_never_came_back_leaves_nothing(
    flow_of_emma: SettingsFlow, sink: Sink, runtime: Runtime
) -> None:
    await flow_of_emma.start()
    await flow_of_emma.act("add_proof", address=WORK)
    wrong = await flow_of_emma.act("submit_code", status=400, code="000000")
    assert wrong["error"] == "invalid_code"
    flow = await flow_of_emma.act("back")
    assert flow["state"] == "overview"
    assert [w["hint"] for w in flow["security"]["ways"]] == [EMMA]
    assert len(sink.to(EMMA)) == 0  # nothing was added: nothing to tell


async def test_removing_a_way_needs_a_verification_by_another_way(
    flow_of_emma: SettingsFlow, sink: Sink, clock: ShiftableClock
) -> None:
    await flow_of_emma.start()
    flow = await add_work(flow_of_emma, sink)
    clock.advance(seconds=601)  # the sign-in is no longer fresh
    flow = await flow_of_emma.act("verify")  # to see the ways' ids (and the addresses) again
    assert flow["state"] == "verify_options"
    work = next(w for w in flow["security"]["ways"] if w["hint"] == "em*****@work.example")
    flow = await flow_of_emma.act("back")
    clock.advance(seconds=1)

    flow = await flow_of_emma.act("remove_proof", proof=work["id"])
    assert flow["state"] == "verify_options"
    assert flow["security"]["intent"] == {
        "change": "remove_proof",
        "hint": "em*****@work.example",
        "last": False,
    }
    assert [o["hint"] for o in flow["options"]] == ["em*****@example.com"]  # not the removed one
    assert "submit_password" in flow["actions"]
    flow = await flow_of_emma.act("choose_option", option=flow["options"][0]["id"])
    assert flow["state"] == "verify_code"
    flow = await flow_of_emma.act("submit_code", code=await nth_code(sink, EMMA, 1))
    assert flow["state"] == "confirm_remove"
    flow = await flow_of_emma.act("confirm")
    assert flow["notice"] == "removed"
    assert [w["hint"] for w in flow["security"]["ways"]] == [EMMA]
    await titled(sink, WORK, "Security info was removed from your Example account")


async def test_a_password_verification_counts_as_another_way(
    flow_of_emma: SettingsFlow, sink: Sink, clock: ShiftableClock
) -> None:
    await flow_of_emma.start()
    flow = await add_work(flow_of_emma, sink)
    work = flow["security"]["ways"][1]["id"]
    clock.advance(seconds=601)
    await flow_of_emma.act("remove_proof", proof=work)
    wrong = await flow_of_emma.act("submit_password", status=400, password="not it")
    assert wrong["error"] == "invalid_credentials"
    flow = await flow_of_emma.act("submit_password", password=PASSWORD)
    assert flow["state"] == "confirm_remove"


async def test_removing_the_last_way_is_scheduled_and_its_notice_can_cancel_it(
    flow_of_emma: SettingsFlow,
    sink: Sink,
    runtime: Runtime,
    browser: PageClient,
    clock: ShiftableClock,
) -> None:
    flow = await flow_of_emma.start()
    email = flow["security"]["ways"][0]["id"]
    flow = await flow_of_emma.act("remove_proof", proof=email)
    assert flow["state"] == "confirm_remove"  # signed in with the password just now
    flow = await flow_of_emma.act("confirm")
    assert flow["notice"] == "removal_scheduled"
    (pending,) = flow["security"]["pending"]
    assert pending["hint"] == EMMA  # fresh: in full, as the way it removes
    assert flow["security"]["ways"][0]["removal_due_at"] == pending["due_at"]
    refused = await flow_of_emma.act("add_proof", status=409, address=WORK)
    assert refused["error"] == "change_pending"

    notice = await titled(sink, EMMA, "Security info will be removed from your Example account")
    link = re.search(r"http://\S+/account/changes/\S+", notice.text)
    assert link is not None
    assert "token=" in link.group(0)
    message = (await runtime.messages.recent(limit=1))[0]
    assert "token" not in repr(message)  # sealed, and erased once sent

    clock.advance(days=29)
    assert await runtime.jobs.run_due("test") == 0  # not yet
    path = link.group(0).removeprefix(runtime.settings.base_url)
    page = await browser.get(path)  # opening the link cancels nothing (mail scanners open it)
    assert page.status == 200
    assert "em*****@example.com is to be removed" in page.text
    target = path.partition("?")[0]
    done = await browser.post(target, page)
    assert done.status == 200
    assert "The removal was canceled" in done.text
    again = await browser.post(target, page)
    assert again.status == 410
    forged = await browser.get(path.replace("token=", "token=x"))
    assert forged.status == 410

    clock.advance(days=2)
    assert await runtime.jobs.run_due("test") == 0  # cancelled: nothing to do
    # the old session has expired meanwhile
    again_in = SettingsFlow(flow_of_emma.api, await sign_in(flow_of_emma.api))
    flow = await again_in.start()
    assert flow["security"]["pending"] == []
    assert len(flow["security"]["ways"]) == 1


async def test_a_scheduled_removal_happens_when_the_wait_ends(
    flow_of_emma: SettingsFlow, sink: Sink, runtime: Runtime, clock: ShiftableClock, emma: Any
) -> None:
    flow = await flow_of_emma.start()
    await flow_of_emma.act("remove_proof", proof=flow["security"]["ways"][0]["id"])
    await flow_of_emma.act("confirm")
    await sink.wait_for(EMMA)
    clock.advance(days=30, seconds=1)
    assert await runtime.jobs.run_due("test") == 1
    assert await runtime.jobs.run_due("test") == 0  # done once
    final = await titled(sink, EMMA, "Security info was removed from your Example account")
    assert "was removed from the security info" in final.text
    async with runtime.db.transaction(write=False) as tx:
        log = [e.action for e in await for_account(tx, emma.id)]
    assert log == ["proof_removed", "removal_scheduled"]
    assert (await runtime.accounts.show(EMMA)).proofs == []


async def test_a_settings_flow_belongs_to_its_session(
    api: httpx.AsyncClient, flow_of_emma: SettingsFlow, emma: Any, runtime: Runtime
) -> None:
    await flow_of_emma.start()
    anonymous = await api.post("/api/v1/flows", json={"kind": "settings"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "not_signed_in"
    await runtime.accounts.create("olivia@example.com", PASSWORD, email_verified=True)
    olivia = await sign_in(api, "olivia@example.com")
    other = await api.get(flow_of_emma.url, headers={"X-Session-Token": olivia})
    assert other.status_code == 404
    await api.delete("/api/v1/sessions/current", headers=flow_of_emma.headers)
    after = await api.get(flow_of_emma.url, headers=flow_of_emma.headers)
    assert after.status_code == 401  # the token itself is gone


PHONE_INBOX = "819012345678@sms.honnin.localhost"  # the dev mailbox's copy of its texts


@pytest.mark.parametrize("settings_overrides", [{"dev": True}])
async def test_a_phone_is_added_by_text_and_hears_of_changes_by_text(
    flow_of_emma: SettingsFlow, sink: Sink
) -> None:
    await flow_of_emma.start()
    flow = await flow_of_emma.act("add_proof", address="090-1234-5678", sign_in=True)
    assert flow["state"] == "add_code"
    assert flow["code"]["channel"] == "sms"
    flow = await flow_of_emma.act("submit_code", code=await nth_code(sink, PHONE_INBOX, 1))
    assert flow["notice"] == "added"
    assert [n["hint"] for n in flow["security"]["names"]] == [EMMA, "090-1234-5678"]
    assert [w["kind"] for w in flow["security"]["ways"]] == ["email", "phone"]
    texted = await text_with(sink, PHONE_INBOX, "******78 was added")
    assert texted.strip().endswith("Not you? Check your account.")

    email = flow["security"]["ways"][0]["id"]
    flow = await flow_of_emma.act("remove_proof", proof=email)
    assert flow["state"] == "confirm_remove"  # verified by the password, a way of its own
    flow = await flow_of_emma.act("confirm")
    assert flow["notice"] == "removed"  # the phone is left: not the last way
    await text_with(sink, PHONE_INBOX, "em*****@example.com was removed")
