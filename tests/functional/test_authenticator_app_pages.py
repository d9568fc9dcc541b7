"""Authenticator apps on the pages, in a browser without JavaScript: set up from the security
info page (QR code, key in groups, the first code), then the second step of a sign-in with
nothing sent — in Japanese and in English."""

from __future__ import annotations

import re
from typing import Any

import pyotp

from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.journeys import EMMA, PASSWORD, to_password
from tests.support.pages import Page, PageClient
from tests.support.smtp import Sink

KEY = re.compile(r'<code class="secret"[^>]*>([A-Z2-7]{4}(?: [A-Z2-7]{4}){7})</code>')


async def security_page(browser: PageClient) -> Page:
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert page.path == "/account"
    return await browser.get("/account/security")


async def set_up(
    browser: PageClient, page: Page, clock: ShiftableClock, name: str
) -> tuple[Page, str]:
    page = await browser.submit(page, "add_app", name=name)
    assert "<svg" in page.html  # the QR code, inline
    key = KEY.search(page.html)
    assert key is not None, page.text
    code = pyotp.TOTP(key.group(1).replace(" ", "")).at(clock.now())
    return await browser.submit(page, "submit_code", code=code), key.group(1)


async def test_setting_up_an_app_and_signing_in_with_it_in_japanese(
    browser: PageClient, runtime: Runtime, clock: ShiftableClock, sink: Sink
) -> None:
    await runtime.accounts.create(EMMA, PASSWORD, locale="ja", email_verified=True)
    await browser.post("/lang", await browser.get("/signin"), locale="ja")
    page = await security_page(browser)
    assert "認証アプリ" in page.text
    unnamed = await browser.submit(page, "add_app", name="")
    assert unnamed.status == 422
    assert "アプリの名前を入力してください" in unnamed.text
    page = await browser.submit(page, "add_app", name="スマートフォン")
    assert "認証アプリの設定" in page.text
    wrong = await browser.submit(page, "submit_code", code="000000")
    assert wrong.status == 400
    assert "コードが正しくないか" in wrong.text
    key = KEY.search(wrong.html)
    assert key is not None  # still shown: the app does not count yet
    app = pyotp.TOTP(key.group(1).replace(" ", ""))
    page = await browser.submit(wrong, "submit_code", code=app.at(clock.now()))
    assert "認証アプリを追加しました" in page.text
    assert "スマートフォン" in page.text
    assert KEY.search(page.html) is None  # never shown again
    page = await browser.submit(page, "two_step_on")
    page = await browser.submit(page, "confirm")
    assert "回復コード" in page.text

    clock.advance(seconds=30)  # signing in again, in this browser
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert "認証アプリ「スマートフォン」のコードを入力" in page.text
    sent_before = len(sink.to(EMMA))
    page = await browser.submit(page, "choose_option", option=_app_option(page))
    assert "認証アプリのコードを入力" in page.text
    page = await browser.submit(page, "submit_code", code=app.at(clock.now()))
    assert page.path == "/account"
    assert len(sink.to(EMMA)) == sent_before  # nothing was sent


def _app_option(page: Page) -> str:
    [option] = re.findall(r'value="(totp:[0-9a-f-]{36})"', page.html)
    return str(option)


async def test_removing_an_app_in_english(
    browser: PageClient, emma: Any, clock: ShiftableClock
) -> None:
    page = await security_page(browser)
    page, _key = await set_up(browser, page, clock, "work phone")
    assert "The authenticator app is added" in page.text
    page = await browser.submit(page, "remove_app")
    assert "Remove the authenticator app “work phone”?" in page.text
    page = await browser.submit(page, "confirm")
    assert "The authenticator app was removed." in page.text
    assert not page.has("remove_app")
    assert "The authenticator app “work phone” was removed from your security info" in page.text
