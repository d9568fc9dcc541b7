"""The OpenID Connect provider, driven by a standard client library as an application would:
a sign-in through honnin's pages, consent, the code's exchange with PKCE, the ID token
verified against the JWKS, userinfo, refresh tokens; and the attacks on each (a code used
twice, a wrong verifier, a refresh token reused after rotation…); on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from authlib.integrations.base_client import OAuthError
from joserfc import jws

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
    query_of,
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
TARO = "taro@example.jp"
NEWCOMER = "newcomer@example.com"


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
    assert (await userinfo(http, token["access_token"])).status_code == 401  # its access too


async def test_a_code_without_offline_access_used_twice_stops_its_access_token(
    browser: PageClient, rp: RelyingParty, emma: Any, http: httpx.AsyncClient
) -> None:
    callback = await code_for(browser, rp, "openid email")
    token = await rp.exchange(callback, "openid email")
    assert (await userinfo(http, token["access_token"])).status_code == 200
    with pytest.raises(OAuthError, match="invalid_grant"):
        await rp.exchange(callback, "openid email")
    assert (await userinfo(http, token["access_token"])).status_code == 401


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


async def test_an_authorization_request_sent_as_a_form_post_goes_on_as_its_get(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    path, query = rp.authorization_url().split("?", 1)
    form = {"content-type": "application/x-www-form-urlencoded"}
    answer = await browser.client.post(path, content=query, headers=form)
    assert answer.status_code == 303
    assert "set-cookie" not in answer.headers  # no device token: the GET brings the browser's
    start = a_page(await follow(browser, answer.headers["location"]))
    assert "to continue to Example app" in start.text
    consent = a_page(await sign_in_for(browser, start))
    assert "state" in the_client(await submit(browser, consent, "allow"), rp)


def plain_url(rp: RelyingParty, **params: str) -> str:
    """An authorization request without what the client library adds (PKCE, a nonce)."""
    query = {"response_type": "code", "client_id": rp.client_id, "redirect_uri": rp.redirect_uri,
             "scope": "openid", "state": "s", **params}  # fmt: skip
    return f"/oauth/authorize?{urlencode({k: v for k, v in query.items() if v})}"


async def exchange_plainly(
    http: httpx.AsyncClient, rp: RelyingParty, callback: str, *, post: bool = False
) -> httpx.Response:
    """The code's exchange by hand: no PKCE verifier; the secret in the form with `post`."""
    data = {"grant_type": "authorization_code", "code": query_of(callback)["code"],
            "redirect_uri": rp.redirect_uri}  # fmt: skip
    if post:
        data.update(client_id=rp.client_id, client_secret=rp.secret or "")
        return await http.post("/oauth/token", data=data)
    return await http.post("/oauth/token", data=data, auth=(rp.client_id, rp.secret or ""))


async def test_a_confidential_client_may_go_without_pkce_nor_nonce_and_use_client_secret_post(
    browser: PageClient, rp: RelyingParty, emma: Any, http: httpx.AsyncClient
) -> None:
    await code_for(browser, rp)  # allowed once
    callback = await follow(browser, plain_url(rp))
    the_client(callback, rp)
    assert isinstance(callback, str)
    answer = await exchange_plainly(http, rp, callback, post=True)
    assert answer.status_code == 200, answer.text
    assert "nonce" not in json.loads(
        jws.extract_compact(answer.json()["id_token"].encode()).payload
    )


