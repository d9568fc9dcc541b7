"""Every state-changing POST of the pages refuses a form without its CSRF token, and one carrying
another browser's token, and changes nothing.

The POST routes are read from the app itself: a new one without a case here fails
`test_every_post_route_of_the_pages_has_a_case`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Route

from honnin.oidc.clients import Registration
from honnin.runtime import Runtime
from tests.support.journeys import EMMA, PASSWORD, by_code, client_for, to_password
from tests.support.pages import Page, PageClient
from tests.support.settings import titled
from tests.support.smtp import Sink

TARO = "taro@example.jp"
NEWCOMER = "newcomer@example.com"


@dataclass
class Attempt:
    """A form as the browser would post it (its token aside), and how to see that it did
    nothing."""

    action: str
    fields: dict[str, str]
    unchanged: Callable[[], Awaitable[None]]


async def signed_in_as_emma_and_taro(browser: PageClient, runtime: Runtime) -> Page:
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    await runtime.accounts.create(TARO, PASSWORD, email_verified=True)
    await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    page = await browser.submit(
        await to_password(browser, TARO), "submit_password", password=PASSWORD
    )
    assert f"Signed in as {TARO}" in page.text
    return page


async def sign_in_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    page = await to_password(browser)
    form = page.form("submit_password")

    async def unchanged() -> None:
        again = await browser.get(page.path)
        assert again.has("submit_password")  # still asking for the password
        assert (await browser.get("/account")).path.startswith("/signin")

    return Attempt(form.action, {**form.fields, "password": PASSWORD}, unchanged)


async def sign_up_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    page = await browser.get("/signup")
    form = page.form("submit_details")
    fields = {**form.fields, "email": NEWCOMER, "password": PASSWORD}
    if ("action", "submit_details") in form.buttons:
        fields["action"] = "submit_details"

    async def unchanged() -> None:
        assert (await browser.get(page.path)).has("submit_details")
        async with runtime.db.transaction(write=False) as tx:
            assert await runtime.accounts.record_named(tx, NEWCOMER) is None
        assert sink.to(NEWCOMER) == []

    return Attempt(form.action, fields, unchanged)


async def switch_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    page = await signed_in_as_emma_and_taro(browser, runtime)
    form = next(f for f in page.forms() if f.action == "/account/switch")

    async def unchanged() -> None:
        assert f"Signed in as {TARO}" in (await browser.get("/account")).text

    return Attempt(form.action, form.fields, unchanged)


async def sign_out_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    await signed_in_as_emma_and_taro(browser, runtime)
    page = await browser.get("/signout?scope=all")
    form = next(f for f in page.forms() if f.action == "/signout")

    async def unchanged() -> None:
        account = await browser.get("/account")
        assert f"Signed in as {TARO}" in account.text
        assert EMMA in account.text  # both still signed in

    return Attempt(form.action, {**form.fields, "scope": "all"}, unchanged)


async def language_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    page = await browser.get("/signin")
    form = next(f for f in page.forms() if f.action == "/lang")

    async def unchanged() -> None:
        assert "lang" not in browser.client.cookies
        assert (await browser.get("/signin")).html.startswith('<!DOCTYPE html>\n<html lang="en">')

    return Attempt(form.action, {**form.fields, "locale": "ja"}, unchanged)


async def security_info_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    page = await browser.get("/account/security")
    form = page.form("add_proof")

    async def unchanged() -> None:
        assert [p.hint for p in (await runtime.accounts.show(EMMA)).proofs] == [
            "em*****@example.com"
        ]
        assert sink.to(NEWCOMER) == []

    return Attempt(form.action, {**form.fields, "address": NEWCOMER}, unchanged)


async def cancel_change_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    """The "cancel the removal" link of a notice: a page without a sign-in."""
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    page = await browser.submit(await browser.get("/account/security"), "remove_proof")
    await browser.submit(page, "confirm")
    notice = await titled(sink, EMMA, "Security info will be removed from your Example account")
    link = re.search(r"http://\S+(/account/changes/\S+)", notice.text)
    assert link is not None
    page = await browser.get(link.group(1))
    form = next(f for f in page.forms() if f.action.startswith("/account/changes/"))

    async def unchanged() -> None:
        async with runtime.db.transaction(write=False) as tx:
            assert len(await runtime.jobs.pending(tx)) == 1

    return Attempt(form.action, form.fields, unchanged)


async def password_reset_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    page = await browser.get("/password/reset")
    form = page.form("submit_identifier")

    async def unchanged() -> None:
        assert (await browser.get(page.path)).has("submit_identifier")

    return Attempt(form.action, {**form.fields, "name": EMMA}, unchanged)


async def secure_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    """The "secure my account" link of a new browser's notice: a page without a sign-in."""
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    notice = await titled(sink, EMMA, "New sign-in to your Example account")
    link = re.search(r"http://\S+(/account/secure/\S+)", notice.text)
    assert link is not None
    page = await browser.get(link.group(1))
    form = next(f for f in page.forms() if f.action.startswith("/account/secure/"))

    async def unchanged() -> None:
        assert (await browser.get("/account")).path == "/account"  # still signed in

    return Attempt(form.action, form.fields, unchanged)


