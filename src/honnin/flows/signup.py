"""Signing up: an email address and a password, then the code emailed to that address.

The account is created only when the code comes back: the address is then its first sign-in
name and its first (verified) security info, and the person is signed in.

No enumeration: if the address already has an account, the pages go on exactly the same, but
the email says "you already have an account" instead of carrying a code.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from honnin.codes.service import ChallengeState
from honnin.destinations.kinds import EMAIL, mask
from honnin.errors import Conflict, HonninError
from honnin.flows import errors
from honnin.flows.guesses import Guess, Guesses
from honnin.flows.models import FlowRecord
from honnin.flows.service import Binding, Context, FlowService, Steps
from honnin.flows.signin import field
from honnin.localtime import known_zones
from honnin.proofs.service import verified_proof

PURPOSE = "sign_up"
ACTIONS = {
    "details": ["submit_details"],
    "code": ["submit_code", "resend", "change_address", "restart"],
    "done": [],
}


@dataclass(frozen=True)
class Details:
    address: str
    password_hash: str


class SignUp(Steps):
    ACTIONS = ACTIONS
    PREPARED = frozenset({"submit_details"})
    name = "sign_up"
    first_state = "details"

    def __init__(self, flows: FlowService) -> None:
        super().__init__(flows)
        self.guesses = Guesses(flows)  # the code's guesses: counted as a sign-in's are

    async def prepare(
        self, action: str, flow: FlowRecord, fields: Mapping[str, str], binding: Binding
    ) -> Any:
        if action != "submit_details":
            return None
        address = self.flows.destinations.email.normalize(field(fields, "email"))
        password = fields.get("password") or ""
        return Details(address, await self.flows.accounts.new_password_hash(password, [address]))

    def conflict(self) -> HonninError:
        return errors.address_taken()  # two sign-ups of one address, at the same moment

    async def act(
        self, ctx: Context, action: str, fields: Mapping[str, str], prepared: Any
    ) -> HonninError | None:
        if action == "submit_details":
            await self._send(ctx, prepared.address)
            zone = field(fields, "time_zone")  # the browser's: notices give times in it
            ctx.update(
                "code",
                name=prepared.address,
                password_hash=prepared.password_hash,
                time_zone=zone if zone in known_zones() else None,
            )
            return None
        if action == "resend":
            await self._send(ctx, ctx.data["name"], await self._challenge(ctx))
            return None
        if action == "restart":
            ctx.flow.state, ctx.flow.data = self.first_state, {}
            return None
        if action == "change_address":  # back to the details, with the address to correct
            # nothing secret is kept (the password's hash goes); the pending code no longer
            # belongs to this flow's step, so it cannot complete it
            ctx.flow.state, ctx.flow.data = self.first_state, {"name": ctx.data["name"]}
            return None
        return await self._submit_code(ctx, fields)

    async def _send(
        self, ctx: Context, address: str, challenge: ChallengeState | None = None
    ) -> None:
        taken = await self.flows.account_by_name(ctx.tx, address) is not None
        template = "account_exists" if taken else "code"
        params = {"account_hint": mask(EMAIL, address)}
        if challenge is None:
            sent = await self.flows.codes.send(
                ctx.tx,
                purpose=PURPOSE,
                channel="email",
                destination=address,
                locale=ctx.flow.locale,
                requester=ctx.binding.requester,
                flow_id=ctx.flow.id,
                template=template,
                template_params=params,
            )
            ctx.update(challenge_id=str(sent.challenge.id), reveal_delivery=True)
        else:
            sent = await self.flows.codes.resend(
                ctx.tx,
                challenge,
                requester=ctx.binding.requester,
                locale=ctx.flow.locale,
                template=template,
                template_params=params,
            )
        ctx.challenge = sent.challenge

    async def _submit_code(self, ctx: Context, fields: Mapping[str, str]) -> HonninError | None:
        await self.flows.throttle.attempt(ctx.binding.requester)
        attempt = await self.guesses.reserve(
            ctx.tx,
            Guess.CODE,
            name=ctx.data["name"],
            account_id=None,  # none yet: the code is what creates it
            binding=ctx.binding,
            now=ctx.now,
            flow_id=ctx.flow.id,
        )
        result = await self.flows.codes.check(
            ctx.tx, await self._challenge(ctx), field(fields, "code")
        )
        ctx.challenge = result.current
        if not result.wrong_try:  # a wrong code, the one that burned it too
            await self.guesses.release(ctx.tx, attempt)
        if not result.approved:
            return result.error
        try:
            account = await self.flows.accounts.insert(
                ctx.tx,
                ctx.data["name"],
                ctx.data["password_hash"],
                locale=ctx.flow.locale,
                email_verified=True,
                time_zone=ctx.data.get("time_zone"),
            )
        except Conflict:  # the address got an account meanwhile: sign in instead
            return errors.address_taken()
        ctx.update(password_hash=None)
        proof = await verified_proof(ctx.tx, account.id, EMAIL, ctx.data["name"])
        ways = (f"proof:{proof.id}", "password") if proof else ("password",)
        await self.flows.complete(ctx, account.id, "sign_up", ways)
        return None

    async def _challenge(self, ctx: Context) -> ChallengeState:
        challenge = await self.flows.codes.get(ctx.tx, uuid.UUID(ctx.data["challenge_id"]))
        assert challenge is not None
        return challenge
