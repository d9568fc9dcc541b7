"""Whole journeys in Chromium: what a person does and sees."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page

from honnin.i18n import gettext
from honnin.limits.service import Requester
from honnin.runtime import Runtime
from tests.browser.conftest import SIGN_IN_WORDS, accessibility_violations, screenshot
from tests.support.clock import ShiftableClock
from tests.support.smtp import Sink

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"
TARO = "taro@example.jp"


async def focus_lands(page: Page, what: str, expected: str) -> None:
    """`what` of the focused element becomes `expected`: `autofocus` takes effect at the
    browser's next rendering step, not when the page's element appears."""
    await page.wait_for_function(
        f"expected => document.activeElement?.{what} === expected", arg=expected, timeout=5000
    )


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
    proof = await runtime.proofs.add(account.id, "email", address)
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
    await page.get_by_role("link", name=f"Sign out of {EMMA}").click()
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.wait_for_url(f"{base}/signin/*")

    # two-step verification on, with two addresses to choose from
    await runtime.accounts.set_two_step(EMMA, True)
    await add_second_email(runtime, sink, "emma.backup@example.org")

    # sign in: name, password, then verify your identity
    await screenshot(page, "signin")
    assert await accessibility_violations(page) == []
    await fill_and_submit(page, "Email address or phone number", EMMA, "Next")
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
    await resend.wait_for(state="visible", timeout=10_000)  # once the countdown has run out
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
    await page.get_by_role("button", name=f"Switch to {EMMA}").click()
    await page.wait_for_selector(f"strong.identity:text('{EMMA}')")
    await page.get_by_role("button", name=f"Switch to {TARO}").click()
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
    await page.get_by_label("メールアドレスまたは電話番号").fill("nobody@example.com")
    await page.get_by_role("button", name="次へ").click()
    await page.locator("p.identity", has_text="nobody@example.com").wait_for()
    await screenshot(page, "password")
    await page.goto(f"{base}/signup")
    await screenshot(page, "signup")
    await page.goto(f"{base}/recovery")
    await screenshot(page, "recovery")

    await page.goto(f"{base}/signin")
    await fill_and_submit(page, "メールアドレスまたは電話番号", EMMA, "次へ")
    await page.get_by_role("button", name="em*****@example.com にコードをメールで送信").click()
    wait = page.locator("p.resend-wait")
    await wait.wait_for()
    assert await page.get_by_role("button", name="コードを再送信").is_hidden()
    assert "秒で、新しいコードを送信できます。" in await wait.inner_text()
    await screenshot(page, "code")
    # the countdown script runs (scripts from 'self' work): the sentence becomes the button
    await page.get_by_role("button", name="コードを再送信").wait_for(state="visible")
    assert await wait.is_hidden()
    await page.get_by_label("セキュリティコード").fill(await sink.wait_for_code(EMMA))
    await page.get_by_role("button", name="確認").click()
    await page.wait_for_url(f"{base}/account")
    await screenshot(page, "account")
    await context.close()
    assert refused == []


# --- the account page, the picker, signing out, the page chrome (both languages) -----------

WORDS = SIGN_IN_WORDS
LONG = "emma.account-security-backup@accountprotection.example.com"

ONE_ROW_AND_NO_OVERFLOW = """() => {
  const kids = [...document.querySelectorAll('header.top > *')]
    .filter(e => e.getClientRects().length && !e.classList.contains('skip'))
    .map(e => e.getBoundingClientRect());
  const oneRow = kids.every(a => kids.every(b => a.top < b.bottom && b.top < a.bottom));
  return [oneRow, document.documentElement.scrollWidth];
}"""


async def shoot(page: Page, name: str) -> None:
    """Check the header keeps to one row and nothing overflows at 360 px, then screenshot."""
    await page.set_viewport_size({"width": 360, "height": 800})
    assert await page.evaluate(ONE_ROW_AND_NO_OVERFLOW) == [True, 360], name
    await screenshot(page, name)


async def sign_in_as(page: Page, base: str, name: str, lang: str) -> None:
    words = WORDS[lang]
    await page.goto(f"{base}/signin")
    await fill_and_submit(page, words["name"], name, words["next"])
    await fill_and_submit(page, words["password"], PASSWORD, words["sign_in"])
    await page.wait_for_url(f"{base}/account")


@pytest.mark.parametrize("live", [{"dev": True}], indirect=True)
@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_account_picker_sign_out_and_chrome(
    live: tuple[str, Runtime],
    chromium: Any,
    sink: Sink,
    clock: ShiftableClock,
    axe: Path,
    lang: str,
) -> None:
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    await runtime.accounts.create(TARO, PASSWORD, email_verified=True)
    await add_second_email(runtime, sink, LONG)
    context = await chromium.new_context(
        locale="ja-JP" if lang == "ja" else "en-US",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,
    )
    page = await context.new_page()

    await page.goto(f"{base}/")
    assert await page.evaluate("document.documentElement.lang") == lang
    await shoot(page, "home")
    await page.goto(f"{base}/recovery")
    await shoot(page, "recovery")
    await page.goto(f"{base}/no-such-page")
    await shoot(page, "error")

    await sign_in_as(page, base, EMMA, lang)
    await sign_in_as(page, base, TARO, lang)
    await page.goto(f"{base}/account")  # the proofs of the current account: Taro's
    switch = f"Switch to {EMMA}" if lang == "en" else f"{EMMA} に切り替える"
    await page.get_by_role("button", name=switch).click()
    await page.wait_for_selector(f"strong.identity:text('{EMMA}')")
    assert LONG in await page.locator("main").inner_text()  # fresh: in full
    # the picker's rows are the same height
    heights = await page.eval_on_selector_all(
        "ul.accounts li", "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    assert len(heights) == 2
    assert heights[0] == heights[1]
    # at 360 px the long address breaks before its "@", each side whole (not at a hyphen)
    await page.set_viewport_size({"width": 360, "height": 800})
    parts = await page.eval_on_selector(
        f".address:has-text('{LONG}')",
        "a => [...a.querySelectorAll('.nobr')]"
        ".map(p => [p.textContent, p.getClientRects().length])",
    )
    assert parts == [["emma.account-security-backup", 1], ["accountprotection.example.com", 1]]
    await shoot(page, "account")
    assert await accessibility_violations(page) == []

    label = f"Sign out of {TARO}" if lang == "en" else f"{TARO} からサインアウト"
    await page.get_by_role("link", name=label).click()
    heading = f"Sign out of {TARO}?" if lang == "en" else f"{TARO} からサインアウトしますか？"
    assert await page.locator("h1").inner_text() == heading
    await shoot(page, "signout")
    assert await accessibility_violations(page) == []
    await page.get_by_role("link", name="Cancel" if lang == "en" else "キャンセル").click()
    await page.wait_for_url(f"{base}/account")

    await page.goto(f"{base}/signout?scope=all")
    await shoot(page, "signout-all")
    await page.go_back()

    clock.advance(seconds=601)  # the sign-in is no longer fresh: own addresses masked
    await page.reload()
    text = await page.locator("main").inner_text()
    assert LONG not in text
    assert "em*****@accountprotection.example.com" in text
    await shoot(page, "account-masked")

    await page.get_by_role("link", name=label.replace(TARO, "ta*****@example.jp")).click()
    await page.get_by_role("button", name="Sign out" if lang == "en" else "サインアウト").click()
    await page.wait_for_url(f"{base}/account")
    assert await page.locator("ul.accounts li").count() == 1
    await context.close()


# --- the flow pages: errors on their fields, the way back, whose sign-in, codes (h3) ---------

FLOW_ZONES = {"en": ("America/New_York", "(Eastern Time)"), "ja": ("Asia/Tokyo", "（日本時間）")}


@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_flow_pages_errors_way_back_account_and_codes(
    live: tuple[str, Runtime], chromium: Any, sink: Sink, axe: Path, lang: str
) -> None:
    base, runtime = live
    t = functools.partial(gettext, lang)
    zone, zone_label = FLOW_ZONES[lang]
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    await add_second_email(runtime, sink, "emma.backup@example.org")
    await runtime.accounts.set_two_step(EMMA, True)
    context = await chromium.new_context(
        locale="ja-JP" if lang == "ja" else "en-US",
        timezone_id=zone,
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,
    )
    page = await context.new_page()

    # sign-up: an error is marked on its field, which has the focus
    await page.goto(f"{base}/signup")
    await page.get_by_label(t("Email address")).fill("taro@example.jp")
    await page.get_by_label(t("Password"), exact=True).fill("short")
    await page.get_by_role("button", name=t("Next")).click()
    await page.locator("p.field-error").wait_for()
    await focus_lands(page, "id", "password")
    assert await page.get_attribute("#password", "aria-invalid") == "true"
    await screenshot(page, "flow-details-error")
    assert await accessibility_violations(page) == []

    # a typo in the address: the code page shows it, and leads back to correct it
    typo = "taro@exmaple.jp"
    await page.get_by_label(t("Email address")).fill(typo)
    await page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
    await page.get_by_role("button", name=t("Next")).click()
    await page.locator("p.resend-wait").wait_for()
    assert await page.locator("p.identity").inner_text() == typo
    await screenshot(page, "flow-signup-code")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name=t("Change the address")).click()
    address = page.get_by_label(t("Email address"))
    await address.wait_for()
    assert await address.input_value() == typo
    await address.fill(TARO)
    await page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
    await page.get_by_role("button", name=t("Next")).click()
    await page.get_by_label(t("Security code")).fill(await sink.wait_for_code(TARO))
    await page.get_by_role("button", name=t("Verify"), exact=True).click()
    await page.wait_for_url(f"{base}/account")

    # sign in with two-step verification: every verify page names the account
    await page.goto(f"{base}/signin")
    await fill_and_submit(page, t("Email address or phone number"), EMMA, t("Next"))
    await fill_and_submit(page, t("Password"), PASSWORD, t("Sign in"))
    await page.locator("label.option").first.wait_for()
    assert await page.locator("p.identity").inner_text() == EMMA
    await screenshot(page, "flow-verify-options")
    assert await accessibility_violations(page) == []
    await page.locator("label.option", has_text="example.org").click()
    await page.get_by_role("button", name=t("Send a code"), exact=True).click()
    await fill_and_submit(page, t("Email address"), "emma@example.org", t("Send code"))
    await page.locator("p.field-error").wait_for()
    await focus_lands(page, "id", "address")
    assert await page.locator("p.identity").inner_text() == EMMA
    await screenshot(page, "flow-verify-confirm-error")
    assert await accessibility_violations(page) == []
    await fill_and_submit(page, t("Email address"), "emma.backup@example.org", t("Send code"))
    await page.locator("p.resend-wait").wait_for()
    assert zone_label in await page.locator("main").inner_text()  # the browser's time zone
    await screenshot(page, "flow-verify-code")

    # five wrong codes burn it: the page says so, and a new code can be sent at once
    code = await sink.wait_for_code("emma.backup@example.org", count=2)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        await fill_and_submit(page, t("Security code"), wrong, t("Verify"))
        await page.locator("p.field-error, #code-state").first.wait_for()
    assert await page.locator("#code").count() == 0
    send_new = page.get_by_role("button", name=t("Send a new code"))
    assert await send_new.is_enabled()
    await focus_lands(page, "textContent", t("Send a new code"))
    assert zone_label not in await page.locator("main").inner_text()  # no expiry shown
    await screenshot(page, "flow-code-burned")
    assert await accessibility_violations(page) == []
    await send_new.click()
    new = await sink.wait_for_code("emma.backup@example.org", count=3)
    await fill_and_submit(page, t("Security code"), new, t("Verify"))
    await page.wait_for_url(f"{base}/account")

    # a page of a flow that cannot go on
    await page.goto(f"{base}/signin/00000000-0000-4000-8000-000000000000")
    await screenshot(page, "flow-gone")
    assert (await page.locator("main").inner_text()).count(t("Start again")) == 1
    await context.close()
