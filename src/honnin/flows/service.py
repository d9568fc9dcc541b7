"""Running flows: create one, show it, act on it.

Every action runs in one transaction with the flow row locked, so two tabs posting at once
take turns; slow work that needs no lock (password hashing) is done before it. An action
either raises (nothing is written) or returns an error to show after its writes commit (a
wrong code is counted even though it is refused).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from honnin.accounts.service import AccountRecord, AccountService
from honnin.audit.service import Origin
from honnin.authenticators.passkeys import RelyingParty
from honnin.clock import Clock
from honnin.codes.service import ChallengeState, CodeService
from honnin.courier.models import MessageStatus
from honnin.courier.service import DeliveryStatus
from honnin.crypto import Keyring
from honnin.db import Database, Prepared, Tx, new_id, table_of
from honnin.destinations.kinds import EMAIL, Destinations, mask, mask_for_channel
from honnin.destinations.phones import CALL, SMS
from honnin.errors import HonninError
from honnin.flows import errors
from honnin.flows.models import Flow, FlowRecord
from honnin.flows.views import CodeStep, FlowView, OptionView
from honnin.flows.ways import first_ways
from honnin.i18n import LOCALES
from honnin.limits.failures import FailureLimits
from honnin.limits.service import Requester, Throttle
from honnin.oidc.models import AuthorizationRequest
from honnin.sessions.service import HOW, SessionService, SessionView

_DID_NOT_ARRIVE = (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
_flows = table_of(Flow)
_f = _flows.c
_INSERT = Prepared(insert(_flows))
_BY_ID = select(_flows).where(_f.id == bindparam("b_id"))
_GET = Prepared(_BY_ID)
_GET_LOCKED = Prepared(_BY_ID.with_for_update())
_SAVE = Prepared(
    update(_flows)
    .where(_f.id == bindparam("b_id"))
    .values(
        {
            name: bindparam(f"b_{name}")
            for name in ("state", "data", "account_id", "session_id", "locale", "updated_at")
        }
    )
)
# a browser that signs in gets a new device token: its flows move to it, and so do the
# applications' requests it is signing in for
_MOVE_DEVICE = [
    Prepared(
        update(table)
        .where(table.c.device_digest.in_(bindparam("b_digests", expanding=True)))
        .values(device_digest=bindparam("b_digest"))
    )
    for table in (_flows, table_of(AuthorizationRequest))
]


@dataclass(frozen=True)
class Binding:
    """Who may act on a flow: a browser (its device token) or an API client."""

    device_token: str | None = None
    client_id: uuid.UUID | None = None
    ip: str | None = None
    # the signed-in session acting (a flow of a signed-in kind, such as `settings`, needs it)
    session: SessionView | None = None
    agent: str | None = None  # the browser ("Chrome on Windows") or the application

    @property
    def requester(self) -> Requester:
        return Requester(client_id=self.client_id, ip=self.ip)

    @property
    def origin(self) -> Origin:
        """Where the request came from, as the audit log tells it."""
        return Origin(self.ip, self.agent)


@dataclass(frozen=True)
class ActionResult:
    view: FlowView
    error: HonninError | None = None
    session_token: str | None = None  # for an API client, once, when the flow completes
    device_token: str | None = None  # for a browser that just signed in: its new device token
    recovery_code: str | None = None  # a new recovery code, to show this once (never stored)


@dataclass
class Context:
    """What an action works with: the transaction, the locked flow, who asked, when."""

    tx: Tx
    flow: FlowRecord
    binding: Binding
    now: datetime
    session_token: str | None = None
    device_token: str | None = None
    recovery_code: str | None = None
    # the flow's challenge as the action left it (sent, checked), so that the view need not
    # read it again; None: read it
    challenge: ChallengeState | None = None

    @property
    def data(self) -> dict[str, Any]:
        return self.flow.data

    def update(self, state: str | None = None, **data: Any) -> None:
        """Move the flow on (`FlowService.act` writes the row back as its transaction ends)."""
        if state is not None:
            self.flow.state = state
        self.flow.data = {**self.flow.data, **data}


def with_channel(ways: tuple[str, ...], challenge: ChallengeState | None) -> tuple[str, ...]:
    """The ways, and — where a code was checked in this action — the channel it went by
    (`how:email`, `how:sms`, `how:call`): what an OpenID Connect `amr` tells apart."""
    if challenge is None or not any(way.startswith("proof:") for way in ways):
        return ways
    return (*ways, f"{HOW}{challenge.channel}")


# actions that a service whose address is an IP cannot offer (no relying party: no passkeys)
NEEDS_PASSKEYS = frozenset({"submit_passkey", "add_passkey"})


class Kind(Protocol):
    """One kind of flow (sign-in, sign-up): its states and what each action does."""

    name: str
    first_state: str
    PREPARED: frozenset[str]  # the actions with slow work to do first (`prepare`)
    SIGNED_IN: bool  # a flow of a signed-in session (`settings`): only that session may act

    def actions(self, state: str) -> list[str]: ...

    async def begin(self, tx: Tx, flow: FlowRecord, binding: Binding) -> None:
        """Set up a new flow (a signed-in kind: its account and session)."""
        ...

    async def describe(self, tx: Tx, flow: FlowRecord, view: FlowView) -> FlowView:
        """What the kind adds to the flow's view (the security info of `settings`)."""
        ...

    async def prepare(
        self, action: str, flow: FlowRecord, fields: Mapping[str, str], binding: Binding
    ) -> Any:
        """Slow work done before the transaction (hashing); its result goes to `act`."""
        ...

    async def act(
        self, ctx: Context, action: str, fields: Mapping[str, str], prepared: Any
    ) -> HonninError | None: ...

    def conflict(self) -> HonninError:
        """The error for a unique-name race lost at commit (two tabs, two people)."""
        ...


