"""Signing in: a name (an email address or a phone number), then a password or a code sent to
the name (by email, by text, by a call: `honnin.flows.ways`), then — with two-step
verification — "verify your identity" with a code to one of the account's security info.

No account enumeration: a name without an account walks through the same states with the same
wording and the same work; the ways offered depend on the name alone. Its password is checked
against a dummy hash (same time), and "send me a code" makes a real, counted, checkable code
whose message the courier renders and then drops (the void channel of its channel).

Every guess (password, code, the full address behind a hint) is counted before it is judged,
so that guesses sent all at once cannot slip past the limit; where it is counted (the name, or
the browser's own allowance when it signed in to the account before) is `flows.guesses`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from honnin.accounts.service import CLOSING, AccountRecord
from honnin.audit.service import Origin
from honnin.authenticators import apps, passkeys
from honnin.authenticators.passkeys import PasskeyRefused
from honnin.codes.service import ChallengeState
from honnin.db import Tx
from honnin.destinations.kinds import EMAIL, mask
from honnin.destinations.phones import CALL
from honnin.errors import HonninError
from honnin.flows import errors
from honnin.flows.guesses import NOBODY, Attempt, Guess, Guesses
from honnin.flows.models import FlowRecord
from honnin.flows.service import Binding, Context, FlowService, Steps
from honnin.flows.views import FlowView
from honnin.flows.ways import (
    BY_NAME,
    CODE_WAYS,
    first_ways,
    passkey,
    password,
    proof_id_of,
    totp,
)
from honnin.flows.ways.password import PasswordCheck
from honnin.proofs.service import verified_proof_id, verified_proofs


class RecoveryCodes(Protocol):
    """Spending a recovery code, telling of a new browser (`security.service.SecurityChanges`,
    which lives above)."""

    async def use_recovery_code(
        self, tx: Tx, account: AccountRecord, typed: str, origin: Origin
    ) -> str | None: ...

    async def new_browser(
        self, tx: Tx, account: AccountRecord, origin: Origin, session_id: uuid.UUID
    ) -> None: ...

    async def set_password(
        self,
        tx: Tx,
        account: AccountRecord,
        password_hash: str,
        origin: Origin,
        *,
        keep_session: uuid.UUID | None,
        reset: bool = False,
    ) -> None: ...

    async def has_recovery_waiting(self, tx: Tx, account_id: uuid.UUID) -> bool: ...


class Closing(Protocol):
    """A closed account waiting for its deletion (`security.closing.AccountClosing`)."""

    async def due_at(self, tx: Tx, account_id: uuid.UUID) -> datetime | None: ...

    async def reopen(self, tx: Tx, account: AccountRecord, origin: Origin | None) -> bool: ...


SIGN_IN = "sign_in"  # purpose of the code that signs in instead of a password
VERIFY = "verify_identity"  # purpose of the second step's code
MADE_WITH = ("return_to", "login_hint", "two_steps")  # `FlowService.create`'s, kept

ACTIONS = {
    # or a passkey, without a name (a button, or the browser's autofill list)
    "identifier": ["submit_identifier", "submit_passkey"],
    # `send_code` with the `way` (`email_code` is the same for a code by email)
    "password": ["submit_password", "send_code", "email_code", "restart"],
    "code": ["submit_code", "resend", "restart"],
    "second_password": ["submit_password", "restart"],
    "verify_options": ["choose_option", "have_code", "use_recovery_code", "restart"],
    "verify_confirm": ["confirm_address", "other_options", "restart"],
    "verify_code": ["submit_code", "resend", "other_options", "restart"],
    # the code an authenticator app shows (nothing is sent)
    "verify_app": ["submit_code", "other_options", "restart"],
    "verify_passkey": ["submit_passkey", "other_options", "restart"],
    # after "this wasn't me": a code proved who this is, and the password must change
    "new_password": ["submit_new_password", "restart"],
    # a closed account, waiting for its deletion: signing in reopens it (if the person wants)
    "reopen": ["reopen", "restart"],
    "done": [],
}
Handler = Callable[[Context, Mapping[str, str], Any], Awaitable[HonninError | None]]


def name_hint(ctx: Context) -> str:
    """The sign-in name, masked: how messages of this sign-in name the account."""
    return mask(ctx.data.get("name_kind", EMAIL), ctx.data["name"])


def two_steps(ctx: Context, account: AccountRecord) -> bool:
    """Whether this sign-in takes two distinct steps: the account's two-step verification is
    on, or the application this sign-in is for asked for them (`FlowService.create`)."""
    return account.two_step or bool(ctx.data.get("two_steps"))


def asked_by_app(ctx: Context, account: AccountRecord) -> bool:
    """Two steps because the application asked, not the account's setting."""
    return bool(ctx.data.get("two_steps")) and not account.two_step


