"""Closing an account: closed at once, deleted when the wait ends with everything of it,
reopened by signing in meanwhile; and the operators' commands."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from honnin.accounts.models import Account, SignInName
from honnin.audit.models import AuditEvent
from honnin.audit.service import Origin
from honnin.proofs.models import Proof
from honnin.runtime import Runtime
from honnin.sessions.models import Session
from tests.support.clock import ShiftableClock
from tests.support.journeys import to_password
from tests.support.operators import Operator
from tests.support.pages import PageClient
from tests.support.recovery import RecoveryFlow
from tests.support.settings import EMMA, PASSWORD, SettingsFlow, sign_in, titled
from tests.support.smtp import Sink

CLOSED = "Your Example account was closed"


async def rows(runtime: Runtime) -> dict[str, int]:
    """How many rows each table about accounts holds."""
    async with runtime.db.transaction(write=False) as tx:
        return {
            model.__tablename__: int(
                await tx.session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (Account, SignInName, Proof, Session, AuditEvent)
        }


async def close(flow: SettingsFlow) -> dict[str, Any]:
    await flow.start()
    state = await flow.act("close_account")
    assert state["state"] == "confirm_close"  # fresh: no verification needed first
    state = await flow.act("confirm")
    assert state["state"] == "closed"
    return state


async def test_closing_signs_out_everywhere_and_deletes_everything_after_the_wait(
    api: httpx.AsyncClient,
    flow_of_emma: SettingsFlow,
    sink: Sink,
    runtime: Runtime,
    clock: ShiftableClock,
) -> None:
    elsewhere = await sign_in(api)
    state = await close(flow_of_emma)
    assert state["closing_at"]
    for token in (elsewhere, flow_of_emma.headers["X-Session-Token"]):
        gone = await api.get("/api/v1/sessions/current", headers={"X-Session-Token": token})
        assert gone.status_code == 401
    assert "Until then, signing in reopens it." in (await titled(sink, EMMA, CLOSED)).text
    clock.advance(days=29, hours=23)
    await runtime.jobs.run_due("test")
    assert (await rows(runtime))["accounts"] == 1
    clock.advance(hours=1)
    assert await runtime.jobs.run_due("test") == 1
    assert await rows(runtime) == {
        "accounts": 0, "sign_in_names": 0, "proofs": 0, "sessions": 0, "audit_events": 0,
    }  # fmt: skip
    last = await titled(sink, EMMA, "Your Example account was deleted")
    assert "This is the last message we send about it." in last.text
    # the name is free again, and signs nobody in
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    wrong = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
    assert wrong.json()["error"] == "invalid_credentials"


async def test_signing_in_offers_to_reopen_it(
    api: httpx.AsyncClient,
    flow_of_emma: SettingsFlow,
    sink: Sink,
    runtime: Runtime,
    clock: ShiftableClock,
) -> None:
    await close(flow_of_emma)
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    state = (await api.post(url, json={"action": "submit_password", "password": PASSWORD})).json()
    assert state["state"] == "reopen"
    assert state["closing_at"]
    assert state["session_token"] is None  # not signed in unless it is reopened
    state = (await api.post(url, json={"action": "reopen"})).json()
    assert state["state"] == "done"
    assert state["session_token"]
    await titled(sink, EMMA, "Your Example account was reopened")
    clock.advance(days=31)
    assert await runtime.jobs.run_due("test") == 0  # nothing left to delete
    assert (await rows(runtime))["accounts"] == 1
    async with runtime.db.transaction(write=False) as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
    assert account is not None
    assert account.status == "active"


async def test_closing_needs_a_fresh_verification_and_nothing_waiting(
    flow_of_emma: SettingsFlow, clock: ShiftableClock, sink: Sink
) -> None:
    await flow_of_emma.start()
    clock.advance(seconds=601)
    state = await flow_of_emma.act("close_account")
    assert state["state"] == "verify_options"
    state = await flow_of_emma.act("submit_password", password=PASSWORD)
    assert state["state"] == "confirm_close"
    state = await flow_of_emma.act("back")
    # the last way's removal waits: one change at a time
    state = await flow_of_emma.act("remove_proof", proof=state["security"]["ways"][0]["id"])
    state = await flow_of_emma.act("confirm")
    assert state["notice"] == "removal_scheduled"
    refused = await flow_of_emma.act("close_account", status=409)
    assert refused["error"] == "change_pending"


async def test_the_pages_close_and_reopen(browser: PageClient, emma: Any, sink: Sink) -> None:
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    page = await browser.get("/account/security")
    page = await browser.submit(page, "close_account")
    assert "Close your account?" in page.text
    page = await browser.submit(page, "confirm")
    assert "Your account is closed" in page.text
    assert (await browser.get("/account")).path.startswith("/signin/")  # signed out with it
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert "Reopen your account?" in page.text
    page = await browser.submit(page, "reopen")
    assert page.path == "/account"


async def test_operators_close_reopen_and_delete(
    operator: Operator, emma: Any, runtime: Runtime, sink: Sink
) -> None:
    code, out = await operator.run("accounts", "reopen", EMMA)
    assert (code, out.strip()) == (1, f"error: the account {EMMA} is not closed")
    code, out = await operator.run("accounts", "close", "Emma@Example.COM")
    assert code == 0, out  # found as `accounts show` finds it
    assert "it will be deleted on" in out
    code, out = await operator.run("accounts", "close", EMMA)
    assert code == 1
    assert "is closed already; deleted on" in out
    await titled(sink, EMMA, CLOSED)
    code, out = await operator.run("accounts", "show", EMMA)
    assert "closing" in out
    assert "close_account" in out
    code, out = await operator.run("accounts", "reopen", EMMA)
    assert (code, out.strip()) == (0, f"reopened the account {EMMA}")
    code, out = await operator.run("accounts", "close", EMMA, "--now")
    assert (code, out.strip()) == (0, f"deleted the account {EMMA} and everything of it")
    assert (await rows(runtime))["accounts"] == 0
    code, out = await operator.run("accounts", "close", EMMA)
    assert (code, out.strip()) == (1, f"error: No account has the sign-in name {EMMA}.")


async def test_the_recovery_code_on_a_closed_account_signs_in_where_it_reopens(
    api: httpx.AsyncClient, emma_two_step: Any, sink: Sink, runtime: Runtime
) -> None:
    async with runtime.db.transaction() as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
        assert account is not None
        code = await runtime.security.replace_recovery_code(tx, account, Origin(None, None))
        await runtime.closing.close(tx, account, None)
    flow = RecoveryFlow(api, runtime)
    await flow.to_confirm(sink, EMMA, password=PASSWORD)
    state = await flow.act("use_recovery_code", recovery_code=code)
    assert state["state"] == "reopen"  # still closed: the recovery did not reopen it
    state = await flow.act("reopen")
    assert state["state"] == "done"
    async with runtime.db.transaction(write=False) as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
        assert account is not None
        assert await runtime.closing.due_at(tx, account.id) is None
    assert account.status == "active"
