"""OpenID Connect clients as operators register them (`honnin clients create NAME --oidc …`):
the client id and a confidential client's secret on lines of their own, shown once and kept
as a digest; redirect URIs judged as they will be matched; pairwise subjects per sector, with
a sector identifier URI that must list every redirect URI; list, show, disable, rotate-secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from honnin.oidc.clients import OidcClients
from honnin.oidc.models import OidcClient
from honnin.runtime import Runtime
from tests.support.operators import Operator
from tests.support.served import serving

APP = "https://app.example.com/callback"


def made(out: str) -> tuple[str, str | None]:
    client_id = re.search(r"^client id: (\S+)$", out, re.M)
    secret = re.search(r"^client secret: (\S+)$", out, re.M)
    assert client_id is not None, out
    return client_id.group(1), secret.group(1) if secret else None


@pytest.fixture
def sector_document() -> Iterator[tuple[str, list[str]]]:
    """A sector identifier URI served on loopback, and the list it serves (change it)."""
    listed: list[str] = []

    def document() -> bytes:
        raw = len(listed) == 1 and not listed[0].startswith("http")  # a document as it is
        return listed[0].encode() if raw else json.dumps(listed).encode()

    with serving({"/sector.json": document}) as served:
        yield served.url("/sector.json"), listed


async def test_a_confidential_client_gets_its_id_and_a_secret_once(
    operator: Operator, runtime: Runtime
) -> None:
    code, out = await operator.run(
        "clients", "create", "Example shop", "--oidc", "--redirect-uri", APP,
        "--post-logout-redirect-uri", "https://app.example.com/bye",
    )  # fmt: skip
    assert code == 0, out
    client_id, secret = made(out)
    assert secret is not None
    assert secret.startswith("hnc_")
    code, out = await operator.run("clients", "show", client_id, "--json")
    shown = json.loads(out)
    assert shown["token_endpoint_auth_method"] == "client_secret_basic"
    assert (shown["subject_type"], shown["sector"]) == ("pairwise", "app.example.com")
    assert shown["redirect_uris"] == [APP]
    assert shown["id_token_alg"] == "RS256"
    assert secret not in out
    async with runtime.db.transaction(write=False) as tx:
        row = await tx.session.scalar(select(OidcClient))
    assert row is not None
    assert row.secret_digest is not None
    assert secret.encode() not in row.secret_digest
    clients = OidcClients(runtime.db, runtime.clock)
    assert (await clients.authenticate(client_id, secret)) is not None
    assert await clients.authenticate(client_id, secret + "x") is None

    code, out = await operator.run("clients", "rotate-secret", client_id)
    assert code == 0, out
    _same, new = made(f"client id: {client_id}\n{out}")
    assert new is not None
    assert await clients.authenticate(client_id, secret) is None  # the old one, at once
    assert await clients.authenticate(client_id, new) is not None
    code, out = await operator.run("clients", "disable", client_id)
    assert code == 0, out
    assert await clients.authenticate(client_id, new) is None


async def test_a_public_client_has_no_secret(operator: Operator) -> None:
    code, out = await operator.run(
        "clients", "create", "Phone app", "--oidc", "--public", "--redirect-uri",
        "http://127.0.0.1:7000/cb", "--subject", "public", "--id-token-alg", "ES256",
    )  # fmt: skip
    assert code == 0, out
    client_id, secret = made(out)
    assert secret is None
    code, out = await operator.run("clients", "show", client_id)
    assert "authenticates  none" in out
    assert "subjects       public" in out
    code, out = await operator.run("clients", "rotate-secret", client_id)
    assert code == 1
    assert "A public client has no secret" in out


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--redirect-uri", "http://app.example.com/cb"], "https://"),
        (["--redirect-uri", "https://app.example.com/cb#top"], "or a fragment"),
        (["--redirect-uri", "/cb"], "absolute"),
        ([], "at least one redirect URI"),
        (["--redirect-uri", APP, "--redirect-uri", "https://other.example.net/cb"], "sector"),
        (["--redirect-uri", APP, "--id-token-alg", "HS256"], "RS256 or ES256"),
        (["--redirect-uri", APP, "--subject", "secret"], "pairwise or public"),
        (["--redirect-uri", APP, "--public", "--jwks-uri", APP], "public client"),
        (["--redirect-uri", "https://app.example.com@evil.example/cb"], "user name"),
        (["--redirect-uri", "https://:443/cb"], "host name"),
        (["--redirect-uri", "https://app.example.com:99999/cb"], "host name"),
        (["--redirect-uri", "https://*.example.com/cb"], "host name"),
        (["--redirect-uri", "https://app.example.com/c b"], "https://"),
        (["--redirect-uri", "https://[::1/cb"], "https://"),
        (["--redirect-uri", APP, "--sector-identifier-uri", "https://host:abc/x"], "host name"),
    ],
)
async def test_what_cannot_be_matched_safely_is_refused(
    operator: Operator, args: list[str], said: str
) -> None:
    code, out = await operator.run("clients", "create", "Shop", "--oidc", *args)
    assert code == 1, out
    assert said in " ".join(out.split())


async def test_redirect_uris_on_several_hosts_need_a_sector_that_lists_them(
    operator: Operator, sector_document: tuple[str, list[str]]
) -> None:
    uri, listed = sector_document
    other = "https://other.example.net/cb"
    args = ["--redirect-uri", APP, "--redirect-uri", other, "--sector-identifier-uri", uri]
    listed.append(APP)
    code, out = await operator.run("clients", "create", "Shop", "--oidc", *args)
    assert code == 1
    assert f"does not list {other}" in " ".join(out.split())
    listed.append(other)
    code, out = await operator.run("clients", "create", "Shop", "--oidc", *args)
    assert code == 0, out
    client_id, _secret = made(out)
    code, out = await operator.run("clients", "show", client_id, "--json")
    assert json.loads(out)["sector"] == "127.0.0.1"


async def test_a_client_with_keys_of_its_own_has_no_secret(operator: Operator) -> None:
    code, out = await operator.run(
        "clients", "create", "Bank", "--oidc", "--redirect-uri", APP,
        "--jwks-uri", "https://app.example.com/jwks.json",
    )  # fmt: skip
    assert code == 0, out
    client_id, secret = made(out)
    assert secret is None  # private_key_jwt: its assertions, never a secret
    code, out = await operator.run("clients", "show", client_id)
    assert "authenticates  private_key_jwt" in out
    code, out = await operator.run("clients", "rotate-secret", client_id)
    assert code == 1
    assert "it has no secret" in " ".join(out.split())


@pytest.mark.parametrize(
    ("served", "said"),
    [('{"uris": []}', "must serve a JSON array"), ("[" * 5000, "could not be read")],
)
async def test_a_sector_document_that_is_no_list_of_uris_is_refused(
    operator: Operator, sector_document: tuple[str, list[str]], served: str, said: str
) -> None:
    uri, listed = sector_document
    listed.append(served)  # served as it is (the fixture serves a lone non-URI raw)
    code, out = await operator.run(
        "clients", "create", "Shop", "--oidc", "--redirect-uri", APP,
        "--sector-identifier-uri", uri,
    )  # fmt: skip
    assert code == 1, out
    assert said in " ".join(out.split())
    assert "Traceback" not in out


async def test_an_api_client_is_listed_and_disabled_too(operator: Operator) -> None:
    code, out = await operator.run("clients", "create", "Backend")
    key = out.strip().splitlines()[-1]
    code, out = await operator.run("clients", "list", "--json")
    [api] = json.loads(out)
    assert api["kind"] == "api"
    assert key.startswith("hnn_")
    code, out = await operator.run("clients", "disable", api["id"])
    assert code == 0, out
    assert "its API key no longer works" in out
    code, out = await operator.run("clients", "list", "--json")
    assert json.loads(out)[0]["revoked_at"] is not None  # every process refuses it within 10 s
    code, out = await operator.run("clients", "create", "Shop", "--redirect-uri", APP)
    assert code == 1
    assert "need --oidc" in out
