"""Closing an account and reopening it, in Japanese, and securing it from the link of a new
browser's notice, in English: screenshots at 360 and 1280 px, accessibility checks."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, BrowserContext

from honnin.runtime import Runtime
from tests.browser.conftest import accessibility_violations, screenshot
from tests.support.smtp import Sink

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"


async def test_close_then_reopen_by_signing_in(
    live: tuple[str, Runtime], chromium: Browser, sink: Sink, axe: Path
) -> None:
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True, locale="ja")
    context = await chromium.new_context(
        locale="ja-JP", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    page = await context.new_page()

    async def sign_in() -> None:
        await page.goto(f"{base}/signin")
        await page.get_by_label("メールアドレスまたは電話番号").fill(EMMA)
        await page.get_by_role("button", name="次へ").click()
        await page.get_by_label("パスワード", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="サインイン").click()

    await sign_in()
    await page.wait_for_url(f"{base}/account")
    await page.goto(f"{base}/account/security")
    await page.get_by_role("button", name="アカウントを閉じる").click()
    await page.get_by_role("heading", name="アカウントを閉じますか？").wait_for()
    await screenshot(page, "close-confirm")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name="アカウントを閉じる").click()
    await page.get_by_role("heading", name="アカウントを閉じました").wait_for()
    await screenshot(page, "close-done")
    assert await accessibility_violations(page) == []

    await sign_in()
    await page.get_by_role("heading", name="アカウントを再開しますか？").wait_for()
    await screenshot(page, "reopen")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name="アカウントを再開").click()
    await page.wait_for_url(f"{base}/account")
    await context.close()


async def test_secure_the_account_from_a_new_browsers_notice(
    live: tuple[str, Runtime], context: BrowserContext, sink: Sink, axe: Path
) -> None:
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    page = await context.new_page()
    await page.goto(f"{base}/signin")
    await page.get_by_label("Email address or phone number").fill(EMMA)
    await page.get_by_role("button", name="Next").click()
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base}/account")
    for count in range(1, 10):
        notice = await sink.wait_for(EMMA, count=count)
        link = re.search(r"http://\S+/account/secure/\S+", notice.text)
        if link:
            break
    assert link is not None
    await page.goto(link.group(0))
    await page.get_by_role("heading", name="Secure your account").wait_for()
    await screenshot(page, "secure")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name="Secure my account").click()
    await page.get_by_role("heading", name="Your account is secured").wait_for()
    await screenshot(page, "secure-done")
    await page.goto(f"{base}/account")
    assert "/signin" in page.url  # signed out here too
