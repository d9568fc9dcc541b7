"""The provider's endpoints around the sign-in, as applications call them through a standard
client library: revocation (RFC 7009), introspection (RFC 7662), client assertions
(`private_key_jwt`, RFC 7523), RP-initiated logout, the keys after a rotation, and the rate
limits; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import KeySet, RSAKey

from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.pages import PageClient
from tests.support.relying_party import (
    RelyingParty,
    a_page,
    code_for,
    follow,
    query_of,
    register,
    sign_in_for,
    userinfo,
)
from tests.support.served import Served, serving

BYE = "https://app.example/bye"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


async def tokens_for(browser: PageClient, rp: RelyingParty, scope: str) -> dict[str, Any]:
    return await rp.exchange(await code_for(browser, rp, scope), scope)


async def refresh(http: httpx.AsyncClient, rp: RelyingParty, token: str) -> httpx.Response:
    return await http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=(rp.client_id, rp.secret or ""),
    )


async def signed_in(browser: PageClient) -> bool:
    return (await browser.get("/account")).path == "/account"


# -- revocation


async def test_revoking_a_refresh_token_revokes_its_whole_family(
    browser: PageClient, rp: RelyingParty, emma: Any, http: httpx.AsyncClient
) -> None:
    first = await tokens_for(browser, rp, "openid offline_access")
    second = (await refresh(http, rp, first["refresh_token"])).json()
    answer = await rp.revoke(second["refresh_token"], "refresh_token")
    assert (answer.status_code, answer.json()) == (200, {})
    assert (await refresh(http, rp, second["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await rp.introspect(second["refresh_token"])).json() == {"active": False}
    # the access tokens of the grant stop too (they would otherwise live their few minutes)
    assert (await rp.introspect(second["access_token"])).json() == {"active": False}
    assert (await userinfo(http, first["access_token"])).status_code == 401


async def test_revocation_of_an_unknown_token_succeeds_and_an_access_token_is_refused_clearly(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    unknown = await rp.revoke("no-such-token")
    assert (unknown.status_code, unknown.json()) == (200, {})  # RFC 7009 §2.2
    tokens = await tokens_for(browser, rp, "openid")
    refused = await rp.revoke(tokens["access_token"], "access_token")
    assert refused.status_code == 400
    assert refused.json()["error"] == "unsupported_token_type"
    assert "refresh token" in refused.json()["error_description"]


async def test_a_client_cannot_revoke_another_clients_refresh_token(
    browser: PageClient, rp: RelyingParty, runtime: Runtime, app: Any, emma: Any,
    http: httpx.AsyncClient,
) -> None:  # fmt: skip
    tokens = await tokens_for(browser, rp, "openid offline_access")
    other = await register(runtime, app, name="Other app")
    refused = await other.revoke(tokens["refresh_token"])
    assert refused.json()["error"] == "invalid_grant"
    assert (await refresh(http, rp, tokens["refresh_token"])).status_code == 200  # untouched


async def test_revocation_needs_the_clients_credentials(
    browser: PageClient, rp: RelyingParty, emma: Any, http: httpx.AsyncClient
) -> None:
    tokens = await tokens_for(browser, rp, "openid offline_access")
    answer = await http.post(
        "/oauth/revoke",
        data={"token": tokens["refresh_token"]},
        auth=(rp.client_id, "hnc_wrong"),
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert (await refresh(http, rp, tokens["refresh_token"])).status_code == 200


# -- introspection


async def test_introspection_tells_a_confidential_client_about_its_own_tokens(
    browser: PageClient, rp: RelyingParty, runtime: Runtime, app: Any, emma: Any,
    clock: ShiftableClock,
) -> None:  # fmt: skip
    tokens = await tokens_for(browser, rp, "openid email offline_access")
    claims = await rp.id_token_claims(tokens)
    access = (await rp.introspect(tokens["access_token"])).json()
    assert access["active"] is True
    assert access["client_id"] == rp.client_id
    assert access["sub"] == claims["sub"]
    assert access["scope"] == "openid email offline_access"
    assert access["token_type"] == "Bearer"
    assert access["exp"] > access["iat"]
    refresh_token = (await rp.introspect(tokens["refresh_token"])).json()
    assert refresh_token["active"] is True
    assert (refresh_token["sub"], refresh_token["client_id"]) == (claims["sub"], rp.client_id)
    other = await register(runtime, app, name="Other app")
    assert (await other.introspect(tokens["access_token"])).json() == {"active": False}
    assert (await rp.introspect("garbage")).json() == {"active": False}
    clock.advance(seconds=301)
    assert (await rp.introspect(tokens["access_token"])).json() == {"active": False}


async def test_a_public_client_cannot_introspect(
    browser: PageClient, runtime: Runtime, app: Any, emma: Any, http: httpx.AsyncClient
) -> None:
    public = await register(runtime, app, public=True)
    tokens = await public.exchange(await code_for(browser, public))
    answer = await http.post(
        "/oauth/introspect", data={"token": tokens["access_token"], "client_id": public.client_id}
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


async def test_introspection_follows_the_person_taking_the_app_away(
    browser: PageClient, rp: RelyingParty, emma: Any
) -> None:
    tokens = await tokens_for(browser, rp, "openid offline_access")
    account = await browser.get("/account")
    remove = next(f for f in account.forms() if f.action == "/account/apps")
    await browser.client.post(remove.action, data=remove.fields)
    assert (await rp.introspect(tokens["access_token"])).json() == {"active": False}
    assert (await rp.introspect(tokens["refresh_token"])).json() == {"active": False}


# -- private_key_jwt


@pytest.fixture
def client_keys() -> Iterator[tuple[Served, list[RSAKey]]]:
    """A client's JWKS served on loopback, from the keys listed (change them)."""
    keys = [RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)]

    def jwks() -> bytes:
        return json.dumps(KeySet(list(keys)).as_dict(private=False)).encode()

    with serving({"/jwks.json": jwks}) as served:
        yield served, keys


