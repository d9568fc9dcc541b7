"""The OpenID Connect provider as the pages and the API use it: an authorization request
waits for its person (signed in, picked, consenting), then a code goes back to the client; the
token endpoint exchanges it; userinfo answers for the access token.

Protocol rules are Authlib's (`oidc.server`); the decisions about the person are here: which
session answers (one signed in for this request, the one picked, or the browser's only one),
whether it must sign in again (`prompt=login`, `max_age`, `acr_values` asking for two steps),
and whether it must consent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey
from joserfc.jwt import Token

from honnin.accounts.service import ACTIVE, AccountService
from honnin.audit import service as audit
from honnin.clock import Clock
from honnin.db import Database, Tx, id_in
from honnin.i18n import LazyText, _
from honnin.oidc import store
from honnin.oidc.claims import ACR_2FA, ACR_VALUES, signed_in_by, user_claims
from honnin.oidc.client_keys import ClientKeys
from honnin.oidc.clients import OidcClients, find, view_of
from honnin.oidc.keys import ALGORITHMS, SigningKeys
from honnin.oidc.models import AuthorizationCode, AuthorizationRequest, Grant, OidcClient
from honnin.oidc.server import (
    ASSERTION_ALGORITHMS,
    AUTH_METHODS,
    CONFIDENTIAL,
    GRANT_CLAIM,
    SCOPES,
    Answer,
    Bridge,
    Client,
    Person,
    Provider,
    Records,
    Request,
    claims_for,
)
from honnin.sessions.service import SessionView

# -- what an authorization request leads to


@dataclass(frozen=True)
class ToClient:
    """Back to the client's redirect URI: a code, or an error it may hear."""

    location: str


@dataclass(frozen=True)
class Refused:
    """A request that can't be answered at the client (unknown client, redirect URI not
    registered): shown as a page, never followed."""

    reason: LazyText


@dataclass(frozen=True)
class SignIn:
    """The person signs in (again) for this request; the flow comes back to it."""

    request_id: uuid.UUID
    login_hint: str | None
    redirect_uri: str  # where its pages' forms may lead (the last POST ends there)
    two_steps: bool = False  # the application asked for two distinct steps (`acr_values`)


@dataclass(frozen=True)
class Pick:
    """Which of the browser's accounts answers."""

    request_id: uuid.UUID
    client_name: str
    redirect_uri: str


@dataclass(frozen=True)
class Ask:
    """The consent page: the application, and what it will see."""

    request_id: uuid.UUID
    client_name: str
    scopes: tuple[str, ...]
    session: SessionView
    redirect_uri: str


Outcome = ToClient | Refused | SignIn | Pick | Ask


@dataclass(frozen=True)
class Logout:
    """A checked logout request (RP-initiated): whom it signs out, and where it ends."""

    hinted: bool  # an ID token honnin issued names whom; else the person confirms
    sid: uuid.UUID | None  # the honnin session of the ID token's sign-in
    account_id: uuid.UUID | None  # whose it is (signed in again since: another session)
    client_id: str | None
    client_name: str | None
    redirect_uri: str | None  # the registered post-logout URI, with `state`; None: our page


# the parameters of a logout request (the confirmation page carries them on)
LOGOUT_PARAMS = (
    "id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales",
    "logout_hint",
)  # fmt: skip