async def recovery_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    page = await browser.get("/recovery")
    form = page.form("submit_identifier")

    async def unchanged() -> None:
        assert (await browser.get(page.path)).has("submit_identifier")

    return Attempt(form.action, {**form.fields, "name": EMMA}, unchanged)


async def passkey_offer_attempt(
    browser: PageClient, runtime: Runtime, sink: Sink, route: str
) -> Attempt:
    """The offer of a passkey after a sign-in by a code: "Add a passkey", "Not now"."""
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    page = await by_code(browser, sink)
    form = next(f for f in page.forms() if f.action == route)

    async def unchanged() -> None:
        assert "data-passkey-offer" in (await browser.get("/account")).html  # still offered

    return Attempt(form.action, form.fields, unchanged)


async def add_passkey_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    return await passkey_offer_attempt(browser, runtime, sink, "/account/security/passkey")


async def decline_passkey_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    return await passkey_offer_attempt(browser, runtime, sink, "/account/passkey-offer")


async def consent_page(browser: PageClient, runtime: Runtime, sink: Sink) -> Page:
    """Emma, signed in, on an application's consent page."""
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    made = await runtime.oidc_clients.create(
        Registration(name="Example app", redirect_uris=["https://app.example/callback"])
    )
    await by_code(browser, sink)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": str(made.client.id),
            "redirect_uri": "https://app.example/callback",
            "scope": "openid",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
    )
    page = await browser.get(f"/oauth/authorize?{query}")
    assert page.has("allow"), page.text
    return page


async def consent_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    page = await consent_page(browser, runtime, sink)
    form = page.form("allow")

    async def unchanged() -> None:
        assert "Apps that can sign you in" not in (await browser.get("/account")).text

    return Attempt(form.action, {**form.fields, "action": "allow"}, unchanged)


async def remove_app_access_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    page = await consent_page(browser, runtime, sink)
    form = page.form("allow")
    allowed = await browser.client.post(form.action, data={**form.fields, "action": "allow"})
    assert allowed.headers["location"].startswith("https://app.example/callback?code=")
    account = await browser.get("/account")
    remove = next(f for f in account.forms() if f.action == "/account/apps")

    async def unchanged() -> None:
        assert "Apps that can sign you in" in (await browser.get("/account")).text

    return Attempt(remove.action, remove.fields, unchanged)