@pytest.fixture
async def signing_rp(
    runtime: Runtime, app: Any, client_keys: tuple[Served, list[RSAKey]]
) -> RelyingParty:
    served, keys = client_keys
    made = await register(runtime, app, jwks_uri=served.url("/jwks.json"))
    assert made.secret is None
    made.key = keys[0]
    return made


def assertion(
    rp: RelyingParty, key: RSAKey, *, jti: str | None = None, lifetime: int = 60,
    audience: str | None = None, alg: str = "RS256",
) -> str:  # fmt: skip
    now = int(time.time())
    claims = {
        "iss": rp.client_id,
        "sub": rp.client_id,
        "aud": audience or f"{rp.issuer}/oauth/token",
        "iat": now,
        "exp": now + lifetime,
        "jti": jti or secrets.token_urlsafe(16),
    }
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


async def introspect_with(http: httpx.AsyncClient, signed: str) -> httpx.Response:
    return await http.post(
        "/oauth/introspect",
        data={
            "token": "anything",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": signed,
        },
    )


async def test_a_client_with_keys_of_its_own_authenticates_with_a_signed_assertion(
    browser: PageClient, signing_rp: RelyingParty, emma: Any, http: httpx.AsyncClient
) -> None:
    tokens = await signing_rp.exchange(await code_for(browser, signing_rp))
    assert (await signing_rp.id_token_claims(tokens))["aud"] == [signing_rp.client_id]
    assert (await signing_rp.introspect(tokens["access_token"])).json()["active"] is True
    # a secret does nothing for it: it has none
    basic = await http.post(
        "/oauth/introspect", data={"token": "x"}, auth=(signing_rp.client_id, "hnc_guess")
    )
    assert basic.status_code == 401


async def test_an_assertion_is_spent_by_its_first_use(
    signing_rp: RelyingParty, http: httpx.AsyncClient
) -> None:
    assert signing_rp.key is not None
    signed = assertion(signing_rp, signing_rp.key)
    assert (await introspect_with(http, signed)).json() == {"active": False}
    replayed = await introspect_with(http, signed)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_client"
    assert "used before" in replayed.json()["error_description"]