class OidcProvider(Records):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        issuer: str,
        clients: OidcClients,
        keys: SigningKeys,
        accounts: AccountService,
        id_token_seconds: int,
        access_token_seconds: int,
        refresh_token_seconds: int,
        code_seconds: int,
        request_seconds: int,
        client_keys: ClientKeys,
    ) -> None:
        self.db = db
        self.client_key_sets = client_keys
        self.clock = clock
        self.issuer = issuer.rstrip("/")
        self.clients = clients
        self.keys = keys
        self.accounts = accounts
        self.request_ttl = timedelta(seconds=request_seconds)
        self.server = Provider(
            self,
            issuer=self.issuer,
            id_token_seconds=id_token_seconds,
            access_token_seconds=access_token_seconds,
            refresh_token_seconds=refresh_token_seconds,
            code_seconds=code_seconds,
        )

    # -- Records: what Authlib's calls read

    async def client(self, tx: Tx, client_id: str) -> Client | None:
        """An enabled client, as Authlib asks about it."""
        row = await find(tx, client_id)
        if row is None or row.disabled_at is not None:
            return None
        return Client(view_of(row), row.secret_digest, row.id_token_alg)

    async def person_of_code(
        self, tx: Tx, code: AuthorizationCode, client: Client
    ) -> Person | None:
        return await self._person(tx, client, code.account_id, code.auth_time, code.amr, code.acr)

    async def person_of_grant(self, tx: Tx, grant: Grant, client: Client) -> Person | None:
        if not await store.consented(tx, grant.account_id, client.view.id):
            return None  # taken back: the grant was revoked with it
        person = await self._person(
            tx, client, grant.account_id, grant.auth_time, grant.amr, grant.acr
        )
        return None if person is None else _with_grant(person, grant.id)

    async def signer(self, tx: Tx, alg: str) -> tuple[str, RSAKey | ECKey]:
        return await self.keys.signing(tx, alg)

    async def client_keys(self, client: Client, kid: str | None) -> KeySet | None:
        uri = client.view.jwks_uri
        return None if uri is None else self.client_key_sets.kept(uri)

    async def _read_client_keys(self, items: list[tuple[str, str]]) -> None:
        """Before a client call's transaction: the keys of the client its assertion names
        (unverified yet: Authlib checks it in the transaction, with the keys read here)."""
        assertion = dict(items).get("client_assertion")
        if not assertion:
            return
        try:
            signed = jws.extract_compact(assertion.encode())
            sub, kid = json.loads(signed.payload).get("sub"), signed.headers().get("kid")
        except (JoseError, ValueError, AttributeError):
            return  # Authlib refuses it, with its reason
        if not isinstance(sub, str):
            return
        async with self.db.transaction(write=False) as tx:
            row = await find(tx, sub)
        if row is not None and row.jwks_uri and row.disabled_at is None:
            await self.client_key_sets.read(row.jwks_uri, kid if isinstance(kid, str) else None)

    async def id_token_claims(self, tx: Tx, token: str) -> dict[str, Any] | None:
        decoded = await self._ours(tx, token)
        if decoded is None or decoded.header.get("typ") == "at+jwt":
            return None
        claims = dict(decoded.claims)
        aud = claims.get("aud")
        if claims.get("iss") != self.issuer or not isinstance(claims.get("sub"), str):
            return None
        if not (isinstance(aud, str) or (isinstance(aud, list) and aud)):
            return None
        return claims

    async def _ours(self, tx: Tx, token: str) -> Token | None:
        """A JWT signed by one of honnin's published keys (whatever it says)."""
        try:
            kid = jws.extract_compact(token.encode()).headers().get("kid")
        except (JoseError, ValueError):
            return None
        keys = await self.keys.verifying(tx, kid if isinstance(kid, str) else None)
        if keys is None:
            return None
        try:
            return jwt.decode(token, keys, algorithms=list(ALGORITHMS))
        except (JoseError, ValueError):
            return None

    async def is_access_token(self, tx: Tx, token: str) -> bool:
        return await self._access_token_claims(tx, token, alive=False) is not None

    async def introspection(self, tx: Tx, token: str) -> dict[str, Any] | None:
        """RFC 7662's answer about a refresh token or an access token honnin issued: active
        while it is alive, unspent, its grant unrevoked, its application enabled and allowed,
        and its account open."""
        now = self.clock.now()
        held = await store.find_refresh_token(tx, token)
        if held is not None:
            grant = held.grant
            inactive = {"active": False, "client_id": str(grant.client_id)}
            client = await self.client(tx, str(grant.client_id))
            if client is None or not held.alive(now):
                return inactive
            person = await self.person_of_grant(tx, grant, client)
            if person is None:
                return inactive
            return {
                "active": True,
                "client_id": str(grant.client_id),
                "scope": grant.scope,
                "sub": person.sub,
                "iss": self.issuer,
                "iat": int(held.created_at.timestamp()),
                "exp": int(held.expires_at.timestamp()),
                "auth_time": int(grant.auth_time.timestamp()),
                "acr": grant.acr,
            }
        claims = await self._access_token_claims(tx, token, alive=False)
        if claims is None:
            return None
        inactive = {"active": False, "client_id": str(claims.get("client_id"))}
        if claims["exp"] <= now.timestamp() or await self._holder(tx, claims) is None:
            return inactive
        told = {k: claims[k] for k in INTROSPECTED if k in claims}
        return {"active": True, "token_type": "Bearer", **told}

    async def _person(
        self, tx: Tx, client: Client, account_id: uuid.UUID, auth_time: Any, amr: str, acr: str
    ) -> Person | None:
        account = await self.accounts.record(tx, account_id)
        if account is None or account.status != ACTIVE:  # closed: signs in nowhere
            return None
        claims = await user_claims(
            tx, account_id, set(SCOPES), locale=account.locale, time_zone=account.time_zone
        )
        sub = await store.subject(tx, client.view, account_id)
        return Person(account_id, sub, auth_time, tuple(amr.split()), acr, claims)

    async def _person_of_session(
        self, tx: Tx, client: Client, session: SessionView
    ) -> Person | None:
        by = await signed_in_by(tx, session.verified_with)
        person = await self._person(
            tx, client, session.account_id, session.verified_at, " ".join(by.amr), by.acr
        )
        return None if person is None else replace(person, sid=session.id)

    # -- the authorization endpoint

    def _request(self, path: str, items: list[tuple[str, str]]) -> Request:
        return Request("GET", f"{self.issuer}{path}", {}, items)

    async def start(
        self,
        items: list[tuple[str, str]],
        device_digest: bytes,
        sessions: list[SessionView],
        current: SessionView | None,
    ) -> Outcome:
        """A new authorization request: checked (Authlib), kept for this browser, and taken as
        far as it can go now."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            request = self._request("/oauth/authorize", items)
            client = await self.client(tx, request.payload.client_id or "")
            bridge = Bridge(tx, now, client=client)
            person = None
            if client is not None and current is not None:
                person = await self._person_of_session(tx, client, current)
            try:
                grant = await bridge.call(lambda: self.server.consent_grant(request, person))
            except OAuth2Error as error:
                return _refused(error, request)
            data = request.payload.data
            for name, unsupported in UNSUPPORTED.items():
                if name in data:  # never ignored silently: the client must know
                    return _to_client(grant.redirect_uri, unsupported, data.get("state"))
            if not _valid_max_age(data.get("max_age")):
                return _to_client(
                    grant.redirect_uri,
                    ("invalid_request", "max_age must be a whole number of seconds."),
                    data.get("state"),
                )
            assert client is not None
            account_hint = None
            if data.get("id_token_hint"):
                account_hint = await self._hinted(tx, client, data["id_token_hint"])
                if account_hint is None:
                    return _to_client(
                        grant.redirect_uri,
                        ("invalid_request", "id_token_hint is no ID token issued to you."),
                        data.get("state"),
                    )
            request_id = await store.add_request(
                tx, client.view.id, device_digest, dict(items), now, self.request_ttl,
                account_hint=account_hint,
            )  # fmt: skip
        return await self.resume(str(request_id), (device_digest,), sessions, current)

    async def _hinted(self, tx: Tx, client: Client, id_token: str) -> uuid.UUID | None:
        """The account of an ID token honnin issued to this client (expired or not)."""
        claims = await self.id_token_claims(tx, id_token)
        if claims is None:
            return None
        aud = claims["aud"]
        if client.get_client_id() not in (aud if isinstance(aud, list) else [aud]):
            return None
        return await store.account_of(tx, client.view, claims["sub"])

    async def resume(
        self,
        request_id: str,
        device_digests: tuple[bytes, ...],
        sessions: list[SessionView],
        current: SessionView | None,
        *,
        chosen: uuid.UUID | None = None,
        consent: bool | None = None,
        origin: audit.Origin | None = None,
    ) -> Outcome:
        """Go on with a waiting request: after a sign-in, a pick (`chosen`), or the consent
        page's answer (`consent`)."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            row = await store.waiting_request(tx, request_id, device_digests, now)
            if row is None:
                return Refused(GONE)
            client = await self.client(tx, str(row.client_id))
            if client is None:
                await store.end_request(tx, row.id)
                return Refused(_("The application can no longer sign anyone in."))
            if chosen is not None and any(s.id == chosen for s in sessions):
                row.session_id = chosen
            outcome = await self._next(tx, row, client, sessions, current, consent, origin)
            if isinstance(outcome, ToClient):
                await store.end_request(tx, row.id)
            return outcome

    async def _next(
        self,
        tx: Tx,
        row: AuthorizationRequest,
        client: Client,
        sessions: list[SessionView],
        current: SessionView | None,
        consent: bool | None,
        origin: audit.Origin | None,
    ) -> Outcome:
        params = row.params
        prompts = set(params.get("prompt", "").split())
        redirect_uri, state = params["redirect_uri"], params.get("state")

        def error(code: str, description: str) -> ToClient:
            return _to_client(redirect_uri, (code, description), state)

        def sign_in() -> SignIn:
            hint = params.get("login_hint")
            return SignIn(row.id, hint, redirect_uri, two_steps=_wants_two_steps(params))

        silent = "none" in prompts
        session = _session_for(row, sessions, current)
        if session is None:
            if silent:
                if row.account_hint is not None:
                    return error("login_required", "The account of id_token_hint is not here.")
                if len(sessions) > 1:
                    return error("account_selection_required", "Several accounts are signed in.")
                return error("login_required", "Nobody is signed in.")
            hinted_elsewhere = row.account_hint is not None  # its account is not here
            if (
                sessions
                and not hinted_elsewhere
                and ("select_account" in prompts or len(sessions) > 1)
            ):
                return Pick(row.id, client.view.name, redirect_uri)
            return sign_in()
        if row.account_hint is not None and session.account_id != row.account_hint:
            # signed in (or picked) for it as another account than the ID token's
            return error("login_required", "Sign in as the account of id_token_hint.")
        signed_in_for_it = session.verified_at >= row.created_at
        max_age = params.get("max_age")
        too_old = max_age is not None and (
            self.clock.now() - session.verified_at
        ).total_seconds() > int(max_age)
        if not signed_in_for_it and ("login" in prompts or too_old):
            if silent:
                return error("login_required", "A new sign-in is needed.")
            return sign_in()
        person = await self._person_of_session(tx, client, session)
        if person is None:
            return error("access_denied", "The account can't be used.")
        if _wants_two_steps(params) and person.acr != ACR_2FA:
            if silent:
                return error("login_required", "A sign-in in two steps is needed.")
            if signed_in_for_it:
                return error(
                    "access_denied", "The person could not sign in with two distinct steps."
                )
            return sign_in()
        asked = set(client.get_allowed_scope(params.get("scope")).split())
        if consent is False:
            return error("access_denied", "The person did not allow it.")
        if consent is True:
            now = self.clock.now()
            await store.consent(tx, session.account_id, client.view.id, asked, now)
            await audit.record(
                tx, session.account_id, "oidc_allowed", now, origin, hint=client.view.name
            )
        elif "consent" in prompts or not asked <= await store.consented(
            tx, session.account_id, client.view.id
        ):
            if silent:
                return error("consent_required", "The person has not allowed this application.")
            return Ask(row.id, client.view.name, _ordered(asked), session, redirect_uri)
        return await self._issue(tx, row, client, person)

    async def _issue(
        self, tx: Tx, row: AuthorizationRequest, client: Client, person: Person
    ) -> ToClient:
        """The code, to the client's redirect URI (Authlib checks the request once more)."""
        bridge = Bridge(tx, self.clock.now(), client=client)
        request = self._request("/oauth/authorize", list(row.params.items()))

        def authorize() -> Answer:
            try:
                grant = self.server.consent_grant(request, person)
            except OAuth2Error as error:
                return self.server.error(error)
            return self.server.authorize(request, person, grant)

        answer = await bridge.call(authorize)
        assert answer.location is not None
        return ToClient(answer.location)

    async def describe_request(
        self, request_id: str, device_digests: tuple[bytes, ...]
    ) -> tuple[str, str] | None:
        """A waiting request's application name and redirect URI (for the pages around it)."""
        async with self.db.transaction(write=False) as tx:
            row = await store.waiting_request(tx, request_id, device_digests, self.clock.now())
            if row is None:
                return None
            client = await tx.session.get(OidcClient, row.client_id)
            return (client.name, row.params["redirect_uri"]) if client else None

    async def another_account(
        self, request_id: str, device_digests: tuple[bytes, ...]
    ) -> SignIn | Refused:
        """ "Use another account" on the picker: a sign-in for the request."""
        async with self.db.transaction(write=False) as tx:
            row = await store.waiting_request(tx, request_id, device_digests, self.clock.now())
        if row is None:
            return Refused(GONE)
        params = row.params
        return SignIn(row.id, None, params["redirect_uri"], two_steps=_wants_two_steps(params))

    # -- the applications a person lets sign them in (the account page)

    async def consents(self, account_id: uuid.UUID) -> list[store.ConsentView]:
        async with self.db.transaction(write=False) as tx:
            return await store.consents_of(tx, account_id)

    async def withdraw(
        self, account_id: uuid.UUID, client_id: str, origin: audit.Origin | None = None
    ) -> bool:
        """The application can no longer sign the person in without asking again, and what it
        holds stops: its refresh tokens, and its access tokens at userinfo."""
        async with self.db.transaction() as tx:
            row = await find(tx, client_id)  # disabled or not: its access can go
            if row is None:
                return False
            now = self.clock.now()
            if not await store.withdraw(tx, account_id, row.id, now):
                return False
            await audit.record(tx, account_id, "oidc_withdrawn", now, origin, hint=row.name)
            return True

    # -- the token endpoint

    async def token(
        self, uri: str, headers: Mapping[str, str], items: list[tuple[str, str]]
    ) -> Answer:
        """A code's exchange, or a refresh: one transaction (a spent code or token and what it
        gave commit together; a reused one's revocation commits with the refusal)."""
        return await self._client_call(self.server.token, uri, headers, items)

    async def revoke(
        self, uri: str, headers: Mapping[str, str], items: list[tuple[str, str]]
    ) -> Answer:
        """RFC 7009: a refresh token's grant revoked, in one transaction."""
        return await self._client_call(self.server.revoke, uri, headers, items)

    async def introspect(
        self, uri: str, headers: Mapping[str, str], items: list[tuple[str, str]]
    ) -> Answer:
        """RFC 7662, for a confidential client about its own tokens. A write transaction
        only for a client's assertion (its jti is spent)."""
        write = "client_assertion" in dict(items)
        return await self._client_call(self.server.introspect, uri, headers, items, write=write)

    async def _client_call(
        self,
        endpoint: Callable[[Request], Answer],
        uri: str,
        headers: Mapping[str, str],
        items: list[tuple[str, str]],
        *,
        write: bool = True,
    ) -> Answer:
        """An application's call, answered by Authlib in one transaction; the keys of a
        client that signs its assertion are read before it begins."""
        await self._read_client_keys(items)
        async with self.db.transaction(write=write) as tx:
            bridge = Bridge(tx, self.clock.now())
            request = Request("POST", uri, headers, items)
            return await bridge.call(lambda: endpoint(request))

    # -- RP-initiated logout

    async def end_session(self, items: list[tuple[str, str]]) -> Logout | Refused:
        """A logout request, checked: an `id_token_hint` honnin signed (expired or not,
        with a key still published) names the session to end; a post-logout redirect URI
        must be registered for the client. An invalid request never redirects."""
        async with self.db.transaction(write=False) as tx:
            bridge = Bridge(tx, self.clock.now())
            request = self._request("/oauth/logout", items)
            try:
                checked = await bridge.call(lambda: self.server.end_session(request))
            except OAuth2Error as error:
                return _shown(error)
            client: Client | None = checked.client
            claims = checked.id_token_claims
            if claims is None:
                return Logout(False, None, None, _id(client), _name(client), checked.redirect_uri)
            account_id = None
            if client is not None and isinstance(claims.get("sub"), str):
                account_id = await store.account_of(tx, client.view, claims["sub"])
        sid = id_in(claims.get("sid"))
        return Logout(True, sid, account_id, _id(client), _name(client), checked.redirect_uri)

    # -- userinfo

    async def userinfo(self, access_token: str) -> dict[str, Any] | None:
        """The claims an access token's scope opens; None: the token is not valid (signature,
        issuer, audience, expiry), or its application was disabled or its consent taken
        back."""
        async with self.db.transaction(write=False) as tx:
            claims = await self._access_token_claims(tx, access_token, alive=True)
            held = None if claims is None else await self._holder(tx, claims)
            if claims is None or held is None:
                return None
            return {"sub": held.sub, **claims_for(held, str(claims.get("scope", "")))}

    async def _holder(self, tx: Tx, claims: dict[str, Any]) -> Person | None:
        """Whom an access token speaks for, while its grant is not revoked, its application
        enabled and allowed, and the account open (userinfo and introspection: one rule)."""
        client = await self.client(tx, str(claims.get("client_id")))
        grant_id = id_in(claims.get(GRANT_CLAIM))
        if client is None or grant_id is None:
            return None
        grant = await store.live_grant(tx, grant_id, client.view.id)
        if grant is None or not await store.consented(tx, grant.account_id, client.view.id):
            return None
        return await self._person(tx, client, grant.account_id, self.clock.now(), "", "")

    async def _access_token_claims(
        self, tx: Tx, token: str, *, alive: bool
    ) -> dict[str, Any] | None:
        """An access token's claims, if honnin signed it (a key still published) for its
        userinfo endpoint; `alive`: and it has not expired."""
        decoded = await self._ours(tx, token)
        if decoded is None:
            return None
        claims = decoded.claims
        if (
            decoded.header.get("typ") != "at+jwt"
            or claims.get("iss") != self.issuer
            or claims.get("aud") != f"{self.issuer}/oauth/userinfo"
            or not isinstance(claims.get("exp"), int)
            or not isinstance(claims.get("sub"), str)
        ):
            return None
        if alive and claims["exp"] <= self.clock.now().timestamp():
            return None
        return claims

    # -- the discovery document

    def discovery(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "userinfo_endpoint": f"{base}/oauth/userinfo",
            "jwks_uri": f"{base}/oauth/jwks",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "introspection_endpoint": f"{base}/oauth/introspect",
            "end_session_endpoint": f"{base}/oauth/logout",
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["pairwise", "public"],
            "id_token_signing_alg_values_supported": list(ALGORITHMS),
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
            "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "introspection_endpoint_auth_methods_supported": list(CONFIDENTIAL),
            "introspection_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": list(CLAIMS),
            "acr_values_supported": list(ACR_VALUES),
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "ui_locales_supported": ["ja", "en"],
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "require_request_uri_registration": False,
        }


