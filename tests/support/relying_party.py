"""An application that signs its users in with honnin, as a standard OpenID Connect client
library (Authlib's httpx client) drives it: the authorization URL with PKCE and a nonce, the
code's exchange, the ID token checked against the published JWKS (joserfc), userinfo."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from honnin.oidc.clients import Registration
from honnin.runtime import Runtime
from tests.support.journeys import EMMA, PASSWORD
from tests.support.pages import Page, PageClient

SERVER = "https://testserver"
REDIRECT = "https://app.example/callback"


@dataclass
class RelyingParty:
    app: FastAPI
    client_id: str
    secret: str | None
    redirect_uri: str = REDIRECT
    issuer: str = "http://localhost:8000"
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    state: str | None = None
    key: RSAKey | None = None  # its own signing key (private_key_jwt), published at jwks_uri

    def oauth(self, scope: str = "openid email") -> AsyncOAuth2Client:
        """The client library, authenticating as the client registered: its secret
        (client_secret_basic), its signed assertion (private_key_jwt), or none (public)."""
        if self.key is not None:
            client = AsyncOAuth2Client(
                client_id=self.client_id,
                client_secret=self.key,
                scope=scope,
                redirect_uri=self.redirect_uri,
                code_challenge_method="S256",
                token_endpoint_auth_method="private_key_jwt",
                transport=httpx.ASGITransport(app=self.app),
            )
            token_endpoint = f"{self.issuer}/oauth/token"  # the assertion's audience
            kid = {"kid": self.key.kid}
            client.register_client_auth_method(PrivateKeyJWT(token_endpoint, headers=kid))
            return client
        auth_method = "client_secret_basic" if self.secret else "none"
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.secret,
            scope=scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=auth_method,
            transport=httpx.ASGITransport(app=self.app),
        )

    def authorization_url(self, scope: str = "openid email", **params: str) -> str:
        """Where the application sends the browser (a path and query on honnin)."""
        self.nonce = secrets.token_urlsafe(16)  # one per request, as a client must
        url, state = self.oauth(scope).create_authorization_url(
            f"{SERVER}/oauth/authorize", code_verifier=self.verifier, nonce=self.nonce, **params
        )
        self.state = state
        return str(url).removeprefix(SERVER)

    async def exchange(self, callback: str, scope: str = "openid email") -> dict[str, Any]:
        async with self.oauth(scope) as client:
            token: dict[str, Any] = await client.fetch_token(
                f"{SERVER}/oauth/token",
                authorization_response=callback,
                code_verifier=self.verifier,
                state=self.state,
            )
        return token

    async def revoke(self, token: str, hint: str | None = None) -> httpx.Response:
        async with self.oauth() as client:
            response: httpx.Response = await client.revoke_token(
                f"{SERVER}/oauth/revoke", token=token, token_type_hint=hint
            )
        return response

    async def introspect(self, token: str) -> httpx.Response:
        async with self.oauth() as client:
            response: httpx.Response = await client.introspect_token(
                f"{SERVER}/oauth/introspect", token=token
            )
        return response

    async def id_token_claims(self, token: dict[str, Any]) -> dict[str, Any]:
        """The ID token, verified as a client would: signature by a published key, issuer,
        audience, nonce."""
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=SERVER
        ) as http:
            keys = KeySet.import_key_set((await http.get("/oauth/jwks")).json())
        decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256", "ES256"])
        claims = decoded.claims
        assert claims["iss"] == self.issuer
        assert claims["aud"] == [self.client_id] or claims["aud"] == self.client_id
        assert claims["nonce"] == self.nonce
        return claims


async def follow(browser: PageClient, path: str) -> Page | str:
    """Follow honnin's redirects from `path`: the page it stops on, or the URL it sends the
    browser to outside honnin (the application's redirect URI)."""
    response = await browser.client.get(path)
    return await _until_page(browser, response)


async def _until_page(browser: PageClient, response: httpx.Response) -> Page | str:
    while response.is_redirect:
        location = response.headers["location"]
        if location.startswith("http") and not location.startswith(SERVER):
            return location
        response = await browser.client.get(location)
    return Page(response)


async def submit(browser: PageClient, page: Page, action: str, **fields: str) -> Page | str:
    """Post a form of the page, following honnin's redirects (as `follow`)."""
    form = page.form(action)
    data = {**form.fields, **fields}
    if ("action", action) in form.buttons:
        data["action"] = action
    response = await browser.client.post(form.action, data=data)
    return await _until_page(browser, response)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def register(runtime: Runtime, app: FastAPI, **options: Any) -> RelyingParty:
    """An application registered as the operator would (`Registration`'s options)."""
    redirect = options.pop("redirect_uris", [REDIRECT])
    made = await runtime.oidc_clients.create(
        Registration(name=options.pop("name", "Example app"), redirect_uris=redirect, **options)
    )
    return RelyingParty(app, str(made.client.id), made.secret, redirect_uri=redirect[0])


def a_page(result: Page | str) -> Page:
    assert isinstance(result, Page), f"left honnin for {result}"
    return result


def the_client(result: Page | str, rp: RelyingParty) -> dict[str, str]:
    """The query the browser brought back to the application."""
    assert isinstance(result, str), a_page(result).text[:500]
    assert result.startswith(rp.redirect_uri)
    return query_of(result)


async def sign_in_for(browser: PageClient, start: Page) -> Page | str:
    page = a_page(await submit(browser, start, "submit_identifier", name=EMMA))
    return await submit(browser, page, "submit_password", password=PASSWORD)


async def code_for(
    browser: PageClient, rp: RelyingParty, scope: str = "openid email", **params: str
) -> str:
    """Emma signs in for the application and allows it: the callback URL."""
    start = a_page(await follow(browser, rp.authorization_url(scope, **params)))
    consent = start if start.has("allow") else a_page(await sign_in_for(browser, start))
    callback = await submit(browser, consent, "allow")
    the_client(callback, rp)
    assert isinstance(callback, str)
    return callback


async def userinfo(http: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await http.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"})
