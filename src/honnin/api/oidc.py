"""The OpenID Connect provider's endpoints for applications: discovery, the JWKS (the keys
that verify the ID tokens and access tokens honnin signs: `oidc.keys`), the token endpoint
and userinfo. Standard documents and protocols, so out of the API reference."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

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


@router.post("/oauth/token", include_in_schema=False)  # RFC 6749 §3.2
async def token(request: Request) -> Response:
    """A code's exchange, or a refresh (Authlib: `oidc.server`)."""
    if not request.headers.get("content-type", "").startswith(FORM):
        return _oauth_error(400, "invalid_request", f"Send the parameters as {FORM}.")
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    oidc = runtime_of(request).oidc
    answer = await oidc.token(f"{oidc.issuer}/oauth/token", request.headers, items)
    return JSONResponse(answer.body, status_code=answer.status, headers=_no_store(answer.headers))


@router.api_route("/oauth/userinfo", methods=["GET", "POST"], include_in_schema=False)
async def userinfo(request: Request) -> Response:
    """The claims an access token opens (OpenID Connect Core §5.3; RFC 6750 bearer)."""
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer realm="honnin"'})
    claims = await runtime_of(request).oidc.userinfo(presented.strip())
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


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