async def confirm_logout_attempt(browser: PageClient, runtime: Runtime, sink: Sink) -> Attempt:
    """An application sent the browser to log out without an ID token: the person confirms."""
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    made = await runtime.oidc_clients.create(
        Registration(
            name="Example app",
            redirect_uris=["https://app.example/callback"],
            post_logout_redirect_uris=["https://app.example/bye"],
        )
    )
    await by_code(browser, sink)
    query = urlencode(
        {"client_id": str(made.client.id), "post_logout_redirect_uri": "https://app.example/bye"}
    )
    page = await browser.get(f"/oauth/logout?{query}")
    form = next(f for f in page.forms() if f.action == "/oauth/logout/confirm")

    async def unchanged() -> None:
        assert (await browser.get("/account")).path == "/account"  # still signed in

    return Attempt(form.action, form.fields, unchanged)


Setup = Callable[[PageClient, Runtime, Sink], Awaitable[Attempt]]
CASES: dict[str, Setup] = {
    "/signin/{flow_id}": sign_in_attempt,
    "/signup/{flow_id}": sign_up_attempt,
    "/account/switch": switch_attempt,
    "/signout": sign_out_attempt,
    "/lang": language_attempt,
    "/account/security/{flow_id}": security_info_attempt,
    "/account/changes/{change_id}": cancel_change_attempt,
    "/password/reset/{flow_id}": password_reset_attempt,
    "/recovery/{flow_id}": recovery_attempt,
    "/account/secure/{session_id}": secure_attempt,
    "/account/security/passkey": add_passkey_attempt,
    "/account/passkey-offer": decline_passkey_attempt,
    "/oauth/authorize/{request_id}": consent_attempt,
    "/account/apps": remove_app_access_attempt,
    "/oauth/logout/confirm": confirm_logout_attempt,
}


def _routes(routes: Iterable[BaseRoute]) -> Iterator[Route]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)
        elif isinstance(route, Route):
            yield route


@pytest.mark.parametrize("settings_overrides", [{"dev": True}, {}], ids=["dev", "production"])
def test_every_post_route_of_the_pages_has_a_case(app: FastAPI) -> None:
    posts = {
        route.path
        for route in _routes(app.router.routes)
        if "POST" in (route.methods or ()) and not route.path.startswith("/api/")
    }
    # the password meter asks and changes nothing; its CSRF check: test_password_meter.py
    # not forms: the meter's JSON, and the OpenID Connect endpoints applications call with
    # their own credentials (a client's secret or assertion, a bearer token); and the logout
    # request an application sends a browser with (cross-site by design: an ID token honnin
    # issued is its proof; without one it only shows the confirmation, whose POST has a case)
    assert posts == set(CASES) | {
        "/password/strength",
        "/oauth/token",
        "/oauth/userinfo",
        "/oauth/revoke",
        "/oauth/introspect",
        "/oauth/logout",
        "/oauth/authorize",  # the same: a form POST an application sends, redirected to a GET
    }


async def other_browsers_token(app: FastAPI) -> str:
    async with client_for(app, ip="192.0.2.11") as client:
        page = await PageClient(client).get("/signin")
        token = next(f for f in page.forms() if f.action == "/lang").fields["csrf"]
    assert token
    return token


@pytest.mark.parametrize("token", ["missing", "another browser's"])
@pytest.mark.parametrize("route", list(CASES))
async def test_a_post_without_this_browsers_token_is_refused_and_changes_nothing(
    app: FastAPI,
    runtime: Runtime,
    browser: PageClient,
    sink: Sink,
    route: str,
    token: str,
) -> None:
    attempt = await CASES[route](browser, runtime, sink)
    own = attempt.fields.pop("csrf")
    fields: dict[str, Any] = dict(attempt.fields)
    if token == "another browser's":
        fields["csrf"] = await other_browsers_token(app)
        assert fields["csrf"] != own
    response = await browser.client.post(attempt.action, data=fields)
    assert response.status_code == 403
    assert "This form has expired or cookies are blocked in this browser." in response.text
    await attempt.unchanged()
    # and the same form with its own token goes through (the case is a real state change)
    accepted = await browser.client.post(attempt.action, data={**fields, "csrf": own})
    assert accepted.status_code == 303
