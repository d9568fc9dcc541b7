"""The OpenID Connect provider, driven by a standard client library as an application would:
a sign-in through honnin's pages, consent, the code's exchange with PKCE, the ID token
verified against the JWKS, userinfo, refresh tokens; and the attacks on each (a code used
twice, a wrong verifier, a refresh token reused after rotation…); on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from authlib.integrations.base_client import OAuthError

from honnin.oidc import store
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.journeys import EMMA, PASSWORD, option_value
from tests.support.pages import Page, PageClient
from tests.support.relying_party import (
    REDIRECT,
    RelyingParty,
    a_page,
    code_for,
    follow,
    register,
    sign_in_for,
    submit,
    the_client,
    userinfo,
)
from tests.support.smtp import Sink

OTHER_REDIRECT = "https://other.example/callback"
ACR_2FA = "urn:honnin:acr:2fa"
SOLO = "solo@example.com"  # an account whose only way is its password


async def test_a_sign_in_for_an_application_returns_a_code_it_exchanges_for_tokens(
    browser: PageClient, rp: RelyingParty, emma: Any, http: httpx.AsyncClient
) -> None:
    start = a_page(await follow(browser, rp.authorization_url()))
    assert start.path.startswith("/signin/")
    assert "to continue to Example app" in start.text
    consent = a_page(await sign_in_for(browser, start))
    assert "Sign in to Example app" in consent.text
    assert "See your email address" in consent.text
    callback = await submit(browser, consent, "allow")
    assert the_client(callback, rp)["state"] == rp.state
    assert isinstance(callback, str)
    token = await rp.exchange(callback)
    assert token["token_type"].lower() == "bearer"
    assert "refresh_token" not in token  # no offline access asked
    claims = await rp.id_token_claims(token)
    assert claims["email"] == EMMA
    assert claims["email_verified"] is True
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == "urn:honnin:acr:1fa"
    info = await userinfo(http, token["access_token"])
    assert info.status_code == 200, info.text
    assert info.json() == {"sub": claims["sub"], "email": EMMA, "email_verified": True}


async def test_consent_is_remembered_and_a_second_sign_in_returns_at_once(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    await code_for(browser, rp)
    again = await follow(browser, rp.authorization_url())
    assert "code" in the_client(again, rp)  # signed in, allowed: no page at all
    asked_again = a_page(await follow(browser, rp.authorization_url(prompt="consent")))
    assert "Sign in to Example app" in asked_again.text


async def test_cancel_on_the_consent_page_tells_the_application_access_denied(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    start = a_page(await follow(browser, rp.authorization_url()))
    consent = a_page(await sign_in_for(browser, start))
    answer = the_client(await submit(browser, consent, "deny"), rp)
    assert answer["error"] == "access_denied"
    assert answer["state"] == rp.state


async def test_prompt_none_without_a_session_is_an_error_never_a_page(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    answer = the_client(await follow(browser, rp.authorization_url(prompt="none")), rp)
    assert answer["error"] == "login_required"
    assert answer["state"] == rp.state


async def test_prompt_none_without_consent_is_consent_required(
    browser: PageClient, rp: RelyingParty, runtime: Runtime, app: Any, emma: Any
) -> None:
    await code_for(browser, rp)
    other = await register(runtime, app, name="Other app", redirect_uris=[OTHER_REDIRECT])
    answer = the_client(await follow(browser, other.authorization_url(prompt="none")), other)
    assert answer["error"] == "consent_required"


async def test_prompt_login_and_max_age_ask_for_a_new_sign_in(
    browser: PageClient, rp: RelyingParty, emma: Any, clock: ShiftableClock
) -> None:
    await code_for(browser, rp)
    again = a_page(await follow(browser, rp.authorization_url(prompt="login")))
    assert again.path.startswith("/signin/")
    back = await sign_in_for(browser, again)
    assert "code" in the_client(back, rp)
    clock.advance(seconds=120)
    old = a_page(await follow(browser, rp.authorization_url(max_age="60")))
    assert old.path.startswith("/signin/")
    recent = await follow(browser, rp.authorization_url(max_age="600"))
    assert "code" in the_client(recent, rp)


async def test_login_hint_starts_the_sign_in_with_the_name(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    start = a_page(await follow(browser, rp.authorization_url(login_hint=EMMA)))
    assert start.element("name")["value"] == EMMA


async def test_a_code_is_exchanged_once_and_a_second_exchange_revokes_what_the_first_gave(
    browser: PageClient, rp: RelyingParty, emma: Any, http: httpx.AsyncClient
) -> None:
    callback = await code_for(browser, rp, "openid offline_access")
    token = await rp.exchange(callback, "openid offline_access")
    with pytest.raises(OAuthError, match="invalid_grant"):
        await rp.exchange(callback, "openid offline_access")
    refreshed = await http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(rp.client_id, rp.secret or ""),
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


async def test_a_wrong_pkce_verifier_is_refused(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    callback = await code_for(browser, rp)
    rp.verifier = "x" * 50
    with pytest.raises(OAuthError, match="invalid_grant"):
        await rp.exchange(callback)


async def test_a_code_for_another_client_is_refused(
    browser: PageClient, rp: RelyingParty, runtime: Runtime, app: Any, emma: Any
) -> None:
    callback = await code_for(browser, rp)
    other = await register(runtime, app, name="Other app")
    other.verifier, other.state = rp.verifier, rp.state
    with pytest.raises(OAuthError, match="invalid_grant"):
        await other.exchange(callback)


async def test_a_redirect_uri_that_differs_by_one_character_is_shown_never_followed(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    rp.redirect_uri = REDIRECT + "x"
    shown = a_page(await follow(browser, rp.authorization_url()))
    assert shown.status == 400
    assert "can't be used" in shown.text


async def test_an_unknown_client_is_shown_never_followed(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    rp.client_id = "00000000-0000-4000-8000-000000000000"
    shown = a_page(await follow(browser, rp.authorization_url()))
    assert shown.status == 400


@pytest.mark.parametrize(
    ("parameter", "error"),
    [("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")],
)
async def test_request_objects_are_refused_clearly(
    browser: PageClient, rp: RelyingParty, emma: Any, parameter: str, error: str
) -> None:
    url = rp.authorization_url(**{parameter: "eyJhbGciOiJub25lIn0.e30."})
    assert the_client(await follow(browser, url), rp)["error"] == error


async def test_a_public_client_must_use_pkce_and_has_no_secret(
    browser: PageClient, runtime: Runtime, app: Any, emma: Any
) -> None:
    public = await register(runtime, app, public=True)
    assert public.secret is None
    callback = await code_for(browser, public)
    token = await public.exchange(callback)
    assert "id_token" in token
    url = public.authorization_url().replace("code_challenge=", "ignored=")
    assert the_client(await follow(browser, url), public)["error"] == "invalid_request"


async def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_family(
    browser: PageClient, rp: RelyingParty, emma: Any, http: httpx.AsyncClient
) -> None:
    callback = await code_for(browser, rp, "openid offline_access")
    first = await rp.exchange(callback, "openid offline_access")

    async def refresh(token: str) -> httpx.Response:
        return await http.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": token},
            auth=(rp.client_id, rp.secret or ""),
        )

    second = await refresh(first["refresh_token"])
    assert second.status_code == 200, second.text
    rotated = second.json()["refresh_token"]
    assert rotated != first["refresh_token"]
    reused = await refresh(first["refresh_token"])  # a copy of the old one
    assert reused.json()["error"] == "invalid_grant"
    revoked = await refresh(rotated)  # the whole family went with it
    assert revoked.json()["error"] == "invalid_grant"


async def test_subjects_are_pairwise_per_sector_unless_the_client_asks_for_public(
    browser: PageClient, rp: RelyingParty, runtime: Runtime, app: Any, emma: Any
) -> None:
    here = await rp.id_token_claims(await rp.exchange(await code_for(browser, rp)))
    other = await register(runtime, app, name="Other app", redirect_uris=[OTHER_REDIRECT])
    there = await other.id_token_claims(await other.exchange(await code_for(browser, other)))
    same_host = await register(runtime, app, name="Same host app")
    again = await same_host.id_token_claims(
        await same_host.exchange(await code_for(browser, same_host))
    )
    public = await register(runtime, app, name="Public subjects", subject_type="public")
    plain = await public.id_token_claims(await public.exchange(await code_for(browser, public)))
    assert here["sub"] != there["sub"]
    assert here["sub"] == again["sub"]  # one sector: one subject
    assert plain["sub"] == str(emma.id)
    assert here["sub"] != plain["sub"]


async def test_an_expired_access_token_gets_401_at_userinfo(
    browser: PageClient, rp: RelyingParty, emma: Any, http: httpx.AsyncClient, clock: ShiftableClock
) -> None:
    token = await rp.exchange(await code_for(browser, rp))
    clock.advance(seconds=301)
    answer = await userinfo(http, token["access_token"])
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert (await userinfo(http, "not-a-token")).status_code == 401


async def test_the_discovery_document_names_the_endpoints(http: httpx.AsyncClient) -> None:
    document = (await http.get("/.well-known/openid-configuration")).json()
    assert document["issuer"] == "http://localhost:8000"
    assert document["jwks_uri"] == "http://localhost:8000/oauth/jwks"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["request_parameter_supported"] is False


async def test_a_closed_account_gets_no_more_tokens_nor_userinfo(
    browser: PageClient, rp: RelyingParty, emma: Any, http: httpx.AsyncClient, runtime: Runtime
) -> None:
    token = await rp.exchange(await code_for(browser, rp, "openid offline_access"))
    async with runtime.db.transaction() as tx:
        account = await runtime.accounts.record_named(tx, EMMA)
        assert account is not None
        await runtime.closing.close(tx, account, None)
    assert (await userinfo(http, token["access_token"])).status_code == 401
    refreshed = await http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(rp.client_id, rp.secret or ""),
    )
    assert refreshed.status_code == 400


async def second_step_by_email(browser: PageClient, sink: Sink, options: Page) -> Page | str:
    """On "verify your identity": a code to Emma's address, entered."""
    before = len(sink.with_codes(EMMA))
    page = a_page(
        await submit(
            browser, options, "choose_option", option=option_value(options, "em*****@example.com")
        )
    )
    if page.has("confirm_address"):
        page = a_page(await submit(browser, page, "confirm_address", address=EMMA))
    code = await sink.wait_for_code(EMMA, before + 1)
    return await submit(browser, page, "submit_code", code=code)


