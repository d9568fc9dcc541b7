"""Account recovery in Chromium ("I don't have any of these"): from the sign-in page, the name,
no password, a new address and its code, the start of the waiting period; then the owner
cancels it — in English from the security info page after signing in with a code, in Japanese
from the link in the notice — and signs in again with a new password. Screenshots of every
page at 360 and 1280 px, and accessibility checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from honnin.runtime import Runtime
from tests.browser.conftest import accessibility_violations, code_to, screenshot
from tests.support.recovery import requests_done
from tests.support.smtp import CODE, Sink

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase of mine"
EMMA = "emma@example.com"
NEW = "emma.new@example.net"

WORDS = {
    "en": {
        "recover": "Recover your account",
        "name": "The email address or phone number you sign in with",
        "next": "Next",
        "password?": "Do you know your password?",
        "skip": "I don't know it",
        "where": "Where can we reach you now?",
        "address": "Email address or phone number",
        "send": "Send a code",
        "code": "Security code",
        "verify": "Verify",
        "start": "Start the waiting period",
        "started": "Your request is in",
        "cancel": "Cancel the recovery",
        "cancelled": "The recovery was canceled",
        "new password": "New password",
    },
    "ja": {
        "recover": "アカウントの回復",
        "name": "サインインに使うメールアドレスまたは電話番号",
        "next": "次へ",
        "password?": "パスワードはわかりますか？",
        "skip": "わからない",
        "where": "今使える連絡先を教えてください",
        "address": "メールアドレスまたは電話番号",
        "send": "コードを送信",
        "code": "セキュリティコード",
        "verify": "確認",
        "start": "待機期間を開始",
        "started": "申請を受け付けました",
        "cancel": "回復をキャンセル",
        "cancelled": "回復はキャンセルされました",
        "new password": "新しいパスワード",
    },
}


def codes_to(sink: Sink, address: str) -> int:
    return len([m for m in sink.to(address) if CODE.search(m.text)])


async def ask_for_recovery(page: Page, base: str, sink: Sink, lang: str) -> None:
    """From the sign-in page to "your request is in", with a screenshot of every page."""
    words = WORDS[lang]
    await page.goto(f"{base}/signin")
    await page.get_by_role("link", name=words["recover"]).click()
    await page.get_by_role("heading", name=words["recover"], exact=True).wait_for()
    await screenshot(page, "recovery")
    assert await accessibility_violations(page) == []
    await page.get_by_label(words["name"]).fill(EMMA)
    await page.get_by_role("button", name=words["next"]).click()
    await page.get_by_role("heading", name=words["password?"]).wait_for()
    await screenshot(page, "recovery-password")
    await page.get_by_role("button", name=words["skip"]).click()
    await page.get_by_role("heading", name=words["where"]).wait_for()
    await screenshot(page, "recovery-new-way")
    assert await accessibility_violations(page) == []
    await page.get_by_label(words["address"]).fill(NEW)
    before = codes_to(sink, NEW)
    await page.get_by_role("button", name=words["send"]).click()
    await page.get_by_label(words["code"]).fill(await code_to(sink, NEW, before + 1))
    await screenshot(page, "recovery-new-code")
    await page.get_by_role("button", name=words["verify"], exact=True).click()
    await page.get_by_role("heading", name=words["start"]).wait_for()
    await screenshot(page, "recovery-confirm")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name=words["start"]).click()
    await page.get_by_role("heading", name=words["started"]).wait_for()
    await screenshot(page, "recovery-started")
    assert await accessibility_violations(page) == []


async def notice_link(sink: Sink) -> str:
    for count in range(1, 30):
        mail = await sink.wait_for(EMMA, count=count)
        found = re.search(r"http://\S+/account/changes/\S+", mail.text)
        if found:
            return found.group(0)
    raise AssertionError("no notice with a link")


async def test_a_recovery_canceled_from_the_security_info_page(
    live: tuple[str, Runtime], context: BrowserContext, sink: Sink, axe: Path
) -> None:
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    page = await context.new_page()
    await ask_for_recovery(page, base, sink, "en")
    await requests_done(runtime)  # its account work: a job, run at once

    # the owner signs in with a code to their address: the security info page offers to cancel
    await page.goto(f"{base}/signin")
    await page.get_by_label("Email address or phone number").fill(EMMA)
    await page.get_by_role("button", name="Next").click()
    before = codes_to(sink, EMMA)
    await page.get_by_role("button", name="Email a code to em*****@example.com").click()
    await page.get_by_label("Security code").fill(await code_to(sink, EMMA, before + 1))
    await page.get_by_role("button", name="Verify", exact=True).click()
    await page.get_by_role("heading", name="A recovery of your account is waiting").wait_for()
    await screenshot(page, "security-info-recovery")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name="This wasn't me: cancel it").click()
    await page.get_by_role("heading", name="Change your password").wait_for()
    # the meter says why, as the person types (the same rules as when the form is sent)
    reason = page.locator(".strength-reason")
    await page.get_by_label("New password").press_sequentially("tangerine")
    await page.wait_for_function(
        "document.querySelector('.strength-reason').textContent.includes('15 characters')"
    )
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await page.wait_for_function(
        "document.querySelector('.strength-reason').textContent.startsWith('Strong')"
    )
    assert await page.locator(".strength meter").get_attribute("value") == "4"
    assert await reason.get_attribute("aria-live") == "polite"
    await screenshot(page, "security-info-recovery-cancelled")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name="Change password").click()
    await page.get_by_text("Your password was changed.").wait_for()
    async with runtime.db.transaction(write=False) as tx:
        assert await runtime.recoveries.waiting(tx) == []


@pytest.mark.parametrize("lang", ["ja"])
async def test_a_recovery_canceled_from_the_link_in_its_notice(
    live: tuple[str, Runtime], chromium: Browser, sink: Sink, axe: Path, lang: str
) -> None:
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True, locale=lang)
    context = await chromium.new_context(
        locale="ja-JP", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    page = await context.new_page()
    await ask_for_recovery(page, base, sink, lang)
    await requests_done(runtime)
    words = WORDS[lang]

    # "this wasn't me": the link of the notice, no sign-in needed
    await page.goto(await notice_link(sink))
    await page.get_by_role("heading", name=words["cancel"]).wait_for()
    await screenshot(page, "recovery-link")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name=words["cancel"]).click()
    await page.get_by_role("heading", name=words["cancelled"]).wait_for()
    await screenshot(page, "recovery-link-cancelled")
    assert await accessibility_violations(page) == []

    # secured: the password alone no longer signs in; a code, then a new password
    await page.goto(f"{base}/signin")
    await page.get_by_label("メールアドレスまたは電話番号").fill(EMMA)
    await page.get_by_role("button", name="次へ").click()
    await page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="サインイン").click()
    await page.get_by_role("heading", name="本人確認").wait_for()
    await page.get_by_role("button", name="コードを送信", exact=True).click()
    await page.get_by_label("メールアドレス").fill(EMMA)
    before = codes_to(sink, EMMA)
    await page.get_by_role("button", name="コードを送信").click()
    await page.get_by_label("セキュリティコード").fill(await code_to(sink, EMMA, before + 1))
    await page.get_by_role("button", name="確認", exact=True).click()
    await page.get_by_role("heading", name="新しいパスワードの設定").wait_for()
    await page.get_by_label(words["new password"]).fill(PASSWORD)
    await page.wait_for_function(
        "document.querySelector('.strength-reason').textContent.includes('強力')"
    )
    await page.get_by_role("button", name="パスワードを変更").click()
    # strong, but the old one: whoever asked may know it (the meter does not tell)
    await page.locator("#password-error", has_text="これまでとは違うパスワード").wait_for()
    await screenshot(page, "sign-in-new-password")
    assert await accessibility_violations(page) == []
    await page.get_by_label(words["new password"]).fill(NEW_PASSWORD)
    await page.get_by_role("button", name="パスワードを変更").click()
    await page.wait_for_url(f"{base}/account")
    await context.close()
