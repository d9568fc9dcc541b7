"""An application's sign-in through honnin's pages in Chromium, with the real
Content-Security-Policy (no `bypass_csp`): Chromium applies `form-action` to the redirects
after a form's POST, so the sign-in's last POST and the consent's must be allowed to end at
the application's redirect URI. In English and (asked for with `ui_locales`) in Japanese, the
account picker and the consent page, with screenshots at 360 and 1280 px."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import secrets
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import uvicorn
from playwright.async_api import Browser, Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from honnin.oidc.clients import Registration
from honnin.runtime import Runtime
from tests.browser.conftest import screenshot, sign_in_with_password
from tests.support.smtp import free_port

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"


@pytest.fixture
async def application() -> AsyncIterator[str]:
    """The application's redirect URI, on another site than honnin's (127.0.0.1, not
    localhost): a page that shows what came back; and `/send`, a page whose form POSTs its
    query's parameters to `to` (as an application may send an authorization or a logout
    request)."""

    async def callback(request: Request) -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><title>Back</title><p>{request.url.query}</p>")

    async def send(request: Request) -> HTMLResponse:
        params = dict(request.query_params)
        to = html.escape(params.pop("to"))
        fields = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        form = f'<form method="post" action="{to}">{fields}<button>Send</button></form>'
        return HTMLResponse(f"<!doctype html><title>Send</title>{form}")

    port = free_port()
    app = Starlette(routes=[Route("/callback", callback), Route("/send", send)])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}/callback"
    server.should_exit = True
    await task


async def post_from_the_application(page: Page, application: str, to: str, query: str) -> None:
    """The application's page POSTs the request to honnin, cross-site (no SameSite=Lax
    cookie goes with it)."""
    sender = application.replace("/callback", "/send")
    await page.goto(f"{sender}?{urlencode({'to': to})}&{query}")
    await page.get_by_role("button", name="Send").click()


def authorize_query(client_id: str, redirect_uri: str, **extra: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid email offline_access",
        "state": "xyz",
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        **extra,
    }
    return urlencode(query)


def authorize_url(base: str, client_id: str, redirect_uri: str, **extra: str) -> str:
    return f"{base}/oauth/authorize?{authorize_query(client_id, redirect_uri, **extra)}"


WORDS = {
    "en": {
        "consent": "Sign in to Example app",
        "allow": "Allow",
        "pick": "Choose an account",
        "continue": "to continue to Example app",
        "apps": "Apps that can sign you in",
        "remove": "Remove the access of Example app",
        "logout": "Sign out of Example?",
        "sign_out": "Sign out",
        "signed_out": "You've signed out",
    },
    "ja": {
        "consent": "Example appにサインイン",
        "allow": "許可",
        "pick": "アカウントの選択",
        "continue": "Example appに移動します",
        "apps": "このアカウントでサインインできるアプリ",
        "remove": "Example appのアクセスを削除",
        "logout": "Exampleからサインアウトしますか？",
        "sign_out": "サインアウト",
        "signed_out": "サインアウトしました",
    },
}


@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_an_application_signs_its_user_in_through_the_pages_with_the_real_csp(
    live: tuple[str, Runtime], chromium: Browser, application: str, lang: str
) -> None:
    base, runtime = live
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    made = await runtime.oidc_clients.create(
        Registration(name="Example app", redirect_uris=[application])
    )
    words = WORDS[lang]
    context = await chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    client_id = str(made.client.id)
    await page.goto(authorize_url(base, client_id, application, ui_locales=lang))
    await page.get_by_text(words["continue"]).wait_for()
    await screenshot(page, "oidc-signin")
    await sign_in_with_password(page, lang, EMMA, PASSWORD)
    await page.get_by_role("heading", name=words["consent"]).wait_for()
    await screenshot(page, "oidc-consent")
    async with page.expect_navigation(url=f"{application}?**"):
        await page.get_by_role("button", name=words["allow"]).click()
    back = parse_qs(urlsplit(page.url).query)
    assert back["state"] == ["xyz"]
    assert back["code"][0]
    assert blocked == []
    # asked to choose: the account picker, then straight back (allowed already)
    await page.goto(authorize_url(base, client_id, application, prompt="select_account"))
    await page.get_by_role("heading", name=words["pick"]).wait_for()
    await screenshot(page, "oidc-pick")
    async with page.expect_navigation(url=f"{application}?**"):
        await page.get_by_role("button", name="emma@example.com").click()
    assert "code" in parse_qs(urlsplit(page.url).query)
    assert blocked == []
    # the application POSTs the request from its own site: the browser's sessions still
    # answer (honnin gives no new device token to a POST that came without its cookies)
    silent = authorize_query(client_id, application, prompt="none")
    async with page.expect_navigation(url=f"{application}?**"):
        await post_from_the_application(page, application, f"{base}/oauth/authorize", silent)
    assert "code" in parse_qs(urlsplit(page.url).query), page.url
    # the account page lists it, and can take its access away
    await page.goto(f"{base}/account")
    await page.get_by_role("heading", name=words["apps"]).wait_for()
    await screenshot(page, "oidc-account-apps")
    await page.get_by_role("button", name=words["remove"]).click()
    await page.get_by_role("heading", name=words["apps"]).wait_for(state="detached")
    # the application asks to sign out (a POST from its site, without an ID token): the
    # person confirms first
    logout = urlencode({"client_id": client_id})
    await post_from_the_application(page, application, f"{base}/oauth/logout", logout)
    await page.get_by_role("heading", name=words["logout"]).wait_for()
    await screenshot(page, "oidc-logout")
    await page.get_by_role("button", name=words["sign_out"], exact=True).click()
    await page.get_by_role("heading", name=words["signed_out"]).wait_for()
    await screenshot(page, "oidc-signed-out")
    await page.goto(f"{base}/account")
    assert "/signin" in page.url
    assert blocked == []
    await context.close()