async def test_an_assertion_cannot_be_replayed_in_the_leeway_after_it_expired(
    signing_rp: RelyingParty, http: httpx.AsyncClient, clock: ShiftableClock
) -> None:
    """Accepted until a minute after its exp (clocks differ): spent until then too."""
    assert signing_rp.key is not None
    signed = assertion(signing_rp, signing_rp.key, lifetime=30)
    assert (await introspect_with(http, signed)).status_code == 200
    clock.advance(seconds=60)  # past its exp, within the leeway
    replayed = await introspect_with(http, signed)
    assert replayed.status_code == 400
    assert "used before" in replayed.json()["error_description"]


@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("another key", ""),
        ("too long", "an hour at most"),
        ("other audience", "aud"),
        ("expired", "exp"),
    ],
)
async def test_assertions_that_prove_nothing_are_refused(
    signing_rp: RelyingParty, http: httpx.AsyncClient, how: str, said: str
) -> None:
    key = signing_rp.key
    assert key is not None
    if how == "another key":
        stranger = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
        signed = assertion(signing_rp, stranger)
    elif how == "too long":
        signed = assertion(signing_rp, key, lifetime=7200)
    elif how == "other audience":
        signed = assertion(signing_rp, key, audience="https://elsewhere.example/token")
    else:
        signed = assertion(signing_rp, key, lifetime=-120)
    refused = await introspect_with(http, signed)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_client"
    assert said in refused.json()["error_description"]


async def test_a_client_that_rotates_its_keys_is_read_again_but_not_at_every_unknown_key(
    signing_rp: RelyingParty, http: httpx.AsyncClient, client_keys: tuple[Served, list[RSAKey]],
    clock: ShiftableClock,
) -> None:  # fmt: skip
    served, keys = client_keys
    assert (await introspect_with(http, assertion(signing_rp, keys[0]))).status_code == 200
    assert served.hits["/jwks.json"] == 1
    assert (await introspect_with(http, assertion(signing_rp, keys[0]))).status_code == 200
    assert served.hits["/jwks.json"] == 1  # kept
    new = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
    keys.append(new)
    # a key it lacks, within a minute of reading: not read again (no fetch per guess)
    assert (await introspect_with(http, assertion(signing_rp, new))).status_code == 400
    assert served.hits["/jwks.json"] == 1
    clock.advance(seconds=61)
    assert (await introspect_with(http, assertion(signing_rp, new))).status_code == 200
    assert served.hits["/jwks.json"] == 2


async def test_a_client_whose_keys_cannot_be_read_cannot_authenticate(
    runtime: Runtime, app: Any, http: httpx.AsyncClient, client_keys: tuple[Served, list[RSAKey]]
) -> None:
    served, keys = client_keys
    lost = await register(runtime, app, jwks_uri=served.url("/moved.json"))
    refused = await introspect_with(http, assertion(lost, keys[0]))
    assert refused.status_code == 400
    assert "can't be read" in refused.json()["error_description"]
    # tried a moment ago: not again (anyone can send assertions naming this client)
    assert (await introspect_with(http, assertion(lost, keys[0]))).status_code == 400
    assert served.hits["/moved.json"] == 1


# -- RP-initiated logout


@pytest.fixture
async def leaving_rp(runtime: Runtime, app: Any) -> RelyingParty:
    return await register(runtime, app, post_logout_redirect_uris=[BYE])


def logout_url(**params: str) -> str:
    return f"/oauth/logout?{urlencode(params)}"


async def test_logout_with_an_id_token_signs_out_and_returns_to_the_application(
    browser: PageClient, leaving_rp: RelyingParty, emma: Any
) -> None:
    tokens = await tokens_for(browser, leaving_rp, "openid")
    url = logout_url(id_token_hint=tokens["id_token"], post_logout_redirect_uri=BYE, state="s1")
    back = await follow(browser, url)
    assert isinstance(back, str)
    assert back.startswith(BYE)
    assert query_of(back) == {"state": "s1"}
    assert not await signed_in(browser)