GONE = _(
    "This sign-in request has expired or belongs to another browser. "
    "Start again from the application."
)
LOGOUT_GONE = _(
    "This sign-out request has expired or was changed. Sign out from the application again."
)
CLAIMS = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "email",
    "email_verified", "phone_number", "phone_number_verified", "locale", "zoneinfo",
)  # fmt: skip
# what introspection tells of an access token (RFC 7662 §2.2)
INTROSPECTED = ("client_id", "scope", "sub", "iss", "aud", "iat", "exp", "jti", "auth_time", "acr")
# parameters the provider does not support, and what the client hears (OpenID Connect Core
# §6: an error, not a request silently read without them)
UNSUPPORTED = {
    "request": ("request_not_supported", "Request objects are not supported."),
    "request_uri": ("request_uri_not_supported", "request_uri is not supported."),
    "registration": ("registration_not_supported", "Registration is by the operator."),
}


def _id(client: Client | None) -> str | None:
    return client.get_client_id() if client is not None else None


def _name(client: Client | None) -> str | None:
    return client.view.name if client is not None else None


def _with_grant(person: Person, grant_id: uuid.UUID) -> Person:
    return replace(person, grant_id=grant_id)


def _ordered(scopes: set[str]) -> tuple[str, ...]:
    return tuple(s for s in SCOPES if s in scopes)


