"""Passkeys in Chromium with a virtual authenticator (Chrome DevTools Protocol: WebAuthn
domain; resident keys, user verification): register one from the security info page, sign
out, sign in from the name field's autofill list; sign in with the button; use one as the
second step; remove it. Screenshots at 360 and 1280 px, accessibility checks.

A virtual authenticator answers a conditional (autofill) request at once, without a list to
pick from, so the sign-in page signs in as soon as it loads. Each path is therefore exercised
on its own: the autofill test signs out, lands on the sign-in page and lets that request
answer (nothing is clicked); the button test
runs in a browser that says it has no autofill for passkeys (an init script makes
`isConditionalMediationAvailable()` answer false, as browsers without it do), so only the
button can ask. Which one answered is read from the form the page posts (`mediation`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from honnin.runtime import Runtime
from tests.browser.conftest import accessibility_violations, code_to, screenshot
from tests.support.smtp import Sink

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"
NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


async def with_authenticator(context: BrowserContext, page: Page) -> Any:
    """A platform authenticator that keeps passkeys and verifies its person."""
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "ctap2Version": "ctap2_1",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def passkey_posts(page: Page) -> list[str]:
    """The bodies of the passkey forms the page posts (to read `mediation` from)."""
    posted: list[str] = []

    def record(request: Any) -> None:
        body = request.post_data or ""
        if request.method == "POST" and "action=submit_passkey" in body:
            posted.append(body)

    page.on("request", record)
    return posted


async def sign_in_with_password(page: Page, base: str, words: dict[str, str]) -> None:
    await page.goto(f"{base}/signin")
    await page.get_by_label(words["name"]).fill(EMMA)
    await page.get_by_role("button", name=words["next"]).click()
    await page.get_by_label(words["password"], exact=True).fill(PASSWORD)
    await page.get_by_role("button", name=words["sign_in"], exact=True).click()


async def add_passkey(page: Page, base: str, words: dict[str, str]) -> None:
    await page.goto(f"{base}/account/security")
    await page.get_by_label(words["key_name"]).fill(words["laptop"])
    await page.get_by_role("button", name=words["add"]).click()
    await page.get_by_role("heading", name=words["add"]).wait_for()
    await screenshot(page, "passkey-add")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name=words["create"]).click()
    await page.get_by_text(words["added"]).wait_for()


async def sign_out(page: Page, base: str, button: str) -> None:
    await page.goto(f"{base}/account")
    await page.locator('a[href^="/signout?session="]').click()
    async with page.expect_navigation(url=f"{base}/signin/**"):  # the sign-out's answer
        await page.get_by_role("button", name=button, exact=True).click()


EN = {
    "name": "Email address or phone number",
    "next": "Next",
    "password": "Password",
    "sign_in": "Sign in",
    "key_name": "Name of the passkey (optional)",
    "laptop": "laptop",
    "add": "Add a passkey",
    "create": "Create a passkey",
    "added": "The passkey is added",
    "with_passkey": "Sign in with a passkey",
    "not_now": "Not now",
    "sign_out": "Sign out",
    "option": "Use a passkey: your fingerprint, face, screen lock or security key",
    "continue": "Continue",
    "verify_heading": "Use your passkey",
    "use": "Use a passkey",
    "remove": "Remove laptop",
    "remove_heading": "Remove the passkey “laptop”?",
    "confirm_remove": "Remove",
    "removed": "The passkey was removed",
}
JA = {
    "name": "メールアドレスまたは電話番号",
    "next": "次へ",
    "password": "パスワード",
    "sign_in": "サインイン",
    "key_name": "パスキーの名前（省略可）",
    "laptop": "ノートパソコン",
    "add": "パスキーを追加",
    "create": "パスキーを作成",
    "added": "パスキーを追加しました",
    "with_passkey": "パスキーでサインイン",
    "sign_out": "サインアウト",
    "not_now": "今はしない",
    "option": "パスキーを使う（指紋・顔認証・画面ロック・セキュリティキー）",
    "continue": "次へ",
    "verify_heading": "パスキーで確認",
    "use": "パスキーを使う",
    "remove": "ノートパソコン を削除",
    "remove_heading": "パスキー「ノートパソコン」を削除しますか？",
    "confirm_remove": "削除",
    "removed": "パスキーを削除しました",
}


async def test_register_sign_out_and_sign_in_from_the_autofill_list(
    live: tuple[str, Runtime], context: BrowserContext, sink: Sink, axe: Path
) -> None:
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    page = await context.new_page()
    await with_authenticator(context, page)
    await page.goto(f"{base}/signin")
    await page.get_by_role("button", name=EN["with_passkey"]).wait_for()  # shown: it can
    assert await page.get_by_label(EN["name"]).get_attribute("autocomplete") == (
        "username webauthn"
    )
    await screenshot(page, "signin-passkey")
    assert await accessibility_violations(page) == []
    await sign_in_with_password(page, base, EN)
    await page.wait_for_url(f"{base}/account")
    await add_passkey(page, base, EN)
    await screenshot(page, "passkey-listed")
    assert await accessibility_violations(page) == []

    posted = passkey_posts(page)
    await sign_out(page, base, "Sign out")  # it lands on the sign-in page, whose autofill
    await page.wait_for_url(f"{base}/account")  # request the authenticator answers at once
    assert len(posted) == 1
    assert "mediation=autofill" in posted[0]


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_sign_in_with_the_button_use_it_as_second_step_and_remove_it(
    lang: str, live: tuple[str, Runtime], chromium: Browser, sink: Sink, axe: Path
) -> None:
    base, runtime = live
    words = JA if lang == "ja" else EN
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True, locale=lang)
    context = await chromium.new_context(
        locale="ja-JP" if lang == "ja" else "en-US",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,
    )
    await context.add_init_script(NO_AUTOFILL)  # a browser without passkey autofill
    page = await context.new_page()
    await with_authenticator(context, page)
    await sign_in_with_password(page, base, words)
    await page.wait_for_url(f"{base}/account")
    await add_passkey(page, base, words)
    await screenshot(page, "passkey-listed")

    await sign_out(page, base, words["sign_out"])
    posted = passkey_posts(page)
    await page.goto(f"{base}/signin")
    await screenshot(page, "signin-passkey")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name=words["with_passkey"]).click()
    await page.wait_for_url(f"{base}/account")
    assert len(posted) == 1
    assert "mediation=button" in posted[0]

    await runtime.accounts.set_two_step(EMMA, True)  # its address and the passkey: two ways
    await sign_in_with_password(page, base, words)
    await page.get_by_label(words["option"]).check()
    await page.get_by_role("button", name=words["continue"]).click()
    await page.get_by_role("heading", name=words["verify_heading"]).wait_for()
    await screenshot(page, "passkey-verify")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name=words["use"], exact=True).click()
    await page.wait_for_url(f"{base}/account")

    await runtime.accounts.set_two_step(EMMA, False)  # so that the passkey may go
    await page.goto(f"{base}/account/security")
    await page.get_by_role("button", name=words["remove"]).click()
    await page.get_by_role("heading", name=words["remove_heading"]).wait_for()
    await screenshot(page, "passkey-remove")
    assert await accessibility_violations(page) == []
    await page.get_by_role("button", name=words["confirm_remove"], exact=True).click()
    await page.get_by_text(words["removed"]).wait_for()
    await context.close()


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_after_a_code_the_account_page_offers_a_passkey(
    lang: str, live: tuple[str, Runtime], chromium: Browser, sink: Sink, axe: Path
) -> None:
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True, locale=lang)
    words = JA if lang == "ja" else EN
    context = await chromium.new_context(
        locale="ja-JP" if lang == "ja" else "en-US",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,
    )
    page = await context.new_page()
    await page.goto(f"{base}/signin")
    await page.get_by_label(words["name"]).fill(EMMA)
    await page.get_by_role("button", name=words["next"]).click()
    await page.locator("form:has(input[value=send_code]) button").first.click()
    await page.locator("input[autocomplete=one-time-code]").fill(await code_to(sink, EMMA))
    await page.locator("form:has(input[name=code]) button[type=submit]").click()
    await page.wait_for_url(f"{base}/account")
    offer = page.locator("[data-passkey-offer]")
    await offer.wait_for()  # shown: this browser can make one
    await screenshot(page, "passkey-offer")
    assert await accessibility_violations(page) == []
    await offer.get_by_role("button", name=words["not_now"]).click()
    await page.wait_for_url(f"{base}/account")
    assert await page.locator("[data-passkey-offer]").count() == 0
    await context.close()
