"""Whole journeys in Chromium: what a person does and sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page

from honnin.limits.service import Requester
from honnin.runtime import Runtime
from tests.browser.conftest import accessibility_violations, screenshot
from tests.support.smtp import Sink

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"
TARO = "taro@example.jp"


async def fill_and_submit(page: Page, label: str, value: str, button: str) -> None:
    await page.get_by_label(label, exact=True).fill(value)
    await page.get_by_role("button", name=button, exact=True).click()


async def sign_up(page: Page, base: str, sink: Sink, email: str, count: int = 1) -> None:
    await page.goto(f"{base}/signup")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Next").click()
    await page.wait_for_selector("input[autocomplete=one-time-code]")
    code = await sink.wait_for_code(email, count=count)
    await fill_and_submit(page, "Security code", code, "Verify")
    await page.wait_for_url(f"{base}/account")


async def add_second_email(runtime: Runtime, sink: Sink, address: str) -> None:
    account = await runtime.accounts.show(EMMA)
    proof = await runtime.proofs.add_email(account.id, address)
    me = Requester(ip="127.0.0.1")
    sent = await runtime.proofs.send_code(account.id, proof.id, requester=me, locale="en")
    code = await sink.wait_for_code(address)
    await runtime.proofs.confirm(account.id, sent.challenge_id, code, requester=me)


async def test_the_whole_journey(
    live: tuple[str, Runtime], context: BrowserContext, sink: Sink, axe: Path
) -> None:
    base, runtime = live
    page = await context.new_page()

    # sign up, then sign out
    await page.goto(f"{base}/signup")
    await screenshot(page, "signup")
    await sign_up(page, base, sink, EMMA)
    await screenshot(page, "account")
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.wait_for_url(f"{base}/signin/*")

    # two-step verification on, with two addresses to choose from
    await runtime.accounts.set_two_step(EMMA, True)
    await add_second_email(runtime, sink, "emma.backup@example.org")

    # sign in: name, password, then verify your identity
    await screenshot(page, "signin")
    assert await accessibility_violations(page) == []
    await fill_and_submit(page, "Email address", EMMA, "Next")
    await screenshot(page, "password")
    await fill_and_submit(page, "Password", PASSWORD, "Sign in")
    await page.wait_for_selector("text=Verify your identity")

    # switch language: the same step, in Japanese
    await page.get_by_role("button", name="日本語").click()
    await page.wait_for_selector("text=本人確認")
    await screenshot(page, "verify-options")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name="English").click()
    await page.wait_for_selector("text=Verify your identity")

    # choose the first address, confirm it, then "use a different verification option"
    await page.get_by_role("button", name="Send a code").click()
    await fill_and_submit(page, "Email address", EMMA, "Send code")
    await page.wait_for_selector("input[autocomplete=one-time-code]")
    await page.get_by_role("button", name="Use a different verification option").click()
    await page.get_by_label("Email em*****@example.org").check()
    await page.get_by_role("button", name="Send a code").click()
    await screenshot(page, "verify-confirm")
    await fill_and_submit(page, "Email address", "emma.backup@example.org", "Send code")
    await page.wait_for_selector("input[autocomplete=one-time-code]")
    await page.get_by_text("Didn't get the code?").click()
    await screenshot(page, "verify-code")
    assert await accessibility_violations(page) == []

    # resend: the old code is refused as superseded, the new one accepted
    old = await sink.wait_for_code("emma.backup@example.org", count=2)
    resend = page.get_by_role("button", name="Resend code", exact=True)
    await resend.wait_for(state="visible", timeout=10_000)
    await page.wait_for_function(
        "document.querySelector('button[data-resend-at]').disabled === false", timeout=10_000
    )
    await resend.click()
    new = await sink.wait_for_code("emma.backup@example.org", count=3)
    assert new != old
    await fill_and_submit(page, "Security code", old, "Verify")
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "newer code" in (await alert.inner_text())
    await screenshot(page, "code-superseded")
    await fill_and_submit(page, "Security code", new, "Verify")
    await page.wait_for_url(f"{base}/account")

    # a second account in the same browser; switching between the two
    await page.get_by_role("link", name="Sign in to another account").click()
    await page.goto(f"{base}/signup")
    await sign_up(page, base, sink, TARO)
    text = await page.locator("main").inner_text()
    assert TARO in text
    assert EMMA in text
    await screenshot(page, "account-picker")
    await page.get_by_role("button", name="Switch to this account").click()
    await page.wait_for_selector(f"strong.identity:text('{EMMA}')")
    await page.get_by_role("button", name="Switch to this account").click()
    await page.wait_for_selector(f"strong.identity:text('{TARO}')")


async def test_pages_in_japanese_under_the_real_csp(
    live: tuple[str, Runtime], chromium: Any, sink: Sink
) -> None:
    """Without bypassing the CSP: our own script runs, nothing is refused."""
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    context = await chromium.new_context(locale="ja-JP")
    page = await context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    await page.goto(f"{base}/signin")
    assert await page.evaluate("document.documentElement.lang") == "ja"
    await screenshot(page, "signin")
    await page.get_by_label("メール アドレス").fill("nobody@example.com")
    await page.get_by_role("button", name="次へ").click()
    await page.get_by_role("button", name="nobody@example.com", exact=False).wait_for()
    await screenshot(page, "password")
    await page.goto(f"{base}/signup")
    await screenshot(page, "signup")
    await page.goto(f"{base}/recovery")
    await screenshot(page, "recovery")

    await page.goto(f"{base}/signin")
    await fill_and_submit(page, "メール アドレス", EMMA, "次へ")
    await page.get_by_role("button", name="em*****@example.com にコードをメールで送信").click()
    resend = page.locator("button[data-resend-at]")
    await resend.wait_for()
    assert await resend.is_disabled()  # the countdown script ran: scripts from 'self' work
    assert "秒後にコードを再送信できます" in await resend.inner_text()
    await screenshot(page, "code")
    await page.get_by_label("セキュリティ コード").fill(await sink.wait_for_code(EMMA))
    await page.get_by_role("button", name="確認").click()
    await page.wait_for_url(f"{base}/account")
    await screenshot(page, "account")
    await context.close()
    assert refused == []
