"""Recovery when every way in is lost: the wait, its notices and reminder, the limited mode,
"this wasn't me", the recovery code that skips the wait — and the attacks on each."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from honnin.audit.service import Origin, for_account
from honnin.destinations.kinds import mask
from honnin.jobs.models import Job, JobStatus
from honnin.proofs.service import verified_proofs
from honnin.runtime import Runtime
from honnin.security.service import RECOVER
from tests.support.clock import ShiftableClock
from tests.support.journeys import to_password
from tests.support.pages import PageClient
from tests.support.recovery import NEW, RecoveryFlow, cancel_link, requests_done
from tests.support.settings import EMMA, PASSWORD, SettingsFlow, sign_in, titled
from tests.support.smtp import Received, Sink

ASKED = "Someone asked to recover your Example account"
REQUEST = "Your Example account recovery request"
RECOVERED = "Your Example account was recovered"
CANCELLED = "The recovery of your Example account was canceled"
WAIT = timedelta(days=30)
NEW_PASSWORD = "a brand new passphrase of mine"


async def proofs_of(runtime: Runtime, name: str) -> list[str]:
    async with runtime.db.transaction(write=False) as tx:
        account = await runtime.accounts.record_named(tx, name)
        assert account is not None
        return [p.value for p in await verified_proofs(tx, account.id)]


async def recoveries(runtime: Runtime) -> int:
    async with runtime.db.transaction(write=False) as tx:
        count = await tx.session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.kind == RECOVER, Job.status == JobStatus.PENDING)
        )
        return int(count or 0)


def same_but_names(text: str, name: str, new: str) -> str:
    """A message's text without what differs from one asker to the next: the names, the
    times (a second apart), and the link's id."""
    text = text.replace(mask("email", name), "NAME").replace(mask("email", new), "NEW")
    return re.sub(r"\d{1,2}:\d{2}(:\d{2})?", "TIME", text)