def field(fields: Mapping[str, str], name: str) -> str:
    return (fields.get(name) or "").strip()


class SignIn(Steps):
    ACTIONS = ACTIONS
    PREPARED = frozenset({"submit_password", "submit_new_password"})
    name = "sign_in"
    first_state = "identifier"

    def __init__(self, flows: FlowService, recovery: RecoveryCodes, closing: Closing) -> None:
        super().__init__(flows)
        self.guesses = Guesses(flows)
        self.recovery = recovery
        self.closing = closing

    async def begin(self, tx: Tx, flow: FlowRecord, binding: Binding) -> None:
        if "submit_passkey" in self.actions(flow.state):
            flow.data = {**flow.data, **passkey.fresh(self.flows)}  # sign in with a passkey

    async def describe(self, tx: Tx, flow: FlowRecord, view: FlowView) -> FlowView:
        """A passkey's options where one is asked for (any, or one of the account's)."""
        if "submit_passkey" not in view.actions:
            return view
        options = await passkey.request_options(
            tx, self.flows, flow, account_bound=flow.state == "verify_passkey"
        )
        return replace(view, webauthn=options)

    # --- slow work before the transaction ------------------------------------------------

    async def prepare(
        self, action: str, flow: FlowRecord, fields: Mapping[str, str], binding: Binding
    ) -> Any:
        if action == "submit_new_password":  # judged and hashed, for the account proven
            if flow.account_id is None:
                return None
            # "not the old one" compares with the old password: counted like a check
            await self.flows.throttle.attempt(binding.requester)
            return await self.flows.accounts.new_password_hash_for(
                flow.account_id, fields.get("password") or ""
            )
        if action != "submit_password":
            return None
        return await password.check(self.flows, self.guesses, flow, fields, binding)

    # --- actions ------------------------------------------------------------------------

    async def act(
        self, ctx: Context, action: str, fields: Mapping[str, str], prepared: Any
    ) -> HonninError | None:
        return await self._handlers()[action](ctx, fields, prepared)

    def _handlers(self) -> dict[str, Handler]:
        """Each action of `ACTIONS` and the method that performs it."""
        return {
            "submit_identifier": self._submit_identifier,
            "submit_password": self._submit_password,
            "send_code": self._send_code,
            "email_code": self._email_code,
            "submit_code": self._submit_code,
            "resend": self._resend,
            "choose_option": self._choose_option,
            "have_code": self._have_code,
            "confirm_address": self._confirm_address,
            "other_options": self._other_options,
            "use_recovery_code": self._use_recovery_code,
            "submit_new_password": self._submit_new_password,
            "submit_passkey": self._submit_passkey,
            "reopen": self._reopen,
            "restart": self._restart,
        }

    def conflict(self) -> HonninError:
        return errors.changed_meanwhile()

    async def _submit_identifier(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        destinations = self.flows.destinations
        kind, name = destinations.sign_in_name(field(fields, "name"))
        # from the name alone (whether an account has it must not show): its kind, its reach
        ways = [way.name for way in CODE_WAYS if way.offered_for_name(destinations, kind, name)]
        ctx.update("password", name=name, name_kind=kind, ways=ways)

    async def _submit_password(
        self, ctx: Context, fields: Mapping[str, str], check: PasswordCheck
    ) -> HonninError | None:
        if not check.right or check.account_id is None:
            return errors.invalid_credentials()
        await self.guesses.release(ctx.tx, check.attempt)
        account = await self.flows.accounts.record(ctx.tx, check.account_id)
        assert account is not None
        await password.rehash(ctx, check)
        if ctx.flow.state == "second_password":
            first = (f"proof:{ctx.data['first_proof']}",) if ctx.data.get("first_proof") else ()
            await self._complete(ctx, account, "code+password", (*first, "password"))
            return None
        if not two_steps(ctx, account) and not account.password_change_required:
            await self._complete(ctx, account, "password", ("password",))
            return None
        # two-step verification, or a password someone else may know: a code to one of its
        # ways too
        return await self._offer_options(ctx, account)

    async def _email_code(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        await self._send_code(ctx, {"way": "email_code"}, None)

    async def _send_code(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """A code to the name, by one of the ways its kind offers (instead of the password)."""
        name = ctx.data["name"]
        way = BY_NAME.get(field(fields, "way"))
        if way is None or way.name not in first_ways(ctx.data):
            raise errors.not_now("send_code")
        account = await self.flows.account_by_name(ctx.tx, name)
        # a code goes only to verified security info: a name that is not (any more) is
        # answered like a name without an account
        proof_id = await verified_proof_id(  # looked up for every name: the same work
            ctx.tx, account.id if account else NOBODY, ctx.data.get("name_kind", EMAIL), name
        )
        account_id = account.id if account and proof_id else None
        sent = await self.flows.codes.send(
            ctx.tx,
            purpose=SIGN_IN,
            channel=way.channel,
            destination=name,
            locale=ctx.flow.locale,
            requester=ctx.binding.requester,
            account_id=account_id,
            flow_id=ctx.flow.id,
            template="code" if account_id else None,  # no account: a decoy, sent to the void
            template_params={"account_hint": name_hint(ctx)},
            quota_key=await self.guesses.own_send_quota(
                ctx.tx, account_id, ctx.binding, way.channel, name
            ),
        )
        ctx.update(
            "code",
            challenge_id=str(sent.challenge.id),
            first_proof=str(proof_id) if proof_id else None,
        )
        ctx.challenge = sent.challenge

    async def _submit_code(
        self, ctx: Context, fields: Mapping[str, str], _: Any
    ) -> HonninError | None:
        if ctx.flow.state == "verify_app":
            return await self._submit_app_code(ctx, fields)
        await self.flows.throttle.attempt(ctx.binding.requester)
        challenge = await self._challenge(ctx)
        attempt = await self._reserve(ctx, Guess.CODE, challenge.account_id)
        result = await self.flows.codes.check(ctx.tx, challenge, field(fields, "code"))
        ctx.challenge = result.current
        if not result.wrong_try:
            await self.guesses.release(ctx.tx, attempt)
        if not result.approved:
            return result.error
        account = (
            await self.flows.accounts.record(ctx.tx, challenge.account_id)
            if challenge.account_id
            else None
        )
        if account is None:  # a decoy's code was guessed: it signs nobody in
            return errors.invalid_credentials()
        return await self._after_code(ctx, account)

    async def _submit_app_code(self, ctx: Context, fields: Mapping[str, str]) -> HonninError | None:
        """The second step by an authenticator app: the code it shows now."""
        account = await self._proven_account(ctx, "submit_code")
        app_id = totp.app_id_of(self._chosen(ctx)["id"])
        app = await totp.check(ctx, self.guesses, account.id, app_id, field(fields, "code"))
        if app is None:
            return errors.wrong_app_code()
        await self._second_step(ctx, account, "password+app", totp.session_way(app.id))
        return None

    async def _submit_passkey(
        self, ctx: Context, fields: Mapping[str, str], _: Any
    ) -> HonninError | None:
        """A passkey's answer: the whole sign-in (without a name: the passkey says whose it
        is; with user verification it is two steps), or the second step."""
        second = ctx.flow.state == "verify_passkey"
        bound = (await self._proven_account(ctx, "submit_passkey")).id if second else None
        try:
            assertion = await passkey.check(
                ctx, self.flows, field(fields, "credential"), account_id=bound
            )
        except PasskeyRefused as refused:
            return refused  # its challenge is spent all the same
        account = await self.flows.accounts.record(ctx.tx, assertion.account_id)
        if account is None:
            return passkeys.unknown()
        way = passkey.session_way(assertion.passkey.id)
        if second:
            await self._second_step(ctx, account, "password+passkey", way)
            return None
        if two_steps(ctx, account) and not assertion.user_verified:
            # possession alone: one step of two
            return errors.passkey_not_verified(asked=asked_by_app(ctx, account))
        named = await self.flows.accounts.first_name(ctx.tx, account.id)
        if named is not None:  # the passkey said whose it is: the pages that follow name it
            ctx.update(name_kind=named[0], name=named[1])
        method = "passkey+verified" if assertion.user_verified else "passkey"
        verified = (passkey.USER_VERIFIED,) if assertion.user_verified else ()
        await self._complete(ctx, account, method, (way, *verified))
        return None

    async def _second_step(
        self, ctx: Context, account: AccountRecord, method: str, way: str
    ) -> None:
        """The second step, taken by an app or a passkey: the sign-in completes (a reset
        asks for its new password instead)."""
        await self._complete(ctx, account, method, ("password", way))

    async def _after_code(self, ctx: Context, account: AccountRecord) -> HonninError | None:
        """A right code: the first step (a code instead of the password) or the second."""
        if ctx.flow.state == "verify_code":
            second = proof_id_of(ctx.data.get("option") or "")
            await self._complete(ctx, account, "password+code", ("password", f"proof:{second}"))
        elif two_steps(ctx, account):
            if account.password_hash is None and asked_by_app(ctx, account):
                # an account made without a password (by the API): no second step to ask for
                return errors.no_second_factor(asked=True)
            ctx.update(
                "second_password", challenge_id=None, asked_by_app=asked_by_app(ctx, account)
            )
        else:
            first = (f"proof:{ctx.data['first_proof']}",) if ctx.data.get("first_proof") else ()
            await self._complete(ctx, account, "code", first)
        return None

    async def _resend(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """A new code; with `channel` `call`, by a call instead of the text that was sent
        ("call me instead", once the flow offers it: `FlowService.call_offer_at`)."""
        challenge = await self._challenge(ctx)
        channel = field(fields, "channel") or None
        waive_cooldown = False
        if channel is not None and channel != challenge.channel:
            delivery = (
                await self.flows.codes.latest_delivery(ctx.tx, challenge)
                if ctx.data.get("reveal_delivery")
                else None
            )
            offered_at = self.flows.call_offer_at(challenge, delivery)
            if channel != CALL or offered_at is None or ctx.now < offered_at:
                raise errors.not_now("resend")
            waive_cooldown = True  # the text did not arrive: the call is not a flood
        sent = await self.flows.codes.resend(
            ctx.tx,
            challenge,
            channel=channel,
            waive_cooldown=waive_cooldown,
            requester=ctx.binding.requester,
            locale=ctx.flow.locale,
            template="code" if challenge.account_id else None,
            template_params={"account_hint": name_hint(ctx)},
            quota_key=await self.guesses.own_send_quota(
                ctx.tx, challenge.account_id, ctx.binding, challenge.channel, challenge.destination
            ),
        )
        ctx.challenge = sent.challenge

    async def _choose_option(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """An address or number: confirm it first (a code goes to it); an app: its code."""
        option = self._option(ctx, fields)
        if passkey.is_passkey(option):  # the browser asks for one of the account's
            ctx.update("verify_passkey", option=option["id"], **passkey.fresh(self.flows))
            return
        state = "verify_app" if totp.is_app(option) else "verify_confirm"
        ctx.update(state, option=option["id"], challenge_id=None)

    async def _have_code(
        self, ctx: Context, fields: Mapping[str, str], _: Any
    ) -> HonninError | None:
        """Enter a code sent earlier in this sign-in (say, before choosing another option)."""
        option = self._option(ctx, fields)
        if totp.is_app(option) or passkey.is_passkey(option):
            raise errors.not_now("have_code")  # nothing was sent to an app or a passkey
        pending = await self.flows.codes.find_pending(
            ctx.tx,
            purpose=VERIFY,
            channel=BY_NAME[option["way"]].channel,
            destination=await self._proof_value(ctx, option["id"]),
            account_id=ctx.flow.account_id,
            flow_id=ctx.flow.id,
        )
        if pending is None:
            return errors.no_pending_code()
        ctx.update("verify_code", option=option["id"], challenge_id=str(pending.id))
        return None

    async def _confirm_address(
        self, ctx: Context, fields: Mapping[str, str], _: Any
    ) -> HonninError | None:
        await self.flows.throttle.attempt(ctx.binding.requester)
        attempt = await self._reserve(ctx, Guess.SECRET, ctx.flow.account_id)
        option = self._chosen(ctx)
        proof_value = await self._proof_value(ctx, option["id"])
        typed = field(fields, "address")
        if not self.flows.destinations.kind(option["kind"]).confirms(typed, proof_value):
            return errors.wrong_address()
        await self.guesses.release(ctx.tx, attempt)
        channel = BY_NAME[option["way"]].channel
        sent = await self.flows.codes.send(
            ctx.tx,
            purpose=VERIFY,
            channel=channel,
            destination=proof_value,
            locale=ctx.flow.locale,
            requester=ctx.binding.requester,
            account_id=ctx.flow.account_id,
            flow_id=ctx.flow.id,
            template_params={"account_hint": name_hint(ctx)},
            quota_key=await self.guesses.own_send_quota(
                ctx.tx, ctx.flow.account_id, ctx.binding, channel, proof_value
            ),
        )
        ctx.update("verify_code", challenge_id=str(sent.challenge.id))
        ctx.challenge = sent.challenge
        return None

    async def _use_recovery_code(
        self, ctx: Context, fields: Mapping[str, str], _: Any
    ) -> HonninError | None:
        """The recovery code instead of the second step: it signs in once, and the next one
        is shown (`ActionResult.recovery_code`)."""
        await self.flows.throttle.attempt(ctx.binding.requester)
        attempt = await self._reserve(ctx, Guess.SECRET, ctx.flow.account_id)
        assert ctx.flow.account_id is not None
        account = await self.flows.accounts.record(ctx.tx, ctx.flow.account_id)
        assert account is not None
        code = await self.recovery.use_recovery_code(
            ctx.tx, account, field(fields, "recovery_code"), ctx.binding.origin
        )
        if code is None:
            return errors.wrong_recovery_code()
        await self.guesses.release(ctx.tx, attempt)
        ctx.recovery_code = code
        await self._complete(ctx, account, "password+recovery_code", ("password",))
        return None

    async def _submit_new_password(
        self, ctx: Context, fields: Mapping[str, str], password_hash: str | None
    ) -> None:
        """The new password asked for after "this wasn't me"; then the sign-in completes."""
        account = await self._proven_account(ctx, "submit_new_password")
        if password_hash is None:
            raise errors.not_now("submit_new_password")
        await self.recovery.set_password(
            ctx.tx, account, password_hash, ctx.binding.origin, keep_session=None
        )
        changed = await self._proven_account(ctx, "submit_new_password")
        ways = tuple(ctx.data.get("pending_ways") or ())
        await self._complete(ctx, changed, str(ctx.data.get("pending_method")), ways)

    async def _reopen(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """Reopen the closed account (it will not be deleted), then sign in."""
        account = await self._proven_account(ctx, "reopen")
        await self.closing.reopen(ctx.tx, account, ctx.binding.origin)
        reopened = await self._proven_account(ctx, "reopen")
        ways = tuple(ctx.data.get("pending_ways") or ())
        await self._complete(ctx, reopened, str(ctx.data.get("pending_method")), ways)

    async def _proven_account(self, ctx: Context, action: str) -> AccountRecord:
        account = (
            await self.flows.accounts.record(ctx.tx, ctx.flow.account_id)
            if ctx.flow.account_id
            else None
        )
        if account is None:
            raise errors.not_now(action)
        return account

    async def _other_options(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        ctx.update("verify_options", option=None, challenge_id=None)

    async def _restart(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        ctx.flow.account_id = None
        ctx.flow.state = self.first_state
        # what the flow was made with stays: the application it signs in for, and its wishes
        ctx.flow.data = {k: ctx.data[k] for k in MADE_WITH if k in ctx.data}
        if "submit_passkey" in self.actions(self.first_state):
            ctx.flow.data = {**ctx.flow.data, **passkey.fresh(self.flows)}

    # --- helpers ------------------------------------------------------------------------

    async def _complete(
        self, ctx: Context, account: AccountRecord, method: str, ways: tuple[str, ...]
    ) -> None:
        """Sign in; a browser that never signed in to the account before tells its ways. An
        account secured after "this wasn't me" first chooses a new password (the ways proved
        it: a code, or the recovery code)."""
        # (while a recovery waits no password can be set: first sign in, and cancel it)
        if account.password_change_required and not await self.recovery.has_recovery_waiting(
            ctx.tx, account.id
        ):
            ctx.flow.account_id = account.id
            ctx.update(
                "new_password",
                pending_method=method,
                pending_ways=list(ways),
                options=None,
                challenge_id=None,
            )
            return
        if account.status == CLOSING:  # offered to reopen it first
            due_at = await self.closing.due_at(ctx.tx, account.id)
            ctx.flow.account_id = account.id
            ctx.update(
                "reopen",
                pending_method=method,
                pending_ways=list(ways),
                closing_at=due_at.isoformat() if due_at else None,
                options=None,
                challenge_id=None,
            )
            return
        new_browser = ctx.binding.device_token is not None and not (
            await self.guesses.known_browser(ctx.tx, account.id, ctx.binding)
        )
        await self.flows.complete(ctx, account.id, method, ways)
        if new_browser:
            assert ctx.flow.session_id is not None
            await self.recovery.new_browser(
                ctx.tx, account, ctx.binding.origin, ctx.flow.session_id
            )
        # signed in with one of its ways while a recovery waits: offer to cancel it
        if any(way != "password" for way in ways) and await self.recovery.has_recovery_waiting(
            ctx.tx, account.id
        ):
            ctx.update(notice="recovery_waiting")

    async def _reserve(self, ctx: Context, kind: Guess, account_id: uuid.UUID | None) -> Attempt:
        return await self.guesses.reserve(
            ctx.tx,
            kind,
            name=ctx.data["name"],
            account_id=account_id,
            binding=ctx.binding,
            now=ctx.now,
            flow_id=ctx.flow.id,
        )

    async def _challenge(self, ctx: Context) -> ChallengeState:
        challenge = await self.flows.codes.get(ctx.tx, uuid.UUID(ctx.data["challenge_id"]))
        assert challenge is not None
        return challenge

    async def _offer_options(
        self, ctx: Context, account: AccountRecord, *, besides: str | None = None
    ) -> HonninError | None:
        """ "Verify your identity": the account's verified security info and its
        authenticator apps as options (but `besides`, the proof of a first step: two codes to
        one inbox are one step)."""
        proofs = [p for p in await verified_proofs(ctx.tx, account.id) if str(p.id) != besides]
        destinations = self.flows.destinations
        options = [
            vars(option) for way in CODE_WAYS for option in way.options(destinations, proofs)
        ]
        options += [vars(o) for o in totp.options(await apps.verified_apps(ctx.tx, account.id))]
        if self.flows.relying_party.available:
            found = await passkeys.of_account(ctx.tx, account.id)
            options += [vars(o) for o in passkey.options(found)]
        # fail closed: two-step verification is on, so a password is not enough — unless the
        # recovery code is there to take the second step's place
        if not options and (account.recovery_code_digest is None or besides is not None):
            return errors.no_second_factor(asked=asked_by_app(ctx, account))
        ctx.flow.account_id = account.id  # proven by the password; not shown to anyone
        asked = asked_by_app(ctx, account)
        ctx.update("verify_options", options=options, reveal_delivery=True, asked_by_app=asked)
        return None

    def _option(self, ctx: Context, fields: Mapping[str, str]) -> dict[str, str]:
        return self._find_option(ctx, field(fields, "option"))

    def _chosen(self, ctx: Context) -> dict[str, str]:
        return self._find_option(ctx, ctx.data.get("option") or "")

    @staticmethod
    def _find_option(ctx: Context, chosen: str) -> dict[str, str]:
        for option in ctx.data.get("options", []):
            if option["id"] == chosen:
                return dict(option)
        raise errors.not_now("choose_option")

    async def _proof_value(self, ctx: Context, option_id: str) -> str:
        assert ctx.flow.account_id is not None
        proof_id = proof_id_of(option_id)
        for proof in await verified_proofs(ctx.tx, ctx.flow.account_id):
            if str(proof.id) == proof_id:
                return proof.value
        raise errors.not_now("choose_option")  # removed meanwhile
