"""The recovery's pages ("I don't have any of these"), in Japanese, and what the pages do after
"this wasn't me": a sign-in by a code that asks for a new password, and the offer to cancel.
And support's commands."""

from __future__ import annotations

from typing import Any

import httpx

from honnin.audit.service import Origin
from honnin.destinations.kinds import mask
from honnin.proofs.service import verified_proofs
from honnin.runtime import Runtime
from tests.support.journeys import to_password
from tests.support.operators import Operator
from tests.support.pages import PageClient
from tests.support.recovery import NEW, RecoveryFlow, cancel_link, requests_done
from tests.support.settings import EMMA, PASSWORD, nth_code, titled
from tests.support.smtp import Sink

ASKED = "Someone asked to recover your Example account"
NEW_PASSWORD = "a brand new passphrase of mine"


async def test_a_recovery_through_the_pages_in_japanese(
    browser: PageClient, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    await browser.post("/lang", await browser.get("/signin"), locale="ja")
    browser.client.cookies.set("tz", "Asia/Tokyo")
    page = await browser.get("/recovery")
    assert page.path.startswith("/recovery/")
    assert "30日の待機期間" in page.text
    page = await browser.submit(page, "submit_identifier", name=EMMA)
    assert "パスワードはわかりますか？" in page.text
    page = await browser.submit(page, "skip_password")
    assert "今使える連絡先を教えてください" in page.text
    refused = await browser.submit(page, "submit_new_way", address="not an address")
    assert refused.status == 422
    page = await browser.submit(page, "submit_new_way", address=NEW)
    assert "コードの入力" in page.text
    page = await browser.submit(page, "submit_code", code=await nth_code(sink, NEW, 1))
    assert "待機期間を開始" in page.text
    assert "（日本時間）" in page.text  # the browser's zone
    page = await browser.submit(page, "start_recovery")
    assert "申請を受け付けました" in page.text
    # the message to the new address: in the page's language, in the browser's zone
    request = await titled(sink, NEW, "Example アカウントの回復の申請について")
    assert "（日本時間）" in request.text
    await requests_done(runtime)  # its account work: a job, run at once
    async with runtime.db.transaction(write=False) as tx:
        assert len(await runtime.recoveries.waiting(tx)) == 1


async def test_after_this_wasnt_me_the_pages_ask_for_a_code_then_a_new_password(
    api: httpx.AsyncClient, browser: PageClient, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    change_id, token = cancel_link((await titled(sink, EMMA, ASKED)).text)
    page = await browser.get(f"/account/changes/{change_id}?token={token}")
    await browser.post(f"/account/changes/{change_id}", page)
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert "Verify your identity" in page.text  # the password alone no longer signs in
    page = await browser.submit(
        page, "choose_option", option=page.form("choose_option").fields["option"]
    )
    codes = len(sink.with_codes(EMMA))
    page = await browser.submit(page, "confirm_address", address=EMMA)
    page = await browser.submit(page, "submit_code", code=await sink.wait_for_code(EMMA, codes + 1))
    assert "Choose a new password" in page.text
    assert "canceled as not you" in page.text
    page = await browser.submit(page, "submit_new_password", password=NEW_PASSWORD)
    assert page.path == "/account"


async def test_a_sign_in_by_code_while_a_recovery_waits_goes_where_it_is_canceled(
    api: httpx.AsyncClient, browser: PageClient, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    page = await to_password(browser)
    before = len(sink.with_codes(EMMA))
    page = await browser.submit(page, "send_code", way="email_code")
    page = await browser.submit(
        page, "submit_code", code=await sink.wait_for_code(EMMA, before + 1)
    )
    assert page.path.startswith("/account/security/")
    assert "A recovery of your account is waiting" in page.text
    page = await browser.submit(page, "cancel_change")
    assert "The recovery was canceled" in page.text  # verified by the code: at once
    page = await browser.submit(page, "submit_new_password", password=NEW_PASSWORD)
    assert "Your password was changed" in page.text


async def test_support_lists_and_cancels_a_recovery(
    api: httpx.AsyncClient, operator: Operator, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    code, out = await operator.run("recovery", "list")
    assert (code, out.strip()) == (0, "no recovery is waiting")
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    async with runtime.db.transaction(write=False) as tx:
        [waiting] = await runtime.recoveries.waiting(tx)
    code, out = await operator.run("recovery", "list")
    assert code == 0
    assert str(waiting.id) in out
    assert "not proven" in out
    code, out = await operator.run("accounts", "show", EMMA)
    assert "recover" in out
    assert str(waiting.id) in out
    code, out = await operator.run("recovery", "cancel", "nonsense")
    assert code == 1
    assert "is not the id of a change" in out
    code, out = await operator.run("recovery", "cancel", str(waiting.id))
    assert code == 0, out
    assert "canceled the recovery of" in out
    code, out = await operator.run("recovery", "cancel", str(waiting.id))
    assert code == 1
    assert "no recovery or removal" in out
    await titled(sink, NEW, "The recovery of your Example account was canceled")
    code, out = await operator.run("accounts", "audit", EMMA)
    assert "recovery_cancelled" in out
    assert "honnin recovery cancel" in out


async def test_support_cancels_a_scheduled_removal_too(
    operator: Operator, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    async with runtime.db.transaction() as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
        assert account is not None
        [proof] = await verified_proofs(tx, account.id)
        removal = await runtime.security.remove(tx, account, proof.id, Origin(None, None))
        [change] = await runtime.security.pending(tx, account.id)
    assert removal.scheduled
    code, out = await operator.run("recovery", "cancel", str(change.id))
    assert code == 0, out
    assert out.strip() == f"canceled the removal of em*****@example.com from {mask('email', EMMA)}"
    await titled(sink, EMMA, "The removal of your security info was canceled")