def _valid_max_age(value: str | None) -> bool:
    return value is None or (value.isdigit() and len(value) <= 9)


def _wants_two_steps(params: dict[str, str]) -> bool:
    """`acr_values` asks for two steps when 2fa is the only value it accepts."""
    values = params.get("acr_values", "").split()
    return ACR_2FA in values and not (set(values) - {ACR_2FA}) & set(ACR_VALUES)


def _session_for(
    row: AuthorizationRequest, sessions: list[SessionView], current: SessionView | None
) -> SessionView | None:
    """The session that answers: the one picked for the request, one signed in for it (since
    it came), the one of the account an `id_token_hint` names, or the browser's only one;
    None: the person picks or signs in."""
    if row.session_id is not None:
        picked = next((s for s in sessions if s.id == row.session_id), None)
        if picked is not None:
            return picked
    if current is not None and current.verified_at >= row.created_at:
        return current
    if row.account_hint is not None:  # the account the application's ID token names
        hinted = [s for s in sessions if s.account_id == row.account_hint]
        return next((s for s in hinted if current and s.id == current.id), None) or next(
            iter(hinted), None
        )
    prompts = row.params.get("prompt", "").split()
    if "select_account" in prompts:
        return None
    hint = row.params.get("login_hint")
    if hint:
        named = [s for s in sessions if s.name == hint.strip().lower()]
        if len(named) == 1:
            return named[0]
    return sessions[0] if len(sessions) == 1 else None


def _to_client(redirect_uri: str, error: tuple[str, str], state: str | None) -> ToClient:
    params = {"error": error[0], "error_description": error[1]}
    if state is not None:
        params["state"] = state
    joiner = "&" if "?" in redirect_uri else "?"
    return ToClient(f"{redirect_uri}{joiner}{urlencode(params)}")


def _refused(error: OAuth2Error, request: Request) -> Outcome:
    """An invalid request: told to the client where its redirect URI is known to be its own,
    else shown (never an open redirect)."""
    if error.redirect_uri:
        state = request.payload.data.get("state")
        return _to_client(error.redirect_uri, (error.error, error.description or ""), state)
    return _shown(error)


def _shown(error: OAuth2Error) -> Refused:
    # Authlib's own words, in English: what a developer reads to mend the request
    return Refused(LazyText("{reason}", {"reason": error.description or error.error}))
