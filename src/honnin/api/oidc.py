"""The OpenID Connect provider's endpoints for applications: discovery, the JWKS (the keys
that verify the ID tokens and access tokens honnin signs: `oidc.keys`), the token,
revocation and introspection endpoints, and userinfo. Standard documents and protocols, so
out of the API reference."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from honnin.errors import RateLimited
from honnin.limits.service import Requester
from honnin.oidc.server import Answer
from honnin.runtime import runtime_of

router = APIRouter(tags=["openid-connect"])

# short against the publish-ahead time: a client that caches the JWKS this long sees a new key
# days before it signs anything
JWKS_MAX_AGE = 300


@router.get("/oauth/jwks", include_in_schema=False)  # a standard document: RFC 7517
async def jwks(request: Request) -> JSONResponse:
    """Every key a client may meet: the ones signing, one about to (published ahead), and
    retired ones while tokens they signed are alive."""
    keys: dict[str, Any] = await runtime_of(request).signing_keys.jwks()
    return JSONResponse(
        keys,
        media_type="application/jwk-set+json",
        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"},
    )


@router.get("/.well-known/openid-configuration", include_in_schema=False)  # OpenID Discovery
async def discovery(request: Request) -> JSONResponse:
    return JSONResponse(
        runtime_of(request).oidc.discovery(),
        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"},
    )


def _no_store(headers: list[tuple[str, str]]) -> dict[str, str]:
    return {**dict(headers), "Cache-Control": "no-store", "Pragma": "no-cache"}


Endpoint = Callable[[str, Mapping[str, str], list[tuple[str, str]]], Awaitable[Answer]]


async def _client_call(request: Request, endpoint: Endpoint) -> Response:
    """A form POST of an application's server, answered by Authlib (`oidc.server`)."""
    try:
        await runtime_of(request).codes.throttle.oidc_call(_requester(request))
    except RateLimited as limited:
        return _oauth_error(
            429,
            "invalid_request",
            limited.message.render("en"),
            {"Retry-After": str(limited.retry_after)},
        )
    if not request.headers.get("content-type", "").startswith(FORM):
        return _oauth_error(400, "invalid_request", f"Send the parameters as {FORM}.")
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    uri = f"{runtime_of(request).oidc.issuer}{request.url.path}"
    answer = await endpoint(uri, request.headers, items)
    return JSONResponse(answer.body, status_code=answer.status, headers=_no_store(answer.headers))


def _requester(request: Request) -> Requester:
    return Requester(ip=request.client.host if request.client else None)


@router.post("/oauth/token", include_in_schema=False)  # RFC 6749 §3.2
async def token(request: Request) -> Response:
    """A code's exchange, or a refresh."""
    return await _client_call(request, runtime_of(request).oidc.token)


@router.post("/oauth/revoke", include_in_schema=False)  # RFC 7009
async def revoke(request: Request) -> Response:
    """A refresh token, and with it its whole grant."""
    return await _client_call(request, runtime_of(request).oidc.revoke)


@router.post("/oauth/introspect", include_in_schema=False)  # RFC 7662
async def introspect(request: Request) -> Response:
    """Whether a token is active, for the confidential client it was issued to."""
    return await _client_call(request, runtime_of(request).oidc.introspect)


@router.api_route("/oauth/userinfo", methods=["GET", "POST"], include_in_schema=False)
async def userinfo(request: Request) -> Response:
    """The claims an access token opens (OpenID Connect Core §5.3; RFC 6750 bearer)."""
    try:
        await runtime_of(request).codes.throttle.oidc_call(_requester(request))
    except RateLimited as limited:
        return Response(status_code=429, headers={"Retry-After": str(limited.retry_after)})
    presented = await _bearer_token(request)
    if presented == "":  # two ways at once
        return _oauth_error(400, "invalid_request", "Send the access token one way only.")
    if presented is None:
        return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer realm="honnin"'})
    claims = await runtime_of(request).oidc.userinfo(presented)
    if claims is None:
        return Response(
            status_code=401,
            headers={
                "WWW-Authenticate": 'Bearer realm="honnin", error="invalid_token", '
                'error_description="The access token is not valid or has expired."'
            },
        )
    return JSONResponse(claims, headers={"Cache-Control": "no-store"})


FORM = "application/x-www-form-urlencoded"


async def _bearer_token(request: Request) -> str | None:
    """The access token: in the Authorization header (RFC 6750 §2.1) or, in a form POST,
    as `access_token` (§2.2); None: neither; "": both (§3.1: `invalid_request`)."""
    scheme, _, header = request.headers.get("authorization", "").partition(" ")
    in_header = header.strip() if scheme.lower() == "bearer" else ""
    in_body = ""
    if request.method == "POST" and request.headers.get("content-type", "").startswith(FORM):
        value = (await request.form()).get("access_token")
        in_body = value.strip() if isinstance(value, str) else ""
    if in_header and in_body:
        return ""
    return in_header or in_body or None


def _oauth_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )
