"""The OAuth 2.0 and OpenID Connect protocol, by Authlib: its authorization server, grants
and endpoints, fitted to honnin's records.

Authlib calls its methods synchronously, and honnin's database is async. So an endpoint runs
Authlib's work in a worker thread (`Bridge.call`), and each of Authlib's calls for a record
comes back to the event loop (`Bridge.run`), in the one transaction the endpoint holds open:
a code's exchange (spend the code, make the grant, sign the tokens) commits or fails whole.
Authlib stamps tokens with the system clock; honnin's own clock decides `iat` and `exp`
instead (`Provider.now`), so tests can move time.
"""

from __future__ import annotations

import contextvars
import secrets
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

import anyio.from_thread
import anyio.to_thread
from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import OpenIDCode, UserInfo
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from honnin.db import Tx
from honnin.oidc import store
from honnin.oidc.clients import OidcClientView, secret_matches
from honnin.oidc.models import AuthorizationCode, Grant

T = TypeVar("T")
SCOPES = ("openid", "profile", "email", "phone", "offline_access")
# the endpoints where a client authenticates (an assertion may name any as its audience)
CLIENT_ENDPOINTS = ("/oauth/token", "/oauth/revoke", "/oauth/introspect")
ACCESS_TOKEN_ALG = "RS256"  # noqa: S105 - an algorithm's name
# how clients authenticate at the token endpoint (each client by its one: `Client`)
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
CONFIDENTIAL = AUTH_METHODS[:3]  # introspection: a client that can keep a secret
# what a client's assertion may be signed with: asymmetric only (a client's JWKS is public:
# an HMAC key in it would let anyone sign)
ASSERTION_ALGORITHMS = ["RS256", "PS256", "ES256"]
ASSERTION_MAX_SECONDS = 3600  # its jti is kept this long at most
GRANT_CLAIM = "grant"  # an access token's grant (a private claim: honnin reads it back)