async def test_an_application_asking_for_two_steps_gets_them_with_two_step_verification_off(
    browser: PageClient, rp: RelyingParty, emma: Any, sink: Sink, runtime: Runtime
) -> None:
    start = a_page(await follow(browser, rp.authorization_url(acr_values=ACR_2FA)))
    options = a_page(await sign_in_for(browser, start))
    assert "Verify your identity" in options.text  # after the password: a second step
    assert "Example app asks for a second step" in options.text  # not "two-step is on"
    consent = a_page(await second_step_by_email(browser, sink, options))
    callback = await submit(browser, consent, "allow")
    the_client(callback, rp)
    assert isinstance(callback, str)
    claims = await rp.id_token_claims(await rp.exchange(callback))
    assert claims["acr"] == ACR_2FA
    assert set(claims["amr"]) == {"pwd", "otp", "mfa"}
    async with runtime.db.transaction(write=False) as tx:  # the account's setting: still off
        account = await runtime.accounts.record_named(tx, EMMA)
    assert account is not None
    assert not account.two_step


async def test_a_one_step_session_signs_in_again_in_two_steps_when_asked(
    browser: PageClient, rp: RelyingParty, emma: Any, sink: Sink
) -> None:
    one = await rp.id_token_claims(await rp.exchange(await code_for(browser, rp)))
    assert (one["acr"], one["amr"]) == ("urn:honnin:acr:1fa", ["pwd"])
    again = a_page(await follow(browser, rp.authorization_url(acr_values=ACR_2FA)))
    assert again.path.startswith("/signin/")
    options = a_page(await sign_in_for(browser, again))
    back = await second_step_by_email(browser, sink, options)  # consent was given: back
    the_client(back, rp)
    assert isinstance(back, str)
    claims = await rp.id_token_claims(await rp.exchange(back))
    assert claims["acr"] == ACR_2FA


async def test_two_steps_asked_of_an_account_with_one_way_are_refused_clearly(
    browser: PageClient, rp: RelyingParty, runtime: Runtime
) -> None:
    await runtime.accounts.create(SOLO, PASSWORD, email_verified=False)
    start = a_page(await follow(browser, rp.authorization_url(acr_values=ACR_2FA)))
    page = a_page(await submit(browser, start, "submit_identifier", name=SOLO))
    refused = a_page(await submit(browser, page, "submit_password", password=PASSWORD))
    assert refused.status == 403
    assert "asks for two steps, but this account has only one way" in refused.text


async def test_two_first_uses_of_a_sector_at_once_make_one_subject(
    runtime: Runtime, rp: RelyingParty, emma: Any
) -> None:
    """Two sign-ins for new applications of one sector at once (on PostgreSQL, truly at once):
    one subject, and neither fails on the other's row."""
    client = await runtime.oidc_clients.get(rp.client_id)

    async def first_use() -> str:
        async with runtime.db.transaction() as tx:
            subject = await store.subject(tx, client, emma.id)
            await asyncio.sleep(0.1)  # held open: the other one inserts meanwhile
            return subject

    made = await asyncio.gather(first_use(), first_use())
    assert made[0] == made[1]