class Steps:
    """What every kind shares: the service it works with, its table of actions per state."""

    name: str
    first_state: str
    ACTIONS: dict[str, list[str]]
    PREPARED: frozenset[str] = frozenset()
    SIGNED_IN = False

    def __init__(self, flows: FlowService) -> None:
        self.flows = flows

    def actions(self, state: str) -> list[str]:
        found = self.ACTIONS.get(state, [])
        if self.flows.relying_party.available:
            return found
        return [action for action in found if action not in NEEDS_PASSKEYS]

    async def begin(self, tx: Tx, flow: FlowRecord, binding: Binding) -> None:
        return None

    async def describe(self, tx: Tx, flow: FlowRecord, view: FlowView) -> FlowView:
        return view


class FlowService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        keyring: Keyring,
        *,
        accounts: AccountService,
        codes: CodeService,
        sessions: SessionService,
        failures: FailureLimits,
        throttle: Throttle,
        ttl: timedelta,
        destinations: Destinations | None = None,
        call_offer_after: timedelta = timedelta(seconds=60),
        relying_party: RelyingParty | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.keyring = keyring
        self.accounts = accounts
        self.codes = codes
        self.sessions = sessions
        self.failures = failures
        self.throttle = throttle
        self.ttl = ttl
        self.destinations = destinations or Destinations()
        self.call_offer_after = call_offer_after
        # passkeys' relying party (none: this service's address is an IP, or none is known)
        self.relying_party = relying_party or RelyingParty(None, "", ())
        self.kinds: dict[str, Kind] = {}

    def register(self, kind: Kind) -> None:
        self.kinds[kind.name] = kind

    # --- the three operations -----------------------------------------------------------

    async def create(
        self,
        kind: str,
        binding: Binding,
        locale: str,
        *,
        return_to: str | None = None,
        login_hint: str | None = None,
        two_steps: bool = False,
    ) -> FlowView:
        """A new flow. `return_to`: the local path its pages go to once it completes (an
        application's sign-in waiting for it), instead of the account page; `login_hint`: the
        name its first page starts with; `two_steps`: a sign-in asks for two distinct steps
        even if the account's two-step verification is off (an application asked for it)."""
        handler = self.kinds[kind]
        start: dict[str, Any] = {}
        if return_to is not None:
            start["return_to"] = return_to
        if login_hint:
            start["login_hint"] = login_hint[:320]
        if two_steps:
            start["two_steps"] = True
        now = self.clock.now()
        flow = FlowRecord(
            id=new_id(),
            kind=kind,
            state=handler.first_state,
            device_digest=self._device(binding),
            client_id=binding.client_id,
            account_id=None,
            locale=locale if locale in LOCALES else "en",
            data=start,
            created_at=now,
            updated_at=now,
            expires_at=now + self.ttl,
        )
        async with self.db.transaction() as tx:
            await handler.begin(tx, flow, binding)
            await tx.run(_INSERT, vars(flow))
            return await self._view(tx, flow)

    async def get(self, flow_id: str, binding: Binding, *, kind: str | None = None) -> FlowView:
        """The flow's state; `FlowNotFound` unless it is this binding's (and of `kind`)."""
        async with self.db.transaction(write=False) as tx:
            flow = await self._load(tx, flow_id, binding, lock=False, kind=kind)
            return await self._view(tx, flow)

    async def act(
        self,
        flow_id: str,
        binding: Binding,
        action: str,
        fields: Mapping[str, str],
        *,
        locale: str | None = None,
        kind: str | None = None,
    ) -> ActionResult:
        """Perform `action`. `locale`: the language the person reads now (emails follow it).

        An action with slow work (hashing a password) does it first, on a snapshot of the flow
        read without a lock, and acts only if the flow is still as it was; every other action
        reads and writes in one transaction."""
        snapshot, prepared = None, None
        if any(action in handler.PREPARED for handler in self.kinds.values()):
            async with self.db.transaction(write=False) as tx:
                snapshot = await self._load(tx, flow_id, binding, lock=False, kind=kind)
            self._may(snapshot, action)
            handler = self.kinds[snapshot.kind]
            prepared = await handler.prepare(action, snapshot, fields, binding)
        try:
            async with self.db.transaction() as tx:
                flow = await self._load(tx, flow_id, binding, lock=True, kind=kind)
                handler = self.kinds[flow.kind]
                if snapshot is None:
                    self._may(flow, action)
                elif flow.state != snapshot.state or flow.data != snapshot.data:
                    raise errors.changed_meanwhile()  # another tab moved it on
                ctx = Context(tx, flow, binding, self.clock.now())
                if locale in LOCALES:
                    flow.locale = locale
                error = await handler.act(ctx, action, fields, prepared)
                flow.updated_at = ctx.now
                await tx.run(_SAVE, {f"b_{k}": v for k, v in vars(flow).items()})
                view = await self._view(tx, flow, ctx.challenge)
        except IntegrityError:  # a race on a unique name, lost at commit
            raise handler.conflict() from None
        return ActionResult(view, error, ctx.session_token, ctx.device_token, ctx.recovery_code)

    # --- shared steps, for the kinds ----------------------------------------------------

    def name_key(self, name: str) -> tuple[bytes, ...]:
        """The key failures of a sign-in name are counted under (known or not), under every
        secret key (`FailureLimits`: the current one first)."""
        return self.keyring.digests("sign-in-name", name)

    async def account_by_name(self, tx: Tx, name: str) -> AccountRecord | None:
        return await self.accounts.record_named(tx, name)

    async def complete(
        self, ctx: Context, account_id: uuid.UUID, method: str, ways: tuple[str, ...] = ()
    ) -> None:
        """Sign the account in, in this browser or for this API client; the flow is done.
        `ways`: what proved who this is ("password", "proof:<id>"), for the session.

        A browser gets a new device token as it signs in, and its sessions and flows move to
        it: a device token planted or seen before the sign-in is worth nothing after it."""
        device = ctx.binding.device_token
        if device is not None:
            ctx.device_token = await self.sessions.rotate_device(ctx.tx, device)
            digest = self.sessions.device_digest(ctx.device_token)
            moved = {"b_digests": list(self.sessions.device_digests(device)), "b_digest": digest}
            for statement in _MOVE_DEVICE:
                await ctx.tx.run(statement, moved)
            ctx.flow.device_digest = digest
        session_id, token = await self.sessions.start(
            ctx.tx,
            account_id,
            method=method,
            device_token=ctx.device_token,
            client_id=ctx.binding.client_id,
            verified_with=with_channel(ways, ctx.challenge),
            ip=ctx.binding.ip,
            agent=ctx.binding.agent,
        )
        ctx.flow.account_id = account_id
        ctx.flow.session_id = session_id
        ctx.session_token = token
        ctx.update("done")

    async def password_rules(
        self, flow_id: str, binding: Binding, *, typed_name: str = ""
    ) -> tuple[list[str], bool]:
        """What a new password typed on this flow's page is judged by (the meter): the names it
        must not contain, and whether it alone will sign in (15 characters, else 8) — its
        account's (`AccountService.password_rules`), or before there is one (a sign-up) the
        address typed beside it."""
        async with self.db.transaction(write=False) as tx:
            flow = await self._load(tx, flow_id, binding, lock=False)
            actions = self.kinds[flow.kind].actions(flow.state)
            if not {"submit_details", "submit_new_password"} & set(actions):
                # only a page that chooses a password: elsewhere its answers would tell, say,
                # a half-proven sign-in which names the account has
                raise errors.not_now("password_strength")
            if flow.account_id is None:
                return ([typed_name] if typed_name else []), True
            return await self.accounts.password_rules(tx, flow.account_id)

    def call_offer_at(
        self, challenge: ChallengeState, delivery: DeliveryStatus | None
    ) -> datetime | None:
        """When "call me instead" is offered for a challenge whose code went by text: at once
        when the text is known to have failed, else once `HONNIN_CALL_OFFER_AFTER_SECONDS`
        passed without a report of its delivery. None: never (not a text, delivered, not
        pending, or no calls from this service). `delivery` is None where it may not be shown
        (before a password proved who this is): then the time alone decides, for everyone."""
        if (
            challenge.channel != SMS
            or challenge.status != "pending"
            or CALL not in self.destinations.channels
        ):
            return None
        sent_at = challenge.last_sent_at or challenge.created_at
        if delivery is not None and delivery.status == MessageStatus.DELIVERED:
            return None
        if delivery is not None and delivery.status in _DID_NOT_ARRIVE:
            return sent_at
        return sent_at + self.call_offer_after

    # --- internals ----------------------------------------------------------------------

    def _device(self, binding: Binding) -> bytes | None:
        if binding.device_token is None:
            return None
        return self.sessions.device_digest(binding.device_token)

    async def _load(
        self, tx: Tx, flow_id: str, binding: Binding, *, lock: bool, kind: str | None = None
    ) -> FlowRecord:
        try:
            key = uuid.UUID(flow_id)
        except ValueError:
            raise errors.not_found() from None
        row = (await tx.run(_GET_LOCKED if lock else _GET, {"b_id": key})).one_or_none()
        flow = FlowRecord(**row._mapping) if row else None
        if flow is None or not self._bound(flow, binding) or kind not in (None, flow.kind):
            raise errors.not_found()
        if flow.expires_at <= self.clock.now() and flow.state != "done":
            raise errors.expired()
        return flow

    def _may(self, flow: FlowRecord, action: str) -> None:
        if action not in self.kinds[flow.kind].actions(flow.state):
            raise errors.not_now(action)

    def _bound(self, flow: FlowRecord, binding: Binding) -> bool:
        if self.kinds[flow.kind].SIGNED_IN and (
            binding.session is None or binding.session.id != flow.session_id
        ):
            return False  # signed out meanwhile, or another account's
        if flow.client_id is not None:
            return flow.client_id == binding.client_id
        if binding.device_token is None or flow.device_digest is None:
            return False
        return self.sessions.device_matches(flow.device_digest, binding.device_token)

    async def _view(
        self, tx: Tx, flow: FlowRecord, known: ChallengeState | None = None
    ) -> FlowView:
        """What the flow shows; `known`: its challenge as just written, if the action has it."""
        data = flow.data
        view_actions = self.kinds[flow.kind].actions(flow.state)
        view = FlowView(
            id=flow.id,
            kind=flow.kind,
            state=flow.state,
            locale=flow.locale,
            expires_at=flow.expires_at,
            actions=view_actions,
            name=data.get("name"),
            shown_name=self.destinations.kind(data.get("name_kind", EMAIL)).display(data["name"])
            if data.get("name")
            else None,
            name_hint=mask(data.get("name_kind", EMAIL), data["name"])
            if data.get("name")
            else None,
            session_id=flow.session_id,
            ways=first_ways(data) if "send_code" in view_actions else [],
            notice=data.get("notice"),
            return_to=data.get("return_to"),
            login_hint=data.get("login_hint"),
            asked_by_app=bool(data.get("asked_by_app")),
            closing_at=datetime.fromisoformat(data["closing_at"])
            if data.get("closing_at")
            else None,
        )
        if data.get("options"):
            options = [OptionView(**option) for option in data["options"]]
            options = [o if o.way else replace(o, way="email_code") for o in options]
            chosen = next((o for o in options if o.id == data.get("option")), None)
            view = replace(view, options=options, chosen=chosen)
        challenge_id = data.get("challenge_id")
        if challenge_id:
            challenge = (
                known
                if known is not None and str(known.id) == challenge_id
                else await self.codes.peek(tx, uuid.UUID(challenge_id))
            )
            if challenge is not None:
                # before a password proved who this is, the delivery status would tell
                # whether the name has an account (a decoy code has no message)
                delivery = (
                    await self.codes.latest_delivery(tx, challenge)
                    if data.get("reveal_delivery")
                    else None
                )
                code = CodeStep(
                    purpose=challenge.purpose,
                    destination_hint=mask_for_channel(challenge.channel, challenge.destination),
                    expires_at=challenge.expires_at,
                    resend_available_at=self.codes.resend_available_at(challenge),
                    attempts_remaining=self.codes.attempts_remaining(challenge),
                    usable=self.codes.usable(challenge),
                    delivery=delivery,
                    channel=challenge.channel,
                    call_offer_at=self.call_offer_at(challenge, delivery),
                )
                view = replace(view, code=code)
        return await self.kinds[flow.kind].describe(tx, flow, view)