@dataclass(frozen=True)
class Client(ClientMixin):  # type: ignore[misc]
    """A registered client as Authlib asks about it."""

    view: OidcClientView
    secret_digest: bytes | None
    id_token_signed_response_alg: str = "RS256"  # noqa: S105 - the registered algorithm

    def get_client_id(self) -> str:
        return str(self.view.id)

    def get_default_redirect_uri(self) -> str | None:
        return None  # OpenID Connect: the request names it, and it must match exactly

    def get_allowed_scope(self, scope: str | None) -> str:
        asked = (scope or "").split()
        return " ".join(s for s in dict.fromkeys(asked) if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.view.redirect_uris  # exactly, character for character

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(self.secret_digest, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.view.public:
            return method == "none"
        if self.view.jwks_uri:
            return method == "private_key_jwt"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")

    @property
    def client_metadata(self) -> dict[str, Any]:
        """What Authlib's end-session endpoint reads."""
        return {"post_logout_redirect_uris": self.view.post_logout_redirect_uris}


@dataclass(frozen=True)
class Person:
    """Who a code or a refresh token is for, and how they signed in."""

    account_id: uuid.UUID
    sub: str
    auth_time: datetime
    amr: tuple[str, ...]
    acr: str
    claims: dict[str, Any]  # what every scope granted opens (filtered per token)
    sid: uuid.UUID | None = None  # the honnin session of the sign-in (a code's)
    grant_id: uuid.UUID | None = None  # a refresh token's grant


class Payload(OAuth2Payload):  # type: ignore[misc]
    """A request's parameters: the last value of each, and every value (Authlib refuses
    repeated ones)."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._data = dict(items)
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in items:
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class Request(OAuth2Request):  # type: ignore[misc]
    def __init__(
        self, method: str, uri: str, headers: Mapping[str, str], items: list[tuple[str, str]]
    ) -> None:
        super().__init__(method, uri, headers=headers)  # as given: case-insensitive
        self.payload = Payload(items)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data


@dataclass(frozen=True)
class Answer:
    """What Authlib answers: a status, a body (JSON or empty) and headers."""

    status: int
    body: dict[str, Any] | str
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)


Store = Callable[..., Awaitable[Any]]


class Bridge:
    """One endpoint call: Authlib in a worker thread, its record calls back on the event loop
    in the endpoint's transaction."""

    current: contextvars.ContextVar[Bridge] = contextvars.ContextVar("oidc_bridge")

    def __init__(self, tx: Tx, now: datetime, *, client: Client | None = None) -> None:
        self.tx = tx
        self.now = now
        self.signers: dict[str, tuple[str, RSAKey | ECKey]] = {}
        # the client the endpoint has read already (Authlib asks for it again)
        self.client = client
        self.assertion_kid: str | None = None  # the key a client's assertion names

    def run(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        return anyio.from_thread.run(fn, *args)

    async def call(self, work: Callable[[], T]) -> T:
        def in_thread() -> T:
            Bridge.current.set(self)
            return work()

        return await anyio.to_thread.run_sync(in_thread)


def bridge() -> Bridge:
    return Bridge.current.get()


class Records:
    """What the provider needs from honnin, asked from the event loop (`oidc.provider`)."""

    async def client(self, tx: Tx, client_id: str) -> Client | None:
        raise NotImplementedError

    async def person_of_code(
        self, tx: Tx, code: AuthorizationCode, client: Client
    ) -> Person | None:
        raise NotImplementedError

    async def person_of_grant(self, tx: Tx, grant: Grant, client: Client) -> Person | None:
        raise NotImplementedError

    async def signer(self, tx: Tx, alg: str) -> tuple[str, RSAKey | ECKey]:
        raise NotImplementedError

    async def client_keys(self, client: Client, kid: str | None) -> KeySet | None:
        """The public keys of a client that signs assertions (None: not to be read)."""
        raise NotImplementedError

    async def id_token_claims(self, tx: Tx, token: str) -> dict[str, Any] | None:
        """The claims of an ID token honnin issued (expired or not, while its key is
        published); None: it is not one."""
        raise NotImplementedError

    async def introspection(self, tx: Tx, token: str) -> dict[str, Any] | None:
        """What RFC 7662 says of a token honnin issued (None: not one of ours)."""
        raise NotImplementedError

    async def is_access_token(self, tx: Tx, token: str) -> bool:
        """Whether honnin signed it as an access token (alive or not)."""
        raise NotImplementedError


class _CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE: S256 only; required of public clients, allowed for confidential ones."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Give 'code_challenge_method=S256' with the challenge.")
        if grant.request.client.view.public and not data.get("code_challenge"):
            raise InvalidRequestError("A public client must use PKCE ('code_challenge', S256).")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Request) -> bool:
        b = bridge()
        return b.run(store.nonce_used, b.tx, request.client.view.id, nonce, b.now)

    def resolve_client_private_key(self, client: Client) -> RSAKey | ECKey:
        return self.provider.signer(client.view.id_token_alg)[1]

    def get_encode_header(self, client: Client) -> dict[str, str]:
        kid, _key = self.provider.signer(client.view.id_token_alg)
        return {"alg": client.view.id_token_alg, "kid": kid, "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        now = int(bridge().now.timestamp())
        return {
            "iss": self.provider.issuer,
            "aud": [client.get_client_id()],
            "iat": now,
            "exp": now + self.provider.id_token_seconds,
        }

    def get_authorization_code_claims(self, code: _Code) -> dict[str, Any]:
        authorization_code = code.row
        claims: dict[str, Any] = {
            "auth_time": int(authorization_code.auth_time.timestamp()),
            "acr": authorization_code.acr,
            "amr": authorization_code.amr.split(),
            "sid": str(authorization_code.sid),
        }
        if authorization_code.nonce:
            claims["nonce"] = authorization_code.nonce
        return claims

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return UserInfo(sub=user.sub, **claims_for(user, scope))


def claims_for(person: Person, scope: str) -> dict[str, Any]:
    """The person's claims that `scope` opens."""
    opened = {
        "profile": ("locale", "zoneinfo"),
        "email": ("email", "email_verified"),
        "phone": ("phone_number", "phone_number_verified"),
    }
    names = {name for s in scope.split() for name in opened.get(s, ())}
    return {k: v for k, v in person.claims.items() if k in names}


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = AUTH_METHODS
    AUTHORIZATION_CODE_LENGTH = 43

    def generate_authorization_code(self) -> str:
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code: str, request: Request) -> None:
        provider: Provider = self.server
        b = bridge()
        person: Person = request.user
        data = request.payload.data
        grant = store.CodeGrant(
            account_id=person.account_id,
            redirect_uri=data["redirect_uri"],
            scope=request.scope,
            nonce=data.get("nonce") or None,
            code_challenge=data.get("code_challenge") or None,
            code_challenge_method=data.get("code_challenge_method") or None,
            auth_time=person.auth_time,
            amr=person.amr,
            acr=person.acr,
            sid=person.sid or uuid.UUID(int=0),
        )
        b.run(store.add_code, b.tx, code, request.client.view.id, grant, b.now, provider.code_ttl)

    def query_authorization_code(self, code: str, client: Client) -> _Code | None:
        b = bridge()
        row = b.run(store.take_code, b.tx, code, client.view.id, b.now)
        return _Code(row) if row is not None else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        pass  # spent as it was taken (`store.take_code`)

    def authenticate_user(self, authorization_code: _Code) -> Person | None:
        """Whom the code is for, and the grant its exchange makes now: every token it gives
        names the grant, so that revoking it (a second exchange, a revocation) stops them."""
        provider: Provider = self.server
        b = bridge()
        row = authorization_code.row
        person = b.run(provider.records.person_of_code, b.tx, row, self.request.client)
        if person is None:
            return None
        grant_id = b.run(store.add_grant, b.tx, row, row.scope, b.now)
        return replace(person, grant_id=grant_id)


@dataclass(frozen=True)
class _Code:
    """A code's record as Authlib reads it."""

    row: AuthorizationCode

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    @property
    def code_challenge(self) -> str | None:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str | None:
        return self.row.code_challenge_method


class _RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotated on every use

    def authenticate_refresh_token(self, refresh_token: str) -> _Held | None:
        b = bridge()
        client: Client = self.request.client
        grant = b.run(store.take_refresh_token, b.tx, refresh_token, client.view.id, b.now)
        return _Held(grant) if grant is not None else None

    def authenticate_user(self, refresh_token: _Held) -> Person | None:
        provider: Provider = self.server
        b = bridge()
        return b.run(
            provider.records.person_of_grant, b.tx, refresh_token.grant, self.request.client
        )

    def revoke_old_credential(self, refresh_token: _Held) -> None:
        pass  # spent as it was taken (`store.take_refresh_token`)


@dataclass(frozen=True)
class _Held:
    """A refresh token as Authlib checks it: of its grant's client, with its grant's scope."""

    grant: Grant

    def check_client(self, client: Client) -> bool:
        return self.grant.client_id == client.view.id

    def get_scope(self) -> str:
        return self.grant.scope


class _PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    """`private_key_jwt` (OpenID Connect Core §9, RFC 7523): an assertion signed by one of
    the keys at the client's `jwks_uri`, checked by honnin's clock, and spent by its `jti`."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, provider: Provider) -> None:
        super().__init__(validate_jti=True, leeway=60)
        self.provider = provider

    def get_audiences(self) -> list[str]:
        """The issuer, or the endpoint the client calls (client libraries name it)."""
        issuer = self.provider.issuer
        return [issuer, *(f"{issuer}{path}" for path in CLIENT_ENDPOINTS)]

    def extract_assertion(self, assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
        headers, claims = super().extract_assertion(assertion)
        kid = headers.get("kid")
        bridge().assertion_kid = kid if isinstance(kid, str) else None
        return headers, claims

    def resolve_client_public_key(self, client: Client) -> KeySet:
        if not client.view.jwks_uri:
            raise InvalidClientError(description="The client has no keys to sign with.")
        b = bridge()
        keys = b.run(self.provider.records.client_keys, client, b.assertion_kid)
        if keys is None:
            raise InvalidClientError(description="The client's keys (jwks_uri) can't be read.")
        return keys

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS)
        except (JoseError, ValueError) as error:
            description = getattr(error, "description", None) or "Invalid assertion."
            raise InvalidClientError(description=description) from error
        self.verify_claims(token.claims)
        return dict(token.claims)

    def verify_claims(self, claims: dict[str, Any]) -> None:
        now = int(bridge().now.timestamp())
        registry = jwt.JWTClaimsRegistry(
            now=now,
            leeway=self.leeway,
            iss={"essential": True},
            sub={"essential": True},
            aud={"essential": True, "values": self.get_audiences()},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise InvalidClientError(description=error.description) from error
        if claims["sub"] != claims["iss"]:
            raise InvalidClientError(description="'iss' and 'sub' must both be the client_id.")
        if not isinstance(claims["exp"], int) or claims["exp"] > now + ASSERTION_MAX_SECONDS:
            raise InvalidClientError(description="An assertion may live an hour at most.")
        if not self.validate_jti(claims, claims["jti"]):
            raise InvalidClientError(description="This assertion was used before (jti).")

    def validate_jti(self, claims: dict[str, Any], jti: Any) -> bool:
        b = bridge()
        if not isinstance(jti, str) or not 0 < len(jti) <= 200:
            raise InvalidClientError(description="'jti' must be a string of 1–200 characters.")
        client_id = uuid.UUID(claims["sub"])  # the client found by it: a valid id
        # kept as long as it is accepted: its exp, and the leeway after it
        expires_at = datetime.fromtimestamp(claims["exp"] + self.leeway, tz=b.now.tzinfo)
        return b.run(store.spend_assertion, b.tx, client_id, jti, expires_at, b.now)


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: a refresh token revokes its whole grant (the family its rotations made).
    An access token can't be revoked: it is a signed JWT that expires in minutes, and the
    client hears `unsupported_token_type` (not a 200 that would say it was)."""

    CLIENT_AUTH_METHODS = AUTH_METHODS  # a public client revokes its own, by its client_id

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Held | None:
        b = bridge()
        held = b.run(store.find_refresh_token, b.tx, token_string)
        if held is not None:
            return _Held(held.grant)
        if b.run(self.server.records.is_access_token, b.tx, token_string):
            raise _NotRevocable(
                description="Access tokens expire on their own; revoke the refresh token."
            )
        return None  # unknown, or expired and gone: nothing to revoke (RFC 7009 §2.2)

    def revoke_token(self, token: _Held, request: Request) -> None:
        b = bridge()
        b.run(store.revoke_grant, b.tx, token.grant.id, b.now)


class _NotRevocable(OAuth2Error):  # type: ignore[misc]
    """RFC 7009 §2.2.1, with the status of RFC 6749 §5.2 (Authlib's says 401)."""

    error = "unsupported_token_type"
    status_code = 400


class _Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662, for confidential clients, about the tokens issued to them."""

    CLIENT_AUTH_METHODS = CONFIDENTIAL

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Introspected | None:
        b = bridge()
        found = b.run(self.server.records.introspection, b.tx, token_string)
        return _Introspected(found) if found is not None else None

    def check_permission(self, token: _Introspected, client: Client, request: Request) -> bool:
        return token.payload.get("client_id") == client.get_client_id()

    def introspect_token(self, token: _Introspected) -> dict[str, Any]:
        return token.payload if token.payload.get("active") else {"active": False}


@dataclass(frozen=True)
class _Introspected:
    """A token's RFC 7662 answer, decided by `Records.introspection` (active or not)."""

    payload: dict[str, Any]

    def is_expired(self) -> bool:
        return False  # decided in `payload["active"]`

    def is_revoked(self) -> bool:
        return False


class _EndSession(EndSessionEndpoint):  # type: ignore[misc]
    """RP-initiated logout: the `id_token_hint` must be an ID token honnin signed (expired
    or not) with a key still published; a post-logout redirect URI must be registered."""

    def _validate_id_token_hint(self, id_token_hint: str) -> dict[str, Any]:
        """One rule for an ID token given back, here and at the authorization endpoint
        (`Records.id_token_claims`)."""
        b = bridge()
        claims: dict[str, Any] | None = b.run(
            self.server.records.id_token_claims, b.tx, id_token_hint
        )
        if claims is None:
            raise InvalidRequestError("The id_token_hint is not an ID token honnin issued.")
        return claims

    def resolve_client_from_id_token_claims(self, id_token_claims: dict[str, Any]) -> Any:
        aud = id_token_claims.get("aud")
        if isinstance(aud, list) and len(aud) == 1:  # honnin's: the one client, in a list
            aud = aud[0]
        return self.server.query_client(aud) if isinstance(aud, str) else None

    def is_post_logout_redirect_uri_legitimate(
        self, request: Request, uri: str, client: Client, logout_hint: str | None
    ) -> bool:
        """Without an ID token: the person confirms on honnin's page, which names the
        application, before anyone is signed out (`web.oidc`); with nobody signed in there
        is nothing to confirm, and the browser goes back to the registered URI."""
        return True

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        pass  # the browser's sign-out is the page's (`web.oidc`), once this has checked


class Provider(AuthorizationServer):  # type: ignore[misc]
    def __init__(
        self,
        records: Records,
        *,
        issuer: str,
        id_token_seconds: int,
        access_token_seconds: int,
        refresh_token_seconds: int,
        code_seconds: int,
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.records = records
        self.issuer = issuer
        self.id_token_seconds = id_token_seconds
        self.access_token_seconds = access_token_seconds
        self.refresh_ttl = timedelta(seconds=refresh_token_seconds)
        self.code_ttl = timedelta(seconds=code_seconds)
        self.register_grant(_CodeGrant, [_CodeChallenge(required=True), _OpenIDCode(self)])
        self.register_grant(_RefreshGrant)
        self.register_token_generator("default", self._tokens)
        self.register_client_auth_method("private_key_jwt", _PrivateKeyJwt(self))
        self.register_endpoint(_Revocation)
        self.register_endpoint(_Introspection)
        self.register_endpoint(_EndSession)

    # -- what Authlib asks of a framework

    def query_client(self, client_id: str) -> Client | None:
        b = bridge()
        if b.client is not None and b.client.get_client_id() == client_id:
            return b.client
        return b.run(self.records.client, b.tx, client_id)

    def save_token(self, token: dict[str, Any], request: Request) -> None:
        """A refresh token (if one was issued) joins its grant: the code's new grant, or the
        grant whose previous token was just spent."""
        refresh = token.get("refresh_token")
        if not refresh:
            return
        b = bridge()
        person: Person = request.user
        assert person.grant_id is not None  # made as the code was spent, or the token's
        b.run(store.add_refresh_token, b.tx, person.grant_id, refresh, b.now, self.refresh_ttl)

    def create_oauth2_request(self, request: Request) -> Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> Answer:
        return Answer(status, body if isinstance(body, dict | str) else "", list(headers or []))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    # -- tokens

    def signer(self, alg: str) -> tuple[str, RSAKey | ECKey]:
        """The key signing with `alg` now (read once per call)."""
        b = bridge()
        if alg not in b.signers:
            b.signers[alg] = b.run(self.records.signer, b.tx, alg)
        return b.signers[alg]

    def _tokens(
        self,
        grant_type: str,
        client: Client,
        user: Person | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        """An access token as a signed JWT (RFC 9068), and a refresh token where the person
        granted offline access."""
        assert user is not None
        scope = scope or ""
        now = int(bridge().now.timestamp())
        kid, key = self.signer(ACCESS_TOKEN_ALG)
        claims = {
            "iss": self.issuer,
            "sub": user.sub,
            "aud": f"{self.issuer}/oauth/userinfo",
            "client_id": client.get_client_id(),
            "iat": now,
            "exp": now + self.access_token_seconds,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
            "auth_time": int(user.auth_time.timestamp()),
            "acr": user.acr,
            "amr": list(user.amr),
            GRANT_CLAIM: str(user.grant_id),  # revoked with it (`OidcProvider._holder`)
        }
        header = {"alg": ACCESS_TOKEN_ALG, "kid": kid, "typ": "at+jwt"}
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": jwt.encode(header, claims, key),
            "expires_in": self.access_token_seconds,
            "scope": scope,
        }
        if include_refresh_token and "offline_access" in scope.split():
            token["refresh_token"] = store.new_secret()
        return token

    # -- what the endpoints call (in the worker thread)

    def consent_grant(self, request: Request, person: Person | None) -> Any:
        """The validated authorization request (raises `OAuth2Error`)."""
        return self.get_consent_grant(request, end_user=person)

    def authorize(self, request: Request, person: Person | None, grant: Any) -> Answer:
        answer: Answer = self.create_authorization_response(request, person, grant)
        return answer

    def token(self, request: Request) -> Answer:
        answer: Answer = self.create_token_response(request)
        return answer

    def revoke(self, request: Request) -> Answer:
        answer: Answer = self.create_endpoint_response("revocation", request)
        return answer

    def introspect(self, request: Request) -> Answer:
        answer: Answer = self.create_endpoint_response("introspection", request)
        return answer

    def end_session(self, request: Request) -> EndSessionRequest:
        """The checked logout request (raises `OAuth2Error`: never redirect then)."""
        checked: EndSessionRequest = self.validate_endpoint_request("end_session", request)
        return checked

    def error(self, error: OAuth2Error) -> Answer:
        answer: Answer = self.handle_error_response(None, error)
        return answer
