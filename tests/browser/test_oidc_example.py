"""The example application (examples/oidc_app) in Chromium against honnin, with the real
Content-Security-Policy: it asks for a sign-in in two steps (Emma's two-step verification is
off), honnin asks for the password and then a code to her address, she allows the app, the
app shows the ID token's claims, and signing out of the app signs her out of honnin too. In
English and Japanese (the app passes `ui_locales`), with screenshots at 360 and 1280 px."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest
import uvicorn
from playwright.async_api import Browser

from honnin.oidc.clients import Registration
from honnin.runtime import Runtime
from tests.browser.conftest import screenshot, sign_in_with_password
from tests.support.smtp import Sink, free_port

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "oidc_app" / "app.py"

WORDS = {
    "en": {
        "verify": "Verify your identity",
        "send_a_code": "Send a code",
        "address": "Email address",
        "send_code": "Send code",
        "code": "Security code",
        "check": "Verify",
        "consent": "Sign in to Example app",
        "allow": "Allow",
    },
    "ja": {
        "verify": "本人確認",
        "send_a_code": "コードを送信",
        "address": "メールアドレス",
        "send_code": "コードを送信",
        "code": "セキュリティコード",
        "check": "確認",
        "consent": "Example appにサインイン",
        "allow": "許可",
    },
}


def example_module() -> ModuleType:
    """examples/oidc_app/app.py, as its own README runs it (it is no package of ours)."""
    spec = importlib.util.spec_from_file_location("oidc_example_app", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def example(live: tuple[str, Runtime]) -> AsyncIterator[str]:
    """The example application on a loopback port, registered with honnin: its address."""
    base, runtime = live
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    made = await runtime.oidc_clients.create(
        Registration(
            name="Example app",
            redirect_uris=[f"{address}/callback"],
            post_logout_redirect_uris=[f"{address}/"],
        )
    )
    assert made.secret is not None
    app = example_module().create_app(base, str(made.client.id), made.secret, address)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield address
    server.should_exit = True
    await task


@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_the_example_app_signs_in_in_two_steps_shows_the_claims_and_signs_out(
    live: tuple[str, Runtime], chromium: Browser, example: str, sink: Sink, lang: str
) -> None:
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    words = WORDS[lang]
    context = await chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    await page.goto(example)
    await page.goto(f"{example}/login?two_steps=1&lang={lang}")  # the app's second link
    await sign_in_with_password(page, lang, EMMA, PASSWORD)
    # the app asked for two steps: honnin asks for a second one, though two-step is off
    await page.get_by_role("heading", name=words["verify"]).wait_for()
    await screenshot(page, "oidc-example-second-step")
    await page.get_by_role("button", name=words["send_a_code"], exact=True).click()
    await page.get_by_label(words["address"], exact=True).fill(EMMA)
    await page.get_by_role("button", name=words["send_code"], exact=True).click()
    await page.get_by_label(words["code"]).fill(await sink.wait_for_code(EMMA))
    await page.get_by_role("button", name=words["check"], exact=True).click()
    await page.get_by_role("heading", name=words["consent"]).wait_for()
    async with page.expect_navigation(url=f"{example}/"):
        await page.get_by_role("button", name=words["allow"]).click()
    # back in the app: the ID token's claims say two steps, and which
    await page.get_by_role("heading", name="Signed in").wait_for()
    claims = await page.locator("pre").inner_text()
    assert '"acr": "urn:honnin:acr:2fa"' in claims
    assert '"mfa"' in claims
    assert '"pwd"' in claims
    assert f'"email": "{EMMA}"' in claims
    # signing out of the app signs out of honnin too, and comes back
    async with page.expect_navigation(url=f"{example}/"):
        await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("link", name="Sign in with honnin", exact=True).wait_for()
    await page.goto(f"{base}/account")
    assert "/signin" in page.url
    assert blocked == []
    await context.close()
