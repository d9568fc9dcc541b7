"""The security info page in Chromium: add an address with its code, verify your identity
again once the sign-in is no longer fresh, remove an address, schedule the removal of the last
one and cancel it from the link in its notice — in English and Japanese, with screenshots and
accessibility checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from honnin.runtime import Runtime
from tests.browser.conftest import accessibility_violations, code_to, screenshot
from tests.support.clock import ShiftableClock
from tests.support.smtp import CODE, Sink

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"
WORK = "emma.work@example.org"
PHONE = "090-1234-5678"
TEXTS = "819012345678@sms.honnin.localhost"  # the dev mailbox's inbox of the phone's texts


async def main_text(page: Page) -> str:
    return (await page.locator("main").inner_text()).replace("\u200b", "")


async def sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/signin")
    await page.get_by_label("Email address or phone number").fill(EMMA)
    await page.get_by_role("button", name="Next").click()
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base}/account")


async def test_security_info_journey(
    live: tuple[str, Runtime],
    context: BrowserContext,
    chromium: Browser,
    sink: Sink,
    clock: ShiftableClock,
    axe: Path,
) -> None:
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    page = await context.new_page()
    await sign_in(page, base)
    await page.get_by_role("link", name="Manage your security info").click()
    await page.wait_for_selector("h1:text('Security info')")
    await screenshot(page, "security-info")
    assert await accessibility_violations(page) == []

    # add a second address: a code goes to it, then it counts
    await page.get_by_label("Email address or phone number").fill(WORK)
    await page.get_by_role("button", name="Send a code").click()
    await page.wait_for_selector("input[autocomplete=one-time-code]")
    await screenshot(page, "security-info-add-code")
    await page.get_by_label("Security code").fill(await code_to(sink, WORK))
    await page.get_by_role("button", name="Verify").click()
    await page.wait_for_selector("text=The new security info is verified")
    await screenshot(page, "security-info-added")

    # later: the sign-in is no longer fresh, so removing needs "verify your identity" again
    clock.advance(seconds=601)
    await page.reload()
    assert WORK not in await page.locator("main").inner_text()
    await page.get_by_role("button", name="Remove em*****@example.org").click()
    await page.wait_for_selector("h1:text('Verify your identity')")
    await screenshot(page, "security-info-verify")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name="Send a code").click()
    await page.get_by_label("Security code").fill(await code_to(sink, EMMA))
    await page.get_by_role("button", name="Verify").click()
    await page.wait_for_selector("h1:text('Remove em*****@example.org?')")
    await screenshot(page, "security-info-confirm-remove")
    await page.get_by_role("button", name="Remove", exact=True).click()
    await page.wait_for_selector("text=The security info was removed.")

    # in Japanese: removing the last address is scheduled, and its notice can cancel it
    await page.get_by_role("button", name="日本語").click()
    await page.get_by_role("heading", name="セキュリティ情報", exact=True).wait_for()
    await screenshot(page, "security-info")
    await page.get_by_role("button", name=re.compile("を削除$")).click()
    # verified by a code to this very address: removing it needs another way, the password
    await page.get_by_role("heading", name="本人確認").wait_for()
    await screenshot(page, "security-info-verify")
    await page.get_by_label("パスワードの入力").fill(PASSWORD)
    await page.get_by_role("button", name="パスワードで確認").click()
    await page.get_by_role("heading", name=re.compile("を削除しますか？$")).wait_for()
    assert "これは本人確認に使える唯一のセキュリティ情報です。" in await main_text(page)
    await screenshot(page, "security-info-confirm-remove")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name="削除", exact=True).click()
    await page.get_by_role("status").first.wait_for()
    assert "削除を予約しました。" in await main_text(page)
    await screenshot(page, "security-info-scheduled")
    assert await accessibility_violations(page) == []

    for count in range(1, 10):
        notice = await sink.wait_for(EMMA, count=count)
        if "/account/changes/" in notice.text:
            break
    link = re.search(r"http://\S+/account/changes/\S+", notice.text)
    assert link is not None
    other = await chromium.new_context(
        locale="en-US", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    stranger = await other.new_page()  # "this wasn't me": no sign-in needed
    await stranger.goto(link.group(0))
    await stranger.wait_for_selector("h1:text('Cancel the removal')")
    await screenshot(stranger, "change-cancel")
    assert await accessibility_violations(stranger) == []
    await stranger.get_by_role("button", name="Cancel the removal").click()
    await stranger.wait_for_selector("text=The removal was canceled")
    await screenshot(stranger, "change-cancelled")
    await other.close()

    await page.reload()
    await page.get_by_role("heading", name="セキュリティ情報を追加").wait_for()
    assert "削除予定" not in await page.locator("main").inner_text()


@pytest.mark.parametrize("live", [{"dev": True}], indirect=True)  # texts: the dev mailbox
async def test_two_step_recovery_code_and_password_reset_journey(
    live: tuple[str, Runtime], context: BrowserContext, sink: Sink, axe: Path
) -> None:
    """Add a phone, turn on two-step verification (the recovery code shown once), sign out,
    sign in with the second step (a text), then with the recovery code; reset the password
    with a code to the address and a text to the phone."""
    base, runtime = live
    account = await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    page = await context.new_page()
    await sign_in(page, base)
    await page.goto(f"{base}/account/security")
    await page.get_by_label("Email address or phone number").fill(PHONE)
    await page.get_by_role("button", name="Send a code").click()
    await page.get_by_text("We texted a code to the number ending in 78.").wait_for()
    await screenshot(page, "security-info-add-phone")
    await page.get_by_label("Security code").fill(await code_to(sink, TEXTS))
    await page.get_by_role("button", name="Verify").click()
    await page.get_by_text("The new security info is verified").wait_for()
    await page.get_by_role("button", name="Turn on").click()
    await page.get_by_role("heading", name="Turn on two-step verification?").wait_for()
    await screenshot(page, "two-step-on")
    await page.get_by_role("button", name="Turn on").click()
    await page.get_by_role("heading", name="Your recovery code").wait_for()
    code = (await page.locator(".recovery-code").inner_text()).strip()
    assert re.fullmatch(r"([2-9A-Z]{5}-){4}[2-9A-Z]{5}", code)
    await screenshot(page, "recovery-code")
    assert await accessibility_violations(page) == []
    await page.get_by_role("link", name="I've saved it").click()
    await page.get_by_role("heading", name="Security info", exact=True).wait_for()
    assert "On: every sign-in needs your password and a code." in await main_text(page)

    # sign out; sign in with the password and a code to the second address
    await page.goto(f"{base}/signout")
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.get_by_label("Email address or phone number").fill(EMMA)
    await page.get_by_role("button", name="Next").click()
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Verify your identity").wait_for()
    await page.get_by_label("Text the number ending in 78").check()
    await page.get_by_role("button", name="Send a code").click()
    await page.get_by_label("Last 4 digits").fill("5678")
    await page.get_by_role("button", name="Send code").click()
    await page.get_by_label("Security code").fill(await code_to(sink, TEXTS, 2))
    await page.get_by_role("button", name="Verify", exact=True).click()
    await page.wait_for_url(f"{base}/account")

    # sign out; sign in with the password and the recovery code instead of the second step
    await page.goto(f"{base}/signout")
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.get_by_label("Email address or phone number").fill(EMMA)
    await page.get_by_role("button", name="Next").click()
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Verify your identity").wait_for()
    await page.get_by_text("Use your recovery code").click()
    await screenshot(page, "verify-options-recovery-code")
    assert await accessibility_violations(page) == []
    await page.get_by_label("Recovery code").fill(code.lower())
    await page.get_by_role("button", name="Sign in with the recovery code").click()
    await page.get_by_role("heading", name="Your recovery code").wait_for()
    new_code = (await page.locator(".recovery-code").inner_text()).strip()
    assert new_code != code
    await page.get_by_role("link", name="I've saved it").click()
    await page.wait_for_url(f"{base}/account")

    # in Japanese: forgot the password — a code to the name, then one to the other address
    await page.goto(f"{base}/signout")
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.get_by_role("button", name="日本語").click()
    await page.goto(f"{base}/password/reset")
    await screenshot(page, "password-reset")
    assert await accessibility_violations(page) == []
    await page.get_by_label("メールアドレスまたは電話番号").fill(EMMA)
    await page.get_by_role("button", name="次へ").click()
    before = len([m for m in sink.to(EMMA) if CODE.search(m.text)])
    await page.get_by_role("button", name=re.compile("にコードをメールで送信")).click()
    await page.get_by_label("セキュリティコード").fill(await code_to(sink, EMMA, before + 1))
    await page.get_by_role("button", name="確認", exact=True).click()
    await page.get_by_role("heading", name="本人確認").wait_for()
    await page.get_by_role("button", name="コードを送信", exact=True).click()  # the phone: only one
    await page.get_by_label("下4桁").fill("5678")
    sent = len([m for m in sink.to(TEXTS) if CODE.search(m.text)])
    await page.get_by_role("button", name="コードを送信").click()
    await page.get_by_label("セキュリティコード").fill(await code_to(sink, TEXTS, sent + 1))
    await page.get_by_role("button", name="確認", exact=True).click()
    await page.get_by_role("heading", name="新しいパスワードの設定").wait_for()
    await screenshot(page, "password-reset-new")
    await page.get_by_label("新しいパスワード").fill("a brand new passphrase of mine")
    await page.get_by_role("button", name="パスワードを変更").click()
    await page.get_by_role("heading", name="パスワードを変更しました").wait_for()
    await screenshot(page, "password-reset-done")
    assert await accessibility_violations(page) == []
    assert account.id
