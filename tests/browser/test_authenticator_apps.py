"""An authenticator app in Chromium, in Japanese and in English: set it up from the security
info page (its key read off the page, its codes computed by `pyotp` as a phone would), use it
as the second step of a sign-in, and remove it — screenshots at 360 and 1280 px, accessibility
checks on every new page."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Browser, Page

from honnin.runtime import Runtime
from tests.browser.conftest import accessibility_violations, screenshot
from tests.support.clock import ShiftableClock
from tests.support.smtp import Sink

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"

WORDS = {
    "ja": {
        "name": "メールアドレスまたは電話番号",
        "next": "次へ",
        "password": "パスワード",
        "sign_in": "サインイン",
        "app_name": "アプリの名前",
        "phone": "スマートフォン",
        "set_up": "アプリを設定",
        "setup_heading": "認証アプリの設定",
        "code": "セキュリティコード",
        "add": "確認してアプリを追加",
        "added": "認証アプリを追加しました",
        "option": "認証アプリ「スマートフォン」のコードを入力",
        "continue": "次へ",
        "verify_heading": "認証アプリのコードを入力",
        "verify": "確認",
        "remove": "スマートフォン を削除",
        "remove_heading": "認証アプリ「スマートフォン」を削除しますか？",
        "confirm_remove": "削除",
        "removed": "認証アプリを削除しました",
    },
    "en": {
        "name": "Email address or phone number",
        "next": "Next",
        "password": "Password",
        "sign_in": "Sign in",
        "app_name": "Name of the app",
        "phone": "phone",
        "set_up": "Set up an app",
        "setup_heading": "Set up your authenticator app",
        "code": "Security code",
        "add": "Verify and add the app",
        "added": "The authenticator app is added",
        "option": "Enter a code from your authenticator app “phone”",
        "continue": "Continue",
        "verify_heading": "Enter the code from your app",
        "verify": "Verify",
        "remove": "Remove phone",
        "remove_heading": "Remove the authenticator app “phone”?",
        "confirm_remove": "Remove",
        "removed": "The authenticator app was removed",
    },
}


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_set_up_sign_in_with_and_remove_an_app(
    lang: str,
    live: tuple[str, Runtime],
    chromium: Browser,
    sink: Sink,
    clock: ShiftableClock,
    axe: Path,
) -> None:
    base, runtime = live
    words = WORDS[lang]
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True, locale=lang)
    context = await chromium.new_context(
        locale="ja-JP" if lang == "ja" else "en-US",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,  # the accessibility checker is injected as a script
    )
    page = await context.new_page()

    async def to_second_step(page: Page) -> None:
        await page.goto(f"{base}/signin")
        await page.get_by_label(words["name"]).fill(EMMA)
        await page.get_by_role("button", name=words["next"]).click()
        await page.get_by_label(words["password"], exact=True).fill(PASSWORD)
        await page.get_by_role("button", name=words["sign_in"]).click()

    await to_second_step(page)
    await page.wait_for_url(f"{base}/account")
    await page.goto(f"{base}/account/security")
    await page.get_by_label(words["app_name"]).fill(words["phone"])
    await page.get_by_role("button", name=words["set_up"]).click()
    await page.get_by_role("heading", name=words["setup_heading"]).wait_for()
    await screenshot(page, "app-setup")
    assert await accessibility_violations(page) == []
    key = await page.locator("code.secret").text_content()
    assert key is not None
    app = pyotp.TOTP(key.replace(" ", ""))
    await page.get_by_label(words["code"]).fill(app.at(clock.now()))
    await page.get_by_role("button", name=words["add"]).click()
    await page.get_by_text(words["added"]).wait_for()
    await screenshot(page, "app-added")
    assert await accessibility_violations(page) == []
    await runtime.accounts.set_two_step(EMMA, True)  # its address and the app: two ways

    clock.advance(seconds=30)  # the next code
    other = await context.browser.new_context(  # type: ignore[union-attr]
        locale="ja-JP" if lang == "ja" else "en-US",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,
    )
    elsewhere = await other.new_page()
    await to_second_step(elsewhere)
    await elsewhere.get_by_label(words["option"]).check()
    await screenshot(elsewhere, "app-options")
    assert await accessibility_violations(elsewhere) == []
    await elsewhere.get_by_role("button", name=words["continue"]).click()
    await elsewhere.get_by_role("heading", name=words["verify_heading"]).wait_for()
    await screenshot(elsewhere, "app-verify")
    assert await accessibility_violations(elsewhere) == []
    await elsewhere.get_by_label(words["code"]).fill(app.at(clock.now()))
    await elsewhere.get_by_role("button", name=words["verify"], exact=True).click()
    await elsewhere.wait_for_url(f"{base}/account")
    await other.close()

    await runtime.accounts.set_two_step(EMMA, False)  # so that the app may go
    await page.goto(f"{base}/account/security")
    await page.get_by_role("button", name=words["remove"]).click()
    await page.get_by_role("heading", name=words["remove_heading"]).wait_for()
    await screenshot(page, "app-remove")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name=words["confirm_remove"], exact=True).click()
    await page.get_by_text(words["removed"]).wait_for()
    await context.close()
