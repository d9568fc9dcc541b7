"""Recovering an account whose every way in is lost (`recovery`: "I don't have any of these").

The name, then the password if the person knows it (optional: it is recorded for support),
then a new email address or phone number and the code sent to it, then the start of the wait
(`security.recovery.Recoveries`) — or, with the account's recovery code, the new way at once
and a sign-in.

No account enumeration: every name walks the same states, the new way gets a real code (it is
the person's own) and the same message whether or not the name has an account, and the page
that ends the flow says the same. Guesses (the password, the new way's code, the recovery
code) are counted under the name, as when signing in (`flows.guesses`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from honnin.db import Tx
from honnin.errors import HonninError
from honnin.flows import errors
from honnin.flows.guesses import Guess
from honnin.flows.models import FlowRecord
from honnin.flows.service import Context, FlowService
from honnin.flows.signin import Closing, Handler, SignIn, field, name_hint
from honnin.flows.views import FlowView, RecoveryStepView
from honnin.flows.ways.password import PasswordCheck
from honnin.proofs.service import ProofService, verified_proof
from honnin.security.recovery import Recoveries, RecoveryRequest
from honnin.security.service import SecurityChanges

ACTIONS = {
    "identifier": ["submit_identifier"],
    "password": ["submit_password", "skip_password", "restart"],
    "new_way": ["submit_new_way", "restart"],
    "new_code": ["submit_code", "resend", "change_address", "restart"],
    "confirm": ["start_recovery", "use_recovery_code", "change_address", "restart"],
    "started": [],
    # as a sign-in (`SignIn._complete`), after the recovery code: a closed account reopens
    "reopen": ["reopen", "restart"],
    "new_password": ["submit_new_password", "restart"],
    "done": [],
}


class AccountRecovery(SignIn):
    ACTIONS = ACTIONS
    PREPARED = frozenset({"submit_password", "submit_new_password"})
    name = "recovery"

    def __init__(
        self,
        flows: FlowService,
        changes: SecurityChanges,
        recoveries: Recoveries,
        closing: Closing,
    ) -> None:
        super().__init__(flows, changes, closing)
        self.changes = changes
        self.recoveries = recoveries

    def _handlers(self) -> dict[str, Handler]:
        return {
            **super()._handlers(),
            "submit_password": self._password_known,
            "skip_password": self._skip_password,
            "submit_new_way": self._submit_new_way,
            "submit_code": self._submit_new_code,
            "resend": self._resend_new_code,
            "change_address": self._change_address,
            "start_recovery": self._start_recovery,
            "use_recovery_code": self._use_code,
        }

    async def _password_known(
        self, ctx: Context, fields: Mapping[str, str], check: PasswordCheck
    ) -> HonninError | None:
        """The password proves something (support sees it); it signs nobody in here."""
        if not check.right or check.account_id is None:
            return errors.invalid_credentials()
        await self.guesses.release(ctx.tx, check.attempt)
        ctx.update("new_way", password_proven=True)
        return None

    async def _skip_password(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        ctx.update("new_way", password_proven=False)

    async def _submit_new_way(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """A code to the new address or number (refused where no code can reach it)."""
        kind, value = self.changes.read_new(field(fields, "address"))
        ctx.update(new_kind=kind, new_value=value)
        await self._send_new_code(ctx)

    async def _send_new_code(self, ctx: Context) -> None:
        kind, value = ctx.data["new_kind"], ctx.data["new_value"]
        channel = self.flows.destinations.reach(kind, value)[0]
        sent = await self.flows.codes.send(
            ctx.tx,
            purpose=ProofService.PURPOSES[kind],
            channel=channel,
            destination=value,
            locale=ctx.flow.locale,
            requester=ctx.binding.requester,
            flow_id=ctx.flow.id,
            template_params={"account_hint": name_hint(ctx)},
        )
        ctx.update("new_code", challenge_id=str(sent.challenge.id), reveal_delivery=True)
        ctx.challenge = sent.challenge

    async def _resend_new_code(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        challenge = await self._challenge(ctx)
        sent = await self.flows.codes.resend(
            ctx.tx,
            challenge,
            requester=ctx.binding.requester,
            locale=ctx.flow.locale,
            template_params={"account_hint": name_hint(ctx)},
        )
        ctx.challenge = sent.challenge

    async def _submit_new_code(
        self, ctx: Context, fields: Mapping[str, str], _: Any
    ) -> HonninError | None:
        await self.flows.throttle.attempt(ctx.binding.requester)
        challenge = await self._challenge(ctx)
        # counted by the code's own tries and this address's checks, not under the name: a
        # stranger guessing codes to an address of their own must not spend the owner's
        result = await self.flows.codes.check(ctx.tx, challenge, field(fields, "code"))
        ctx.challenge = result.current
        if not result.approved:
            return result.error
        ctx.update("confirm", challenge_id=None, new_way_proven=True)
        return None

    async def _change_address(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        ctx.update("new_way", challenge_id=None, new_way_proven=False)

    async def _start_recovery(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """Start the wait. The page after it is the same for every name."""
        self._ensure_proven(ctx, "start_recovery")
        await self.flows.throttle.attempt(ctx.binding.requester)
        request = RecoveryRequest(
            name=ctx.data["name"],
            name_kind=ctx.data["name_kind"],
            kind=ctx.data["new_kind"],
            value=ctx.data["new_value"],
            password_proven=bool(ctx.data.get("password_proven")),
            locale=ctx.flow.locale,
            time_zone=field(fields, "time_zone") or None,
        )
        due_at = await self.recoveries.start(ctx.tx, request, ctx.binding.origin)
        ctx.update("started", due_at=due_at.isoformat())

    async def _use_code(
        self, ctx: Context, fields: Mapping[str, str], _: Any
    ) -> HonninError | None:
        """The account's recovery code instead of the wait: the new way replaces the old
        ones now, and the person is signed in."""
        self._ensure_proven(ctx, "use_recovery_code")
        if not ctx.data.get("password_proven"):  # the code and the password: two factors
            raise errors.not_now("use_recovery_code")
        await self.flows.throttle.attempt(ctx.binding.requester)
        account = await self.flows.account_by_name(ctx.tx, ctx.data["name"])
        attempt = await self._reserve(ctx, Guess.SECRET, account.id if account else None)
        kind, value = ctx.data["new_kind"], ctx.data["new_value"]
        typed = field(fields, "recovery_code")
        if account is None:
            self.flows.keyring.matches(bytes(32), "recovery-code", typed)  # the same work
            return errors.wrong_recovery_code()
        origin = ctx.binding.origin
        if not await self.recoveries.complete_with_code(
            ctx.tx, account, kind, value, typed, origin
        ):
            return errors.wrong_recovery_code()
        await self.guesses.release(ctx.tx, attempt)
        proof = await verified_proof(ctx.tx, account.id, kind, value)
        assert proof is not None
        fresh = await self.flows.accounts.record(ctx.tx, account.id)
        assert fresh is not None
        await self._complete(ctx, fresh, "recovery_code+code", (f"proof:{proof.id}",))
        return None

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _ensure_proven(ctx: Context, action: str) -> None:
        if not ctx.data.get("new_way_proven"):
            raise errors.not_now(action)

    async def describe(self, tx: Tx, flow: FlowRecord, view: FlowView) -> FlowView:
        data = flow.data
        if not data.get("new_kind"):
            return view
        shown = self.flows.destinations.kind(data["new_kind"]).display(data["new_value"])
        due_at = datetime.fromisoformat(data["due_at"]) if data.get("due_at") else None
        step = RecoveryStepView(
            address=shown,  # typed by the person: theirs to see in full
            kind=data["new_kind"],
            due_at=due_at or self.recoveries.due_at(self.flows.clock.now()),
            password_proven=bool(data.get("password_proven")),
        )
        return replace(view, recovery=step)
