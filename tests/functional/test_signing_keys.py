"""The OpenID Connect provider's signing keys: the JWKS publishes their public halves (made on
first use, one per algorithm), a rotated key is published before it signs and the key it
replaces stays published until every token it signed has expired; private keys are sealed at
rest. Checked with joserfc as a client would (thumbprints, signatures)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import JWKRegistry
from pydantic import ValidationError
from sqlalchemy import select

from honnin.config import Settings
from honnin.oidc.models import SigningKey
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.operators import Operator


async def published(http: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await http.get("/oauth/jwks")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    assert response.headers["cache-control"] == "public, max-age=300"
    return {key["kid"]: key for key in response.json()["keys"]}


async def signer(runtime: Runtime, alg: str) -> str:
    async with runtime.db.transaction() as tx:
        kid, _key = await runtime.signing_keys.signing(tx, alg)
    return kid


async def test_the_jwks_publishes_one_public_key_per_algorithm(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    keys = await published(http)
    assert sorted(key["alg"] for key in keys.values()) == ["ES256", "RS256"]
    for kid, key in keys.items():
        assert key["use"] == "sig"
        assert "d" not in key  # the public half only
        assert JWKRegistry.import_key(key).thumbprint() == kid  # RFC 7638
    async with runtime.db.transaction() as tx:
        kid, private = await runtime.signing_keys.signing(tx, "ES256")
        rows = list(await tx.session.scalars(select(SigningKey)))
    token = jws.serialize_compact({"alg": "ES256", "kid": kid}, b"claims", private)
    verified = jws.deserialize_compact(token, JWKRegistry.import_key(keys[kid]))
    assert verified.payload == b"claims"
    for row in rows:
        assert b"PRIVATE KEY" not in row.private_sealed  # sealed, not in clear


async def test_a_new_key_is_published_before_it_signs_and_the_old_stays_until_its_tokens_end(
    http: httpx.AsyncClient, runtime: Runtime, clock: ShiftableClock
) -> None:
    before = set(await published(http))
    old = await signer(runtime, "RS256")
    rotated = await runtime.signing_keys.rotate()
    now = set(await published(http))
    assert before < now  # published at once, beside the old ones
    new = next(key.kid for key in rotated if key.alg == "RS256")
    assert await signer(runtime, "RS256") == old  # not signing yet
    ahead = runtime.settings.oidc_key_publish_ahead_seconds
    clock.advance(seconds=ahead + 1)
    assert await signer(runtime, "RS256") == new
    assert old in await published(http)  # tokens it signed may still be alive
    longest = max(
        runtime.settings.oidc_id_token_seconds, runtime.settings.oidc_access_token_seconds
    )
    clock.advance(seconds=longest)
    assert old not in await published(http)
    assert new in await published(http)


async def test_operators_rotate_and_list_the_keys(
    operator: Operator, http: httpx.AsyncClient, clock: ShiftableClock
) -> None:
    code, out = await operator.run("keys", "list", "--json")
    assert code == 0, out
    assert sorted((k["alg"], k["state"]) for k in json.loads(out)) == [
        ("ES256", "signing"),
        ("RS256", "signing"),
    ]
    code, out = await operator.run("keys", "rotate")
    assert code == 0, out
    assert "new keys: published now, signing from" in out
    code, out = await operator.run("keys", "list", "--json")
    states = sorted((k["alg"], k["state"]) for k in json.loads(out))
    assert states == [
        ("ES256", "published"),
        ("ES256", "signing"),
        ("RS256", "published"),
        ("RS256", "signing"),
    ]
    assert len(await published(http)) == 4


async def test_a_rotation_before_any_key_keeps_one_signing_meanwhile(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The very first `honnin keys rotate`: the first keys are made (signing at once), then
    the new ones are published ahead; no unpublished key ever signs."""
    rotated = {key.kid for key in await runtime.signing_keys.rotate()}
    keys = await published(http)
    assert len(keys) == 4
    kid = await signer(runtime, "RS256")
    assert kid in keys
    assert kid not in rotated


async def test_a_longer_token_life_keeps_a_retired_key_published_longer(
    http: httpx.AsyncClient, runtime: Runtime, clock: ShiftableClock
) -> None:
    await published(http)
    old = await signer(runtime, "RS256")
    await runtime.signing_keys.rotate()
    clock.advance(seconds=runtime.settings.oidc_key_publish_ahead_seconds + 1)
    runtime.signing_keys.longest_token = timedelta(hours=5)  # the lifetimes were raised
    clock.advance(hours=2)  # past the old lifetime (1 hour), within the new
    assert old in await published(http)


def test_a_key_is_published_at_least_as_long_as_the_jwks_is_cached() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 300"):
        Settings(oidc_key_publish_ahead_seconds=60)