async def test_a_missing_response_type_is_told_to_the_client(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    back = the_client(await follow(browser, plain_url(rp, response_type="")), rp)
    assert back["error"] in ("unsupported_response_type", "invalid_request")
    assert back["state"] == "s"


async def test_prompt_none_with_the_id_token_of_the_signed_in_account_returns_at_once(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    token = await rp.exchange(await code_for(browser, rp))
    first = await rp.id_token_claims(token)
    hinted = rp.authorization_url(prompt="none", id_token_hint=token["id_token"])
    back = await follow(browser, hinted)
    assert "code" in the_client(back, rp)
    assert isinstance(back, str)
    again = await rp.id_token_claims(await rp.exchange(back))
    assert (again["sub"], again["auth_time"]) == (first["sub"], first["auth_time"])


async def test_an_id_token_hint_of_an_account_not_signed_in_here_is_login_required(
    browser: PageClient, another_browser: PageClient, rp: RelyingParty, emma: Any,
    runtime: Runtime,
) -> None:  # fmt: skip
    emmas = await rp.exchange(await code_for(browser, rp))
    await runtime.accounts.create(TARO, PASSWORD, email_verified=True)
    start = a_page(await follow(another_browser, rp.authorization_url()))
    page = a_page(await submit(another_browser, start, "submit_identifier", name=TARO))
    consent = a_page(await submit(another_browser, page, "submit_password", password=PASSWORD))
    the_client(await submit(another_browser, consent, "allow"), rp)  # Taro, signed in there
    hinted = rp.authorization_url(prompt="none", id_token_hint=emmas["id_token"])
    assert the_client(await follow(another_browser, hinted), rp)["error"] == "login_required"
    # without prompt=none: a sign-in, not Taro's code
    assert a_page(await follow(another_browser, rp.authorization_url(
        id_token_hint=emmas["id_token"]))).path.startswith("/signin/")  # fmt: skip


async def test_an_id_token_hint_issued_to_another_client_is_refused(
    browser: PageClient, rp: RelyingParty, runtime: Runtime, app: Any, emma: Any
) -> None:
    other = await register(runtime, app, name="Other app")
    theirs = await other.exchange(await code_for(browser, other))
    hinted = rp.authorization_url(id_token_hint=theirs["id_token"])
    assert the_client(await follow(browser, hinted), rp)["error"] == "invalid_request"


async def test_a_refresh_token_presented_by_another_client_is_refused(
    browser: PageClient, rp: RelyingParty, runtime: Runtime, app: Any, emma: Any,
    http: httpx.AsyncClient,
) -> None:  # fmt: skip
    token = await rp.exchange(await code_for(browser, rp, "openid offline_access"),
                              "openid offline_access")  # fmt: skip
    other = await register(runtime, app, name="Other app")
    stolen = await http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(other.client_id, other.secret or ""),
    )
    assert stolen.json()["error"] == "invalid_grant"


async def test_someone_new_creates_an_account_on_the_way_and_goes_on_to_the_application(
    browser: PageClient, rp: RelyingParty, sink: Sink
) -> None:
    start = a_page(await follow(browser, rp.authorization_url()))
    create = next(link for link in start.links() if link.startswith("/signup"))
    details = a_page(await follow(browser, create))
    assert "to continue to Example app" in details.text
    sent = a_page(await submit(browser, details, "submit_details", email=NEWCOMER,
                               password=PASSWORD))  # fmt: skip
    code = await sink.wait_for_code(NEWCOMER)
    consent = a_page(await submit(browser, sent, "submit_code", code=code))
    assert "Sign in to Example app" in consent.text
    assert "code" in the_client(await submit(browser, consent, "allow"), rp)


async def test_a_sign_up_link_to_anything_but_a_waiting_request_is_a_plain_sign_up(
    browser: PageClient, sink: Sink
) -> None:
    for elsewhere in ("https://evil.example/", "/account", f"/oauth/authorize/{uuid.uuid4()}"):
        page = a_page(await follow(browser, f"/signup?{urlencode({'continue': elsewhere})}"))
        assert page.path.startswith("/signup/")
        assert "to continue to" not in page.text


async def test_using_a_different_account_keeps_the_application_and_its_wishes(
    browser: PageClient, rp: RelyingParty, emma: Any, sink: Sink
) -> None:
    start = a_page(await follow(browser, rp.authorization_url(acr_values=ACR_2FA)))
    page = a_page(await submit(browser, start, "submit_identifier", name=EMMA))
    again = a_page(await submit(browser, page, "restart"))
    assert "to continue to Example app" in again.text
    options = a_page(await sign_in_for(browser, again))
    assert "Example app asks for a second step" in options.text  # two steps, still


async def test_a_code_first_takes_the_password_second_when_the_application_asks(
    browser: PageClient, rp: RelyingParty, emma: Any, sink: Sink
) -> None:
    start = a_page(await follow(browser, rp.authorization_url(acr_values=ACR_2FA)))
    page = a_page(await submit(browser, start, "submit_identifier", name=EMMA))
    sent = a_page(await submit(browser, page, "send_code"))
    second = a_page(await submit(browser, sent, "submit_code", code=await sink.wait_for_code(EMMA)))
    assert "Example app asks for a second step, so after the code" in second.text
    consent = a_page(await submit(browser, second, "submit_password", password=PASSWORD))
    callback = await submit(browser, consent, "allow")
    assert isinstance(callback, str)
    claims = await rp.id_token_claims(await rp.exchange(the_url(callback, rp)))
    assert claims["acr"] == ACR_2FA


def the_url(callback: Page | str, rp: RelyingParty) -> str:
    the_client(callback, rp)
    assert isinstance(callback, str)
    return callback