async def starting(sink: Sink, address: str, prefix: str) -> Received:
    """The newest mail to `address` whose subject starts so (it ends with a date)."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        found = [m for m in sink.to(address) if m.message["Subject"].startswith(prefix)]
        if found:
            return found[-1]
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)


async def code_sign_in(api: httpx.AsyncClient, sink: Sink, name: str) -> dict[str, Any]:
    """Sign in by a code to `name` (its nth code: whatever came before)."""
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": name})
    before = len(sink.with_codes(name))
    await api.post(url, json={"action": "email_code"})
    code = await sink.wait_for_code(name, before + 1)
    return dict((await api.post(url, json={"action": "submit_code", "code": code})).json())


async def test_a_recovery_waits_then_replaces_every_way(
    api: httpx.AsyncClient, emma: Any, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    before = clock.now()
    old_session = await sign_in(api)
    started = await RecoveryFlow(api, runtime).start(sink, EMMA)
    due_at = datetime.fromisoformat(started["recovery"]["due_at"])
    assert before + WAIT <= due_at <= clock.now() + WAIT
    assert started["recovery"]["address"] == NEW
    assert started["actions"] == []
    # every way is told at once, with the link that cancels; the new one gets its own
    notice = await titled(sink, EMMA, ASKED)
    assert mask("email", NEW) in notice.text
    cancel_link(notice.text)
    request = await titled(sink, NEW, REQUEST)
    assert mask("email", EMMA) in request.text  # the name as typed, masked
    assert "/account/changes/" not in request.text  # the asker gets no link that cancels

    # meanwhile it signs in as before, and the waiting way never counts
    assert (await code_sign_in(api, sink, EMMA))["state"] == "done"
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": NEW})
    sent = (await api.post(url, json={"action": "email_code"})).json()
    assert sent["state"] == "code"  # a decoy: no account has this name yet
    await asyncio.sleep(0.3)
    assert len(sink.with_codes(NEW)) == 1  # the recovery's own code: the sign-in's is a decoy
    assert await proofs_of(runtime, EMMA) == [EMMA]

    # a reminder before the end (7 days before, by default)
    clock.advance(days=23, minutes=1)
    await runtime.jobs.run_due("test")
    reminder = await starting(sink, EMMA, "Your Example account's recovery ends on ")
    assert cancel_link(reminder.text) == cancel_link(notice.text)
    assert await proofs_of(runtime, EMMA) == [EMMA]

    clock.advance(days=7)
    await runtime.jobs.run_due("test")
    assert await proofs_of(runtime, EMMA) == [NEW]
    assert (
        f"Sign in with a code to {mask('email', NEW)}" in (await titled(sink, NEW, RECOVERED)).text
    )
    await titled(sink, EMMA, RECOVERED)  # the old ways hear of it too
    gone = await api.get("/api/v1/sessions/current", headers={"X-Session-Token": old_session})
    assert gone.status_code == 401
    done = await code_sign_in(api, sink, NEW)  # the new way is a sign-in name now
    assert done["state"] == "new_password"  # whoever knew the old password: not enough
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})  # an old name
    state = (await api.post(url, json={"action": "submit_password", "password": PASSWORD})).json()
    assert state["state"] == "verify_options"  # a code to the new way, then a new password
    assert [option["hint"] for option in state["options"]] == [mask("email", NEW)]
    async with runtime.db.transaction(write=False) as tx:
        account = await runtime.accounts.record_named(tx, NEW)
    assert account is not None
    assert not account.two_step
    assert account.recovery_code_digest is None


async def test_this_wasnt_me_cancels_and_secures_the_account(
    api: httpx.AsyncClient,
    browser: PageClient,
    emma: Any,
    sink: Sink,
    runtime: Runtime,
    clock: ShiftableClock,
) -> None:
    session = await sign_in(api)
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    change_id, token = cancel_link((await titled(sink, EMMA, ASKED)).text)
    page = await browser.get(f"/account/changes/{change_id}?token={token}")
    assert "Cancel the recovery" in page.text  # opening the link cancels nothing
    assert await recoveries(runtime) == 1
    page = await browser.post(f"/account/changes/{change_id}", page)
    assert "The recovery was canceled" in page.text
    assert await recoveries(runtime) == 0
    # the asker hears of it; every session is signed out
    assert "was not added" in (await titled(sink, NEW, CANCELLED)).text
    await titled(sink, EMMA, CANCELLED)
    gone = await api.get("/api/v1/sessions/current", headers={"X-Session-Token": session})
    assert gone.status_code == 401
    # the canceled way never becomes usable, however long one waits
    clock.advance(days=31)
    await runtime.jobs.run_due("test")
    assert await proofs_of(runtime, EMMA) == [EMMA]
    # the password alone no longer signs in: a code too, then a new password
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    state = (await api.post(url, json={"action": "submit_password", "password": PASSWORD})).json()
    assert state["state"] == "verify_options"
    option = state["options"][0]["id"]
    before = len(sink.with_codes(EMMA))
    await api.post(url, json={"action": "choose_option", "option": option})
    state = (await api.post(url, json={"action": "confirm_address", "address": EMMA})).json()
    code = await sink.wait_for_code(EMMA, before + 1)
    state = (await api.post(url, json={"action": "submit_code", "code": code})).json()
    assert state["state"] == "new_password"
    assert state["session_token"] is None  # not signed in before it is chosen
    same = await api.post(url, json={"action": "submit_new_password", "password": PASSWORD})
    assert same.status_code == 422  # the old one may be known to whoever asked
    assert "different password from the one you had" in same.json()["message"]
    done = await api.post(url, json={"action": "submit_new_password", "password": NEW_PASSWORD})
    assert done.json()["state"] == "done"
    assert done.json()["session_token"]
    async with runtime.db.transaction(write=False) as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
    assert account is not None
    assert not account.password_change_required
    assert await sign_in(api, password=NEW_PASSWORD)  # the password alone signs in again


async def test_a_link_cancels_once_and_only_with_its_token(
    api: httpx.AsyncClient, browser: PageClient, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    change_id, token = cancel_link((await titled(sink, EMMA, ASKED)).text)
    wrong = await browser.get(f"/account/changes/{change_id}?token={token[:-2]}xx")
    assert wrong.status == 410
    assert await recoveries(runtime) == 1
    page = await browser.get(f"/account/changes/{change_id}?token={token}")
    done = await browser.post(f"/account/changes/{change_id}", page)
    assert "The recovery was canceled" in done.text
    again = await browser.post(f"/account/changes/{change_id}", page)  # an old tab
    assert again.status == 410
    assert "isn't valid any more" in again.text


async def test_signing_in_with_a_way_offers_to_cancel_but_the_password_cannot(
    api: httpx.AsyncClient, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    by_password = SettingsFlow(api, await sign_in(api))
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    # the limited mode: nothing of the security info shows, nothing changes
    state = await by_password.start()
    waiting = state["security"]["recovery"]
    assert waiting["hint"] == mask("email", NEW)
    assert waiting["can_cancel"] is False
    assert state["security"]["ways"] == state["security"]["names"] == []
    for action, fields in (
        ("add_proof", {"address": "other@example.org"}),
        ("change_password", {}),
        ("two_step_on", {}),
        ("verify", {}),
    ):
        refused = await by_password.act(action, status=409, **fields)
        assert refused["error"] == "recovery_waiting", action
    # cancelling needs a code to one of its ways: the password is not offered
    state = await by_password.act("cancel_change", change=waiting["id"])
    assert state["state"] == "verify_options"
    assert "submit_password" in state["actions"]
    refused = await by_password.act("submit_password", status=409, password=PASSWORD)
    assert refused["error"] == "action_not_allowed"
    assert await recoveries(runtime) == 1

    # a sign-in by a code to one of its ways: offered to cancel, and it cancels at once
    done = await code_sign_in(api, sink, EMMA)
    assert done["notice"] == "recovery_waiting"
    by_code = SettingsFlow(api, done["session_token"])
    state = await by_code.start()
    assert state["security"]["recovery"]["can_cancel"] is True
    state = await by_code.act("cancel_change", change=waiting["id"])
    assert state["state"] == "new_password"
    assert state["notice"] == "recovery_cancelled"
    assert await recoveries(runtime) == 0
    gone = await api.get("/api/v1/sessions/current", headers=by_password.headers)
    assert gone.status_code == 401  # every other session is signed out
    state = await by_code.act("submit_new_password", password="a brand new passphrase here")
    assert state["state"] == "overview"
    assert state["security"]["recovery"] is None
    assert state["security"]["ways"][0]["hint"] == EMMA


async def test_nothing_tells_whether_the_name_has_an_account(
    api: httpx.AsyncClient, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    """A name without an account, an account with a recovery already waiting, and one
    without: the same states, the same pages, the same message at the new address."""
    seen = []
    for name, new in (
        ("nobody@example.com", "a@example.net"),
        (EMMA, "b@example.net"),
        (EMMA, "c@example.net"),  # one is waiting already: nothing starts, nothing shows
    ):
        flow = RecoveryFlow(api, runtime)
        confirm = await flow.to_confirm(sink, name, new=new)
        started = await flow.act("start_recovery")
        request = await titled(sink, new, REQUEST)
        seen.append(
            (
                confirm["state"],
                confirm["actions"],
                started["state"],
                started["actions"],
                sorted(started),
                request.message["Subject"],
                same_but_names(request.text, name, new),
            )
        )
    assert seen[0] == seen[1] == seen[2]
    await requests_done(runtime)
    assert await recoveries(runtime) == 1  # Emma's first
    assert len([m for m in sink.to(EMMA) if m.message["Subject"] == ASKED]) == 1
    wrong = await RecoveryFlow(api, runtime).to_confirm(
        sink, "nobody@example.com", new="d@example.net"
    )
    assert "use_recovery_code" in wrong["actions"]


async def test_a_wrong_password_is_refused_and_counted_like_a_sign_in(
    api: httpx.AsyncClient, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    flow = RecoveryFlow(api, runtime)
    await flow.begin()
    await flow.act("submit_identifier", name=EMMA)
    wrong = await flow.act("submit_password", status=400, password="not the password")
    assert wrong["error"] == "invalid_credentials"
    state = await flow.act("submit_password", password=PASSWORD)
    assert state["state"] == "new_way"


async def test_the_wait_cannot_be_shortened_or_its_notices_kept_back(
    api: httpx.AsyncClient, emma: Any, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    flow = RecoveryFlow(api, runtime)
    await flow.to_confirm(sink, EMMA, password=PASSWORD)
    for extra in ({"due_at": "2020-01-01T00:00:00Z"}, {"wait": 1}, {"notify": False}):
        refused = await flow.act("start_recovery", status=422, **extra)
        assert refused["error"] == "invalid_request"
    # a new way nobody proved cannot start a recovery; the code's step cannot be skipped
    other = RecoveryFlow(api, runtime)
    await other.begin()
    await other.act("submit_identifier", name=EMMA)
    await other.act("skip_password")
    await other.act("submit_new_way", address="e@example.net")
    refused = await other.act("start_recovery", status=409)
    assert refused["error"] == "action_not_allowed"

    await flow.act("start_recovery")
    # nothing the asker does now keeps the notices back: the flow takes no more actions, and
    # the request's job (committed with it) tells every way at once
    refused = await flow.act("restart", status=409)
    assert refused["error"] == "action_not_allowed"
    await titled(sink, EMMA, ASKED)
    clock.advance(days=29, hours=23)
    await runtime.jobs.run_due("test")
    assert await proofs_of(runtime, EMMA) == [EMMA]
    async with runtime.db.transaction(write=False) as tx:
        [recovery] = await runtime.recoveries.waiting(tx)
    assert recovery.password_proven


async def test_the_recovery_code_skips_the_wait(
    api: httpx.AsyncClient, emma_two_step: Any, sink: Sink, runtime: Runtime
) -> None:
    async with runtime.db.transaction() as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
        assert account is not None
        code = await runtime.security.replace_recovery_code(tx, account, Origin(None, None))
    without = RecoveryFlow(api, runtime)
    await without.to_confirm(sink, EMMA)  # the recovery code and the password: two factors
    refused = await without.act("use_recovery_code", status=409, recovery_code=code)
    assert refused["error"] == "action_not_allowed"
    flow = RecoveryFlow(api, runtime)
    await flow.to_confirm(sink, EMMA, password=PASSWORD)
    wrong = await flow.act("use_recovery_code", status=400, recovery_code="A" * 25)
    assert "isn't your recovery code" in wrong["message"]
    done = await flow.act("use_recovery_code", recovery_code=code.lower())
    assert done["state"] == "done"
    assert done["session_token"]
    assert await proofs_of(runtime, EMMA) == [NEW]
    async with runtime.db.transaction(write=False) as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
    assert account is not None
    assert not account.two_step  # one way left: two-step verification needs two
    assert account.recovery_code_digest is None  # spent
    await titled(sink, NEW, RECOVERED)
    assert await recoveries(runtime) == 0


async def test_the_limited_mode_hides_the_account_page_and_refuses_a_reset(
    api: httpx.AsyncClient, browser: PageClient, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert EMMA in page.text
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    page = await browser.get("/account")
    assert "A recovery of your account is waiting" in page.text
    assert "Email addresses you sign in with" not in page.text  # nor the security info
    assert "Two-step verification" not in page.text
    state = await SettingsFlow(api, await sign_in(api)).start()
    assert state["security"]["two_step"] is None
    assert state["security"]["has_password"] is None
    # a reset by a code to the name: the password can't change while it waits
    reset = (await api.post("/api/v1/flows", json={"kind": "password_reset"})).json()
    url = f"/api/v1/flows/{reset['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    before = len(sink.with_codes(EMMA))
    await api.post(url, json={"action": "send_code", "way": "email_code"})
    code = await sink.wait_for_code(EMMA, before + 1)
    await api.post(url, json={"action": "submit_code", "code": code})
    refused = await api.post(url, json={"action": "submit_new_password", "password": NEW_PASSWORD})
    assert refused.status_code == 409
    assert refused.json()["error"] == "recovery_waiting"


async def test_after_a_cancel_no_recovery_starts_for_a_day_and_the_owner_still_gets_in(
    api: httpx.AsyncClient,
    browser: PageClient,
    emma: Any,
    sink: Sink,
    runtime: Runtime,
    clock: ShiftableClock,
) -> None:
    """Whoever asks again after every cancel cannot keep the account in its limited mode, nor
    lock its owner out: a secured account whose recovery waits still signs in by a code."""
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    change_id, token = cancel_link((await titled(sink, EMMA, ASKED)).text)
    page = await browser.get(f"/account/changes/{change_id}?token={token}")
    await browser.post(f"/account/changes/{change_id}", page)
    await RecoveryFlow(api, runtime).start(sink, EMMA, new="again@example.net")
    assert await recoveries(runtime) == 0  # refused, silently: the page was the same
    async with runtime.db.transaction(write=False) as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
        assert account is not None
        log = await for_account(tx, account.id)
    assert any(e.action == "recovery_refused" and e.detail["reason"] == "cooldown" for e in log)
    clock.advance(days=1, minutes=1)
    await RecoveryFlow(api, runtime).start(sink, EMMA, new="later@example.net")
    assert await recoveries(runtime) == 1
    # the account is secured (a new password is due) and a recovery waits: a code signs in,
    # to where it is canceled, and the new password comes after
    done = await code_sign_in(api, sink, EMMA)
    assert done["state"] == "done"
    assert done["notice"] == "recovery_waiting"


async def test_a_waiting_removal_gives_way_to_a_recovery(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    state = await flow_of_emma.start()
    state = await flow_of_emma.act("remove_proof", proof=state["security"]["ways"][0]["id"])
    state = await flow_of_emma.act("confirm")
    assert state["notice"] == "removal_scheduled"
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    async with runtime.db.transaction(write=False) as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
        assert account is not None
        pending = await runtime.security.pending(tx, account.id)
    assert [change.change for change in pending] == ["recover"]
