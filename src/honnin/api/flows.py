"""`/api/v1/flows`: the sign-in and sign-up flows, headless, for an application's own UI.

The same flow objects and rules as the pages. A flow belongs to the API client that created
it; when one completes, the response carries a session token for the account, once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from honnin.api.actions import FlowAction
from honnin.api.auth import Client
from honnin.api.errors import problem, request_locale
from honnin.api.schemas import BODY_TOO_LARGE, Delivery, Problem
from honnin.api.sessions import OptionalToken, no_session
from honnin.clients.service import ClientView
from honnin.errors import HonninError
from honnin.flows.service import Binding
from honnin.flows.views import FlowView
from honnin.http.status import headers_of, status_of
from honnin.i18n import Locale
from honnin.runtime import runtime_of

router = APIRouter(prefix="/api/v1/flows", tags=["flows"])


class FlowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["sign_in", "sign_up", "settings", "password_reset", "recovery"] = Field(
        description="`settings` (the security info of a signed-in account) needs the "
        "session's `X-Session-Token`, on this request and on every action. `recovery`: "
        "every way in is lost; a new one counts after a waiting period."
    )
    locale: Locale | None = None


class Option(BaseModel):
    id: str
    kind: str = Field(description="`email`, `phone`, `app` (an authenticator app), `passkey`")
    hint: str = Field(description="The address or number, masked; an app: its name.")
    way: str = Field(
        description="How the code goes: `email_code`, `sms_code`, `call_code`; `totp`: the "
        "code the authenticator app shows (`choose_option` sends nothing: then `submit_code`); "
        "`passkey`: any of the account's passkeys (then `submit_passkey`)."
    )


class Code(BaseModel):
    purpose: str
    destination_hint: str
    expires_at: datetime
    resend_available_at: datetime
    delivery: Delivery | None
    attempts_remaining: int = Field(description="Wrong tries the code can still take.")
    usable: bool = Field(
        description="False once the code has expired or is burned by wrong tries: ask for a "
        "new one (`resend`; no cooldown for a burned code)."
    )
    channel: str = Field("email", description="How the newest code went: email, sms, call.")
    call_offer_at: datetime | None = Field(
        None,
        description='For a code sent by text: from when "call me instead" (`resend` with '
        "`channel` `call`) is offered — at once when the text failed, else when it was not "
        "reported delivered in time; null: not offered.",
    )


class Way(BaseModel):
    id: uuid.UUID = Field(description="For `remove_proof`.")
    kind: str = Field(description="`email` or `phone`")
    hint: str = Field(description="In full while the session is fresh (`fresh`), else masked.")
    created_at: datetime
    verified_at: datetime | None = Field(description="Null: a code sent to it never came back.")
    last_used_at: datetime | None
    removal_due_at: datetime | None = Field(description="Its removal is scheduled for then.")


class App(BaseModel):
    id: uuid.UUID = Field(description="For `remove_app`.")
    name: str
    created_at: datetime
    verified_at: datetime | None = Field(description="When its first code came back.")
    last_used_at: datetime | None


class PasskeyOut(BaseModel):
    id: uuid.UUID = Field(description="For `remove_passkey`.")
    name: str
    authenticator: str | None = Field(
        description="Who made it, from its AAGUID: iCloud Keychain, Google Password Manager…"
    )
    created_at: datetime
    last_used_at: datetime | None
    synced: bool = Field(description="It may be on the person's other devices too.")


class AppSetup(BaseModel):
    name: str
    secret: str = Field(
        description="The key to type into the app (base32, in groups of four); shown only "
        "until the app's first code comes back."
    )
    uri: str = Field(description="The `otpauth://totp/…` URI (what the QR code holds).")
    qr_svg: str = Field(description="The URI as a QR code: SVG markup.")


class Name(BaseModel):
    kind: str
    hint: str


class Pending(BaseModel):
    id: uuid.UUID = Field(description="For `cancel_change`.")
    change: str = Field(description="`remove_proof`, `recover` or `close_account`")
    hint: str
    due_at: datetime


class Intent(BaseModel):
    change: str = Field(
        description="`add_proof`, `remove_proof`, `add_app`, `remove_app`, `add_passkey`, "
        "`remove_passkey` or `verify`"
    )
    hint: str | None = Field(None, description="The address or number; an app: its name.")
    last: bool = Field(False, description="Removing the last way: it will be scheduled.")


class SignedIn(BaseModel):
    id: uuid.UUID = Field(description="For `sign_out_session`.")
    agent: str | None = Field(description="The browser (Chrome on Windows) or API: the app.")
    ip: str | None
    created_at: datetime
    last_seen_at: datetime | None
    current: bool = Field(description="The session making this request.")
    country: str | None = Field(
        None, description="ISO 3166 code of the country its IP address is registered in."
    )


class WaitingRecovery(BaseModel):
    id: uuid.UUID = Field(description="For `cancel_change` (after a code to one of the ways).")
    hint: str = Field(description="The new way asked for, masked.")
    due_at: datetime
    can_cancel: bool = Field(
        description="The session verified with a code to one of the account's ways recently: "
        "`cancel_change` cancels at once (else it asks for that verification first)."
    )


class RecoveryStep(BaseModel):
    address: str = Field(description="The new way, as typed.")
    kind: str = Field(description="`email` or `phone`")
    due_at: datetime = Field(description="When the wait ends (before `start_recovery`: if now).")
    password_proven: bool


class Activity(BaseModel):
    at: datetime
    action: str = Field(description="`proof_added`, `password_changed`, `recovery_started`, …")
    hint: str = Field(description="The masked address or number it is about (or empty).")
    ip: str | None
    agent: str | None = Field(description="The browser or application; null: a scheduled job.")
    country: str | None = Field(
        None, description="ISO 3166 code of the country its IP address is registered in."
    )


class Security(BaseModel):
    fresh: bool = Field(
        description="The session verified who this is recently: full addresses, and changes "
        "that need no new verification."
    )
    fresh_until: datetime | None
    names: list[Name] = Field(description="The sign-in names.")
    ways: list[Way] = Field(description="The security info: the ways to verify.")
    pending: list[Pending] = Field(description="Changes that wait for their time.")
    two_step: bool | None = Field(description="Null while a recovery waits (`recovery`).")
    has_password: bool | None = Field(description="Null while a recovery waits.")
    intent: Intent | None = Field(None, description="The change the flow is verifying for.")
    sessions: list[SignedIn] = Field([], description="Where the account is signed in.")
    time_zone: str | None = Field(None, description="Notices give times in it.")
    apps: list[App] = Field([], description="Authenticator apps (empty while a recovery waits).")
    passkeys: list[PasskeyOut] = Field([], description="Passkeys (empty while a recovery waits).")
    passkeys_available: bool = Field(
        False, description="False where this service's address is an IP: no passkeys."
    )
    activity: list[Activity] = Field(
        [],
        description="The newest lines of the account's audit log (empty while a recovery waits).",
    )
    recovery: WaitingRecovery | None = Field(
        None,
        description="A recovery waits: the limited mode. `names`, `ways` and `pending` are "
        "empty, and the security info, two-step verification and password can't change "
        "(`recovery_waiting`).",
    )


class FlowState(BaseModel):
    id: str
    kind: str
    state: str = Field(description="identifier, password, code, verify_options, … done")
    actions: list[str] = Field(description="The actions this state accepts.")
    expires_at: datetime
    name: str | None = None
    name_hint: str | None = Field(None, description="Where `send_code` sends: em*****@…")
    ways: list[str] = Field(
        [], description="`send_code` ways the name offers instead of the password."
    )
    options: list[Option] = []
    chosen: Option | None = None
    code: Code | None = None
    session_token: str | None = Field(None, description="Once, when the flow completes.")
    notice: str | None = Field(
        None,
        description="What the last action did (settings: `added`, `removed`, "
        "`removal_scheduled`, `cancelled`, `verified`, `recovery_cancelled`, `app_added`, "
        "`app_removed`, `passkey_added`, `passkey_removed`; a sign-in: "
        "`recovery_waiting`, when it used one of the account's ways while a recovery waits — "
        "offer to cancel it).",
    )
    security: Security | None = Field(None, description="Settings: the account's security info.")
    recovery: RecoveryStep | None = Field(None, description="Recovery: the new way asked for.")
    closing_at: datetime | None = Field(
        None,
        description="A closed account: when it will be deleted (settings `closed`; a sign-in's "
        "`reopen`, which reopens it).",
    )
    app_setup: AppSetup | None = Field(
        None, description="Settings `add_app`: the authenticator app being added."
    )
    webauthn: dict[str, Any] | None = Field(
        None,
        description="Where a passkey is asked for (`submit_passkey` among `actions`): the "
        "options to give `navigator.credentials.get()` — or `.create()` in settings "
        "`add_passkey` — as JSON (`PublicKeyCredential.parseRequestOptionsFromJSON`). Its "
        "challenge is spent by the first answer: use the options of the latest response.",
    )
    recovery_code: str | None = Field(
        None,
        description="A new recovery code, in this response only (two-step verification turned "
        "on, a new code asked for, or the old one used to sign in): show it to the person "
        "once, never store it.",
    )

    @classmethod
    def of(
        cls, view: FlowView, session_token: str | None = None, recovery_code: str | None = None
    ) -> FlowState:
        code = None
        if view.code is not None:
            delivery = Delivery.of(view.code.delivery) if view.code.delivery else None
            code = Code(
                purpose=view.code.purpose,
                destination_hint=view.code.destination_hint,
                expires_at=view.code.expires_at,
                resend_available_at=view.code.resend_available_at,
                delivery=delivery,
                attempts_remaining=view.code.attempts_remaining,
                usable=view.code.usable,
                channel=view.code.channel,
                call_offer_at=view.code.call_offer_at,
            )
        return cls(
            id=str(view.id),
            kind=view.kind,
            state=view.state,
            actions=view.actions,
            expires_at=view.expires_at,
            name=view.name,
            name_hint=view.name_hint,
            options=[Option.model_validate(o, from_attributes=True) for o in view.options],
            chosen=Option.model_validate(view.chosen, from_attributes=True)
            if view.chosen
            else None,
            ways=view.ways,
            code=code,
            session_token=session_token,
            notice=view.notice,
            recovery_code=recovery_code,
            security=Security.model_validate(view.security, from_attributes=True)
            if view.security
            else None,
            recovery=RecoveryStep.model_validate(view.recovery, from_attributes=True)
            if view.recovery
            else None,
            closing_at=view.closing_at,
            app_setup=AppSetup.model_validate(view.app_setup, from_attributes=True)
            if view.app_setup
            else None,
            webauthn=view.webauthn,
        )


async def _binding(request: Request, client: ClientView, token: str | None) -> Binding:
    """The API client, and the signed-in session its `X-Session-Token` names (if any)."""
    session = await runtime_of(request).sessions.by_token(token, client.id) if token else None
    if token and session is None:
        raise no_session()
    return Binding(client_id=client.id, session=session, agent=f"API: {client.name}"[:120])


_ERRORS: dict[int | str, dict[str, Any]] = {
    **{
        status: {"model": Problem, "description": "see `error`; the body also has `flow`"}
        for status in (400, 401, 403, 404, 409, 410, 422, 429)
    },
    **BODY_TOO_LARGE,
}


@router.post("", status_code=201, response_model=FlowState, responses=_ERRORS)
async def create_flow(
    body: FlowCreate, client: Client, request: Request, token: OptionalToken = None
) -> FlowState:
    view = await runtime_of(request).flows.create(
        body.kind, await _binding(request, client, token), body.locale or request_locale(request)
    )
    return FlowState.of(view)


@router.get("/{flow_id}", response_model=FlowState, responses=_ERRORS)
async def get_flow(
    flow_id: str, client: Client, request: Request, token: OptionalToken = None
) -> FlowState:
    binding = await _binding(request, client, token)
    return FlowState.of(await runtime_of(request).flows.get(flow_id, binding))


@router.post("/{flow_id}", response_model=FlowState, responses=_ERRORS)
async def act_on_flow(
    flow_id: str,
    body: FlowAction,
    client: Client,
    request: Request,
    token: OptionalToken = None,
) -> FlowState | JSONResponse:
    """Perform `action` with its fields; the flow's new state, or a 4xx with the error and the
    flow's state as it is (a refused code still counts as a try)."""
    flows = runtime_of(request).flows
    binding = await _binding(request, client, token)
    outcome = await flows.act(flow_id, binding, body.action, body.fields())
    if outcome.error is not None:
        return _problem(request, outcome.error, FlowState.of(outcome.view))
    return FlowState.of(outcome.view, outcome.session_token, outcome.recovery_code)


def _problem(request: Request, error: HonninError, flow: FlowState) -> JSONResponse:
    return problem(
        status_of(error),
        error.code,
        error.message.render(request_locale(request)),
        headers_of(error),
        **error.details,
        flow=flow.model_dump(mode="json"),
    )