async def test_logout_by_post_works_as_by_get(
    browser: PageClient, leaving_rp: RelyingParty, emma: Any
) -> None:
    tokens = await tokens_for(browser, leaving_rp, "openid")
    answer = await browser.client.post(
        "/oauth/logout",
        data={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": BYE},
    )
    assert answer.status_code == 303  # to the GET: the browser's cookies come with it
    assert "set-cookie" not in answer.headers  # no device token of its own
    location = answer.headers["location"]
    assert tokens["id_token"].split(".")[1] not in location  # sealed: not in the history
    altered = location[:-3] + ("AAA" if not location.endswith("AAA") else "BBB")
    assert a_page(await follow(browser, altered)).status == 400
    assert await follow(browser, location) == BYE
    assert not await signed_in(browser)


async def test_an_id_token_of_an_earlier_sign_in_asks_the_person_first(
    browser: PageClient, leaving_rp: RelyingParty, emma: Any
) -> None:
    """The account signed out and in again since: its ID token is not this session's."""
    tokens = await tokens_for(browser, leaving_rp, "openid")
    confirm = await browser.get("/signout")
    out = next(f for f in confirm.forms() if f.action == "/signout")
    await browser.client.post(out.action, data=out.fields)
    assert not await signed_in(browser)
    again = a_page(await follow(browser, leaving_rp.authorization_url()))
    await sign_in_for(browser, again)
    assert await signed_in(browser)
    page = a_page(await follow(browser, logout_url(id_token_hint=tokens["id_token"])))
    assert "Example app asks to sign you out." in page.text
    assert await signed_in(browser)


async def test_a_post_logout_uri_not_registered_is_never_followed(
    browser: PageClient, leaving_rp: RelyingParty, emma: Any
) -> None:
    tokens = await tokens_for(browser, leaving_rp, "openid")
    url = logout_url(id_token_hint=tokens["id_token"], post_logout_redirect_uri=BYE + "x")
    page = a_page(await follow(browser, url))
    assert "You've signed out" in page.text
    assert not await signed_in(browser)


async def test_logout_without_an_id_token_asks_the_person_first(
    browser: PageClient, leaving_rp: RelyingParty, emma: Any
) -> None:
    await code_for(browser, leaving_rp, "openid")
    url = logout_url(client_id=leaving_rp.client_id, post_logout_redirect_uri=BYE, state="s2")
    page = a_page(await follow(browser, url))
    assert "Example app asks to sign you out." in page.text
    assert await signed_in(browser)  # nothing happened yet
    confirm = next(f for f in page.forms() if f.action == "/oauth/logout/confirm")
    answer = await browser.client.post(confirm.action, data=confirm.fields)
    assert answer.headers["location"] == f"{BYE}?state=s2"
    assert (
        "form-action 'self' https://app.example/bye;"
        in page.response.headers["content-security-policy"]
    )
    assert not await signed_in(browser)


def forged(id_token: str) -> str:
    """The ID token's header and claims, signed by a key of the forger's own."""
    extracted = jws.extract_compact(id_token.encode())
    stranger = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
    return jwt.encode(extracted.headers(), json.loads(extracted.payload), stranger)


@pytest.mark.parametrize("hint", ["garbage", "forged"])
async def test_a_logout_with_an_id_token_honnin_did_not_sign_is_refused_and_changes_nothing(
    browser: PageClient, leaving_rp: RelyingParty, emma: Any, hint: str
) -> None:
    tokens = await tokens_for(browser, leaving_rp, "openid")
    bad = "garbage" if hint == "garbage" else forged(tokens["id_token"])
    shown = a_page(await follow(browser, logout_url(id_token_hint=bad)))
    assert shown.status == 400
    assert await signed_in(browser)


async def test_an_expired_id_token_still_names_whom_to_sign_out(
    browser: PageClient, leaving_rp: RelyingParty, emma: Any, clock: ShiftableClock
) -> None:
    tokens = await tokens_for(browser, leaving_rp, "openid")
    clock.advance(seconds=3601)  # past the ID token's exp; its key still published
    back = await follow(browser, logout_url(id_token_hint=tokens["id_token"]))
    assert "You've signed out" in a_page(back).text


# -- keys after a rotation


async def test_tokens_signed_by_a_retired_key_stop_when_its_grace_period_ends(
    browser: PageClient, leaving_rp: RelyingParty, emma: Any, runtime: Runtime,
    http: httpx.AsyncClient, clock: ShiftableClock, settings: Any,
) -> None:  # fmt: skip
    tokens = await tokens_for(browser, leaving_rp, "openid")
    old_kid = jws.extract_compact(tokens["id_token"].encode()).headers()["kid"]
    await runtime.signing_keys.rotate()
    ahead = settings.oidc_key_publish_ahead_seconds
    grace = max(settings.oidc_id_token_seconds, settings.oidc_access_token_seconds)
    clock.advance(seconds=ahead + grace - 5)  # retired, still published
    kids = {key["kid"] for key in (await http.get("/oauth/jwks")).json()["keys"]}
    assert old_kid in kids
    hinted = logout_url(id_token_hint=tokens["id_token"], post_logout_redirect_uri=BYE)
    assert await follow(browser, hinted) == BYE  # accepted: its key is published
    clock.advance(seconds=10)  # the grace period is over
    kids = {key["kid"] for key in (await http.get("/oauth/jwks")).json()["keys"]}
    assert old_kid not in kids
    refused = a_page(await follow(browser, hinted))
    assert refused.status == 400
    assert (await userinfo(http, tokens["access_token"])).status_code == 401
    assert (await leaving_rp.introspect(tokens["access_token"])).json() == {"active": False}


# -- limits


@pytest.mark.parametrize("settings_overrides", [{"limit_ip_oidc_calls": "3/minute"}])
async def test_applications_calls_are_limited_per_ip(
    rp: RelyingParty, http: httpx.AsyncClient
) -> None:
    for _ in range(3):
        assert (await rp.introspect("x")).status_code == 200
    limited = await rp.introspect("x")
    assert limited.status_code == 429
    assert limited.json()["error"] == "invalid_request"
    assert int(limited.headers["retry-after"]) > 0
    assert (await userinfo(http, "x")).status_code == 429


@pytest.mark.parametrize("settings_overrides", [{"limit_ip_oidc_pages": "2/minute"}])
async def test_sign_ins_and_logouts_for_applications_are_limited_per_ip(
    browser: PageClient, rp: RelyingParty
) -> None:
    for _ in range(2):
        assert a_page(await follow(browser, rp.authorization_url())).status == 200
    limited = a_page(await follow(browser, logout_url()))
    assert limited.status == 429
    assert "Too many requests" in limited.text


async def test_the_discovery_document_names_the_new_endpoints(http: httpx.AsyncClient) -> None:
    document = (await http.get("/.well-known/openid-configuration")).json()
    base = "http://localhost:8000"
    assert document["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert document["introspection_endpoint"] == f"{base}/oauth/introspect"
    assert document["end_session_endpoint"] == f"{base}/oauth/logout"
    assert "private_key_jwt" in document["token_endpoint_auth_methods_supported"]
    assert "none" not in document["introspection_endpoint_auth_methods_supported"]


async def test_userinfo_takes_the_access_token_in_a_form_post_too(
    browser: PageClient, rp: RelyingParty, emma: Any, http: httpx.AsyncClient
) -> None:
    tokens = await tokens_for(browser, rp, "openid email")
    answer = await http.post("/oauth/userinfo", data={"access_token": tokens["access_token"]})
    assert answer.status_code == 200
    assert answer.json()["email"] == "emma@example.com"
    both = await http.post(
        "/oauth/userinfo",
        data={"access_token": tokens["access_token"]},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert both.status_code == 400  # one way only (RFC 6750 §3.1)
    assert both.json()["error"] == "invalid_request"
