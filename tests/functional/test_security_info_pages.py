"""The security info page (`/account/security`) in a browser without JavaScript: what it shows,
adding an address with its code, removing one after verifying who you are, and the scheduled
removal of the last one — in English and Japanese."""

from __future__ import annotations

import re
from typing import Any

from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.journeys import EMMA, PASSWORD, to_password
from tests.support.pages import Page, PageClient
from tests.support.settings import nth_code, titled
from tests.support.smtp import Sink

WORK = "emma@work.example"


async def signed_in(browser: PageClient) -> Page:
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert page.path == "/account"
    return await browser.get("/account/security")


async def test_the_page_lists_the_security_info_and_recommends_a_second_way(
    browser: PageClient, emma: Any
) -> None:
    page = await signed_in(browser)
    assert re.fullmatch(r"/account/security/[0-9a-f-]{36}", page.path)
    assert "Security info" in page.text
    assert EMMA in page.text  # in full: the sign-in was just now
    assert "Verified" in page.text
    assert "Not used yet" in page.text
    assert "We recommend at least two" in page.text
    assert page.has("add_proof")
    assert page.has("remove_proof")


async def test_adding_an_address_then_removing_it_after_verifying_again(
    browser: PageClient, emma: Any, sink: Sink, clock: ShiftableClock
) -> None:
    page = await signed_in(browser)
    page = await browser.submit(page, "add_proof", address=WORK)
    assert "Enter the code" in page.text
    assert WORK in page.text or "em*****@work.example" in page.text
    page = await browser.submit(page, "submit_code", code=await nth_code(sink, WORK, 1))
    assert "The new security info is verified" in page.text
    assert "We recommend at least two" not in page.text
    await titled(sink, EMMA, "Security info was added to your Example account")

    clock.advance(seconds=601)
    page = await browser.get(page.path)
    assert "partly hidden" in page.text
    assert WORK not in page.text
    forms = [f for f in page.forms() if f.fields.get("action") == "remove_proof"]
    assert len(forms) == 2
    work = forms[1]
    response = await browser.client.post(work.action, data=work.fields, follow_redirects=True)
    page = Page(response)
    assert "Before you remove em*****@work.example, we need to verify your identity." in page.text
    assert "Email em*****@example.com" in page.text
    assert "em*****@work.example" not in page.text.split("verify your identity.")[1]
    page = await browser.submit(page, "choose_option")
    page = await browser.submit(page, "submit_code", code=await nth_code(sink, EMMA, 1))
    assert "Remove em*****@work.example?" in page.text
    page = await browser.submit(page, "confirm")
    assert "The security info was removed." in page.text
    assert WORK not in page.text


async def test_the_last_address_is_removed_only_after_the_wait_in_japanese(
    browser: PageClient, sink: Sink, runtime: Runtime
) -> None:
    """Pages in the browser's language; notices in the account's."""
    await runtime.accounts.create(EMMA, PASSWORD, locale="ja", email_verified=True)
    await browser.post("/lang", await browser.get("/signin"), locale="ja")
    page = await signed_in(browser)
    assert "セキュリティ情報" in page.text
    page = await browser.submit(page, "remove_proof")
    assert "これは本人確認に使える唯一のセキュリティ情報です。" in page.text
    assert "30日後" in page.text
    page = await browser.submit(page, "confirm")
    assert "削除を予約しました。" in page.text
    assert "に削除予定" in page.text
    assert not page.has("add_proof")  # one change at a time
    notice = await titled(sink, EMMA, "Example アカウントのセキュリティ情報が削除される予定です")
    assert "日本時間" in notice.text
    assert "削除をキャンセル" in notice.html
    page = await browser.submit(page, "cancel_change")
    assert "変更をキャンセルしました。" in page.text
    assert page.has("add_proof")
    async with runtime.db.transaction(write=False) as tx:
        assert await runtime.jobs.pending(tx) == []
