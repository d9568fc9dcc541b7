"""The applications that sign their users in with honnin (OpenID Connect clients), as
operators register them (`honnin clients create NAME --oidc …`).

- Redirect URIs will be matched exactly, so they are judged now: absolute, no fragment, https
  — or http on a loopback host (localhost, 127.0.0.1, [::1]), for development and native apps
  (RFC 8252 §7.3).
- Subjects are pairwise by default (OpenID Connect Core §8.1): per sector, the host of the
  redirect URIs. A client whose redirect URIs have several hosts needs a
  `sector_identifier_uri`: a JSON array that lists every one of its redirect URIs, fetched and
  checked now; its host is then the sector. `public` subjects are the same for every client.
- A confidential client gets a secret (256 random bits) shown once and stored as its SHA-256
  digest (a slow hash adds nothing against guessing 256 bits), compared in constant time; a
  public client has none and must use PKCE. A client with a `jwks_uri` authenticates with
  `private_key_jwt` and has no secret at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from honnin.clock import Clock
from honnin.crypto import same
from honnin.db import Database, Tx, id_in
from honnin.errors import Conflict, InvalidInput, NotFound
from honnin.i18n import LazyText, _
from honnin.oidc.keys import ALGORITHMS
from honnin.oidc.models import OidcClient

SECRET_PREFIX = "hnc_"  # noqa: S105 - the prefix of every client secret, not one
SUBJECT_TYPES = ("pairwise", "public")
LOOPBACK = ("localhost", "127.0.0.1", "::1")
# why a sector identifier's document could not be read (not JSON, too big, too slow…)
UNREADABLE = (httpx.HTTPError, httpx.InvalidURL, ValueError, RecursionError, TimeoutError)
Fetch = Callable[[str], Awaitable[object]]


@dataclass(frozen=True)
class OidcClientView:
    id: uuid.UUID
    name: str
    public: bool
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    subject_type: str
    sector: str
    sector_identifier_uri: str | None
    id_token_alg: str
    jwks_uri: str | None
    created_at: datetime
    disabled_at: datetime | None

    @property
    def auth_method(self) -> str:
        """How it authenticates at the token endpoint (`client_secret_post` is accepted
        too for a client with a secret)."""
        if self.public:
            return "none"
        return "private_key_jwt" if self.jwks_uri else "client_secret_basic"


@dataclass(frozen=True)
class Registration:
    name: str
    redirect_uris: Sequence[str]
    public: bool = False
    post_logout_redirect_uris: Sequence[str] = field(default_factory=tuple)
    subject_type: str = "pairwise"
    sector_identifier_uri: str | None = None
    id_token_alg: str = "RS256"  # noqa: S105 - an algorithm's name
    jwks_uri: str | None = None


@dataclass(frozen=True)
class NewOidcClient:
    client: OidcClientView
    secret: str | None  # a confidential client's, shown this once


def view_of(row: OidcClient) -> OidcClientView:
    return OidcClientView(
        row.id, row.name, row.public, list(row.redirect_uris),
        list(row.post_logout_redirect_uris), row.subject_type, row.sector,
        row.sector_identifier_uri, row.id_token_alg, row.jwks_uri, row.created_at,
        row.disabled_at,
    )  # fmt: skip


def digest(secret: str) -> bytes:
    """A secret of 256 random bits as it is stored (a client's, a code, a refresh token): its
    SHA-256 digest (a slow hash adds nothing against guessing 256 bits)."""
    return hashlib.sha256(secret.encode()).digest()


def secret_matches(stored: bytes | None, secret: str) -> bool:
    """Whether `secret` is the one whose digest is `stored` (constant time; the same work
    when there is none)."""
    return same(stored or bytes(32), digest(secret)) and stored is not None


async def find(tx: Tx, client_id: str) -> OidcClient | None:
    """The client with this id, if any (an id that is no UUID names none)."""
    key = id_in(client_id)
    return None if key is None else await tx.session.get(OidcClient, key)


def checked_uri(uri: str, what: LazyText) -> str:
    """A URI a client registers, as it will be matched: absolute, https (or http on a loopback
    host), a host name and a valid port, no user name, no fragment, nothing but printable
    ASCII (what is stored is what is compared)."""
    refused = InvalidInput(
        _(
            "{what} {uri} can't be used: give an absolute https:// URI with a host name, "
            "without a user name or a fragment (http:// only for localhost, 127.0.0.1 or "
            "[::1]).",
            what=what,
            uri=uri[:200],
        )
    )
    if not uri or any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in uri) or "#" in uri:
        raise refused
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - a port that is no number, or out of range, raises
    except ValueError:
        raise refused from None
    host = parts.hostname or ""
    if (
        not host
        or "*" in host
        or "@" in parts.netloc
        or not (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK))
    ):
        raise refused
    return uri


async def fetch_json(uri: str) -> object:
    """A sector identifier's document: at most 64 KiB, in at most 10 s (an operator waits)."""

    async def read() -> object:
        body = b""
        async with (
            httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client,
            client.stream("GET", uri) as response,
        ):
            response.raise_for_status()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > 65_536:
                    raise ValueError("the document is larger than 64 KiB")
        return json.loads(body)

    return await asyncio.wait_for(read(), timeout=10.0)


class OidcClients:
    def __init__(self, db: Database, clock: Clock, *, fetch: Fetch = fetch_json) -> None:
        self.db = db
        self.clock = clock
        self.fetch = fetch

    async def create(self, registration: Registration) -> NewOidcClient:
        reg = registration
        name = reg.name.strip()
        if not name or len(name) > 100:
            raise InvalidInput(_("Give the application a name of 1 to 100 characters."))
        if not reg.redirect_uris:
            raise InvalidInput(_("Give at least one redirect URI (--redirect-uri)."))
        redirects = [checked_uri(uri, _("The redirect URI")) for uri in reg.redirect_uris]
        logouts = [
            checked_uri(uri, _("The post-logout redirect URI"))
            for uri in reg.post_logout_redirect_uris
        ]
        if reg.subject_type not in SUBJECT_TYPES:
            raise InvalidInput(_("The subject type is pairwise or public."))
        if reg.id_token_alg not in ALGORITHMS:
            raise InvalidInput(_("ID tokens are signed with RS256 or ES256."))
        jwks_uri = checked_uri(reg.jwks_uri, _("The JWKS URI")) if reg.jwks_uri else None
        if reg.public and jwks_uri:
            raise InvalidInput(
                _("A public client has no keys of its own: leave out --jwks-uri or --public.")
            )
        sector = await self._sector(redirects, reg.sector_identifier_uri, reg.subject_type)
        # a client with keys of its own signs its assertions with them (private_key_jwt): no
        # secret to leak, and none that would be accepted instead
        has_secret = not reg.public and jwks_uri is None
        secret = f"{SECRET_PREFIX}{secrets.token_urlsafe(32)}" if has_secret else None
        row = OidcClient(
            id=uuid.uuid4(),
            name=name,
            public=reg.public,
            secret_digest=digest(secret) if secret else None,
            redirect_uris=redirects,
            post_logout_redirect_uris=logouts,
            subject_type=reg.subject_type,
            sector=sector,
            sector_identifier_uri=reg.sector_identifier_uri,
            id_token_alg=reg.id_token_alg,
            jwks_uri=jwks_uri,
            created_at=self.clock.now(),
        )
        async with self.db.transaction() as tx:
            tx.session.add(row)
        return NewOidcClient(view_of(row), secret)

    async def _sector(self, redirects: list[str], identifier: str | None, subject_type: str) -> str:
        """The host pairwise subjects are per: the redirect URIs' one host, or the sector
        identifier URI's (whose document must list every redirect URI)."""
        hosts = {urlsplit(uri).hostname or "" for uri in redirects}
        if identifier is None:
            if len(hosts) > 1 and subject_type == "pairwise":
                raise InvalidInput(
                    _(
                        "The redirect URIs have several hosts: give a sector identifier URI "
                        "(--sector-identifier-uri) that lists them all, so that every one of "
                        "them gets the same pairwise subjects."
                    )
                )
            return hosts.pop()
        checked_uri(identifier, _("The sector identifier URI"))
        try:
            listed = await self.fetch(identifier)
        except (
            httpx.HTTPError,
            httpx.InvalidURL,
            ValueError,
            RecursionError,
            TimeoutError,
        ) as error:
            raise InvalidInput(
                _("The sector identifier URI {uri} could not be read: {error}",
                  uri=identifier, error=str(error)[:200])
            ) from None  # fmt: skip
        if not isinstance(listed, list) or not all(isinstance(u, str) for u in listed):
            raise InvalidInput(
                _("The sector identifier URI {uri} must serve a JSON array of URIs.",
                  uri=identifier)
            )  # fmt: skip
        missing = [uri for uri in redirects if uri not in listed]
        if missing:
            raise InvalidInput(
                _("The sector identifier URI's document does not list {uri}.", uri=missing[0])
            )
        return urlsplit(identifier).hostname or ""

    async def listed(self) -> list[OidcClientView]:
        async with self.db.transaction(write=False) as tx:
            rows = await tx.session.scalars(select(OidcClient).order_by(OidcClient.created_at))
            return [view_of(row) for row in rows]

    async def get(self, client_id: str) -> OidcClientView:
        async with self.db.transaction(write=False) as tx:
            return view_of(await self._row(tx, client_id))

    async def disable(self, client_id: str) -> OidcClientView:
        """It signs nobody in from now on (its tokens expire as they would)."""
        async with self.db.transaction() as tx:
            row = await self._row(tx, client_id)
            if row.disabled_at is None:
                row.disabled_at = self.clock.now()
            return view_of(row)

    async def rotate_secret(self, client_id: str) -> str:
        """A new secret, shown once; the old one stops working at once."""
        async with self.db.transaction() as tx:
            row = await self._row(tx, client_id)
            if row.public:
                raise Conflict(_("A public client has no secret."))
            if row.jwks_uri:
                raise Conflict(
                    _("This client signs in with its keys (private_key_jwt): it has no secret.")
                )
            secret = f"{SECRET_PREFIX}{secrets.token_urlsafe(32)}"
            row.secret_digest = digest(secret)
            return secret

    async def authenticate(self, client_id: str, secret: str) -> OidcClientView | None:
        """The client, if `secret` is its secret (constant time) and it is enabled."""
        try:
            async with self.db.transaction(write=False) as tx:
                row = await self._row(tx, client_id)
        except NotFound:
            secret_matches(None, secret)  # the same work
            return None
        if not secret_matches(row.secret_digest, secret) or row.disabled_at is not None:
            return None
        return view_of(row)

    @staticmethod
    async def _row(tx: Tx, client_id: str) -> OidcClient:
        row = await find(tx, client_id)
        if row is None:
            raise NotFound(_("No OpenID Connect client has the id {id}.", id=client_id))
        return row
