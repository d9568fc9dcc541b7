"""The OpenID Connect provider's public endpoints (issue 15): the JWKS first — the keys that
verify the ID tokens and access tokens honnin signs (`oidc.keys`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

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
