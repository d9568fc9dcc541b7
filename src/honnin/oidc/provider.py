"""The OpenID Connect provider as the pages and the API use it: an authorization request
waits for its person (signed in, picked, consenting), then a code goes back to the client; the
token endpoint exchanges it; userinfo answers for the access token.

Protocol rules are Authlib's (`oidc.server`); the decisions about the person are here: which
session answers (one signed in for this request, the one picked, or the browser's only one),
whether it must sign in again (`prompt=login`, `max_age`, `acr_values` asking for two steps),
and whether it must consent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from honnin.accounts.service import ACTIVE, AccountService
from honnin.audit import service as audit
from honnin.clock import Clock
from honnin.db import Database, Tx
from honnin.i18n import LazyText, _
from honnin.oidc import store
from honnin.oidc.claims import ACR_2FA, ACR_VALUES, signed_in_by, user_claims
from honnin.oidc.clients import OidcClients, find, view_of
from honnin.oidc.keys import ALGORITHMS, SigningKeys
from honnin.oidc.models import AuthorizationCode, AuthorizationRequest, Grant, OidcClient
from honnin.oidc.server import (
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
    ) -> None:
        self.db = db
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
            request_id = await store.add_request(
                tx, client.view.id, device_digest, dict(items), now, self.request_ttl
            )
        return await self.resume(str(request_id), (device_digest,), sessions, current)

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

        silent = "none" in prompts
        session = _session_for(row, sessions, current)
        if session is None:
            if silent:
                if len(sessions) > 1:
                    return error("account_selection_required", "Several accounts are signed in.")
                return error("login_required", "Nobody is signed in.")
            if sessions and ("select_account" in prompts or len(sessions) > 1):
                return Pick(row.id, client.view.name, redirect_uri)
            return SignIn(row.id, params.get("login_hint"), redirect_uri)
        signed_in_for_it = session.verified_at >= row.created_at
        max_age = params.get("max_age")
        too_old = max_age is not None and (
            self.clock.now() - session.verified_at
        ).total_seconds() > int(max_age)
        if not signed_in_for_it and ("login" in prompts or too_old):
            if silent:
                return error("login_required", "A new sign-in is needed.")
            return SignIn(row.id, params.get("login_hint"), redirect_uri)
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
            return SignIn(row.id, params.get("login_hint"), redirect_uri)
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
        async with self.db.transaction() as tx:
            bridge = Bridge(tx, self.clock.now())
            request = Request("POST", uri, headers, items)
            return await bridge.call(lambda: self.server.token(request))

    # -- userinfo

    async def userinfo(self, access_token: str) -> dict[str, Any] | None:
        """The claims an access token's scope opens; None: the token is not valid (signature,
        issuer, audience, expiry), or its application was disabled or its consent taken
        back."""
        claims = await self.verify_access_token(access_token)
        if claims is None:
            return None
        async with self.db.transaction(write=False) as tx:
            client = await self.client(tx, str(claims.get("client_id")))
            if client is None:
                return None
            account_id = await store.account_of(tx, client.view, str(claims["sub"]))
            if account_id is None or not await store.consented(tx, account_id, client.view.id):
                return None
            person = await self._person(tx, client, account_id, self.clock.now(), "", "")
            if person is None:
                return None
            return {"sub": person.sub, **claims_for(person, str(claims.get("scope", "")))}

    async def verify_access_token(self, token: str) -> dict[str, Any] | None:
        """An access token's claims, if it is one of ours and alive."""
        keys = KeySet.import_key_set(await self.keys.jwks())  # type: ignore[arg-type]
        try:
            decoded = jwt.decode(token, keys, algorithms=list(ALGORITHMS))
        except (JoseError, ValueError):
            return None
        if decoded.header.get("typ") != "at+jwt":
            return None
        claims = decoded.claims
        now = self.clock.now().timestamp()
        if (
            claims.get("iss") != self.issuer
            or claims.get("aud") != f"{self.issuer}/oauth/userinfo"
            or not isinstance(claims.get("exp"), int)
            or claims["exp"] <= now
            or not isinstance(claims.get("sub"), str)
        ):
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
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["pairwise", "public"],
            "id_token_signing_alg_values_supported": list(ALGORITHMS),
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
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
CLAIMS = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "email",
    "email_verified", "phone_number", "phone_number_verified", "locale", "zoneinfo",
)  # fmt: skip
# parameters the provider does not support, and what the client hears (OpenID Connect Core
# §6: an error, not a request silently read without them)
UNSUPPORTED = {
    "request": ("request_not_supported", "Request objects are not supported."),
    "request_uri": ("request_uri_not_supported", "request_uri is not supported."),
    "registration": ("registration_not_supported", "Registration is by the operator."),
}


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
    it came), or the browser's only one; None: the person picks or signs in."""
    if row.session_id is not None:
        picked = next((s for s in sessions if s.id == row.session_id), None)
        if picked is not None:
            return picked
    if current is not None and current.verified_at >= row.created_at:
        return current
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
    # Authlib's own words, in English: what a developer reads to mend the request
    return Refused(LazyText("{reason}", {"reason": error.description or error.error}))
