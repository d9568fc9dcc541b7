"""The security info page as a flow (`settings`): see, add and remove the ways an account
proves who it is, and verify who you are first where a change needs it.

A settings flow belongs to one signed-in session (`Kind.SIGNED_IN`): signed out, it is gone.
Its rest state, `overview`, shows the security info (`describe`); a change first checks that
the session verified who this is recently (`HONNIN_REAUTH_MAX_AGE_SECONDS`) — for a removal,
by a way other than the one removed, where there is one — and otherwise asks for it:
`verify_options` (a code to one of the account's ways, or the password), then `verify_code`.
The change itself is `security.service.SecurityChanges`: the rules live there, once, for
this flow, the notices' links and the CLI.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from honnin.accounts.models import SignInName
from honnin.accounts.service import AccountRecord
from honnin.audit import service as audit
from honnin.audit.places import country_of
from honnin.authenticators import aaguids, apps, passkeys
from honnin.authenticators.passkeys import PasskeyRefused
from honnin.authenticators.totp import grouped, provisioning_uri, qr_svg
from honnin.codes.service import ChallengeState
from honnin.db import Tx
from honnin.destinations.kinds import mask
from honnin.errors import HonninError
from honnin.flows import errors
from honnin.flows.guesses import Guess, Guesses
from honnin.flows.models import FlowRecord
from honnin.flows.service import Binding, Context, FlowService, Steps, with_channel
from honnin.flows.signin import VERIFY, field
from honnin.flows.views import (
    ActivityView,
    AppSetupView,
    FlowView,
    IntentView,
    NameView,
    PendingView,
    RecoveryView,
    SecurityView,
    SignedInView,
    WayView,
)
from honnin.flows.ways import BY_NAME, CODE_WAYS, passkey, password, proof_id_of, totp
from honnin.flows.ways.password import PasswordCheck
from honnin.proofs import service as proofs
from honnin.proofs.models import Proof
from honnin.proofs.service import ProofService
from honnin.security.authenticators import AuthenticatorChanges
from honnin.security.closing import AccountClosing
from honnin.security.errors import recovery_waiting, two_ways_needed
from honnin.security.service import RECOVER, SecurityChanges, count_ways
from honnin.sessions.service import live_sessions

ACTIONS = {
    "overview": [
        "add_proof", "remove_proof", "cancel_change", "verify", "change_password",
        "two_step_on", "two_step_off", "new_recovery_code", "sign_out_session",
        "sign_out_others", "set_time_zone", "close_account", "add_app", "remove_app",
        "add_passkey", "remove_passkey",
    ],
    "verify_options": ["choose_option", "submit_password", "back"],
    "verify_code": ["submit_code", "resend", "other_options", "back"],
    "verify_app": ["submit_code", "other_options", "back"],
    "verify_passkey": ["submit_passkey", "other_options", "back"],
    "add_code": ["submit_code", "resend", "back"],
    "add_app": ["submit_code", "back"],  # scan the QR code, then enter the app's first code
    "add_passkey": ["submit_passkey", "back"],  # the browser creates it
    "confirm_remove": ["confirm", "back"],
    "new_password": ["submit_new_password", "back"],
    "confirm_two_step": ["confirm", "back"],
    "confirm_close": ["confirm", "back"],
    "closed": [],  # the session that closed the account has ended with it
}  # fmt: skip
# what each change asks for once the session is verified (`SecuritySettings._proceed`)
NEXT_STATE = {
    "remove_proof": "confirm_remove",
    "remove_app": "confirm_remove",
    "remove_passkey": "confirm_remove",
    "password": "new_password",
    "two_step_on": "confirm_two_step",
    "two_step_off": "confirm_two_step",
    "close_account": "confirm_close",
}
# what a waiting recovery keeps anyone from doing (the limited mode: `security.recovery`)
LOCKED_BY_RECOVERY = frozenset(
    {"add_proof", "remove_proof", "verify", "change_password", "two_step_on", "two_step_off",
     "new_recovery_code", "close_account", "add_app", "remove_app", "add_passkey",
     "remove_passkey"}
)  # fmt: skip
ACTIVITY = 10  # the newest lines of the audit log the page shows
PASSWORD_WAY = "password"  # noqa: S105 - how a session records a verification by password
Handler = Callable[[Context, Mapping[str, str], Any], Awaitable[HonninError | None]]


def proof_way(proof_id: uuid.UUID | str) -> str:
    """How a session records a verification by a code to one of the account's proofs."""
    return f"proof:{proof_id}"


class SecuritySettings(Steps):
    ACTIONS = ACTIONS
    PREPARED = frozenset({"submit_password", "submit_new_password"})
    SIGNED_IN = True
    name = "settings"
    first_state = "overview"

    def __init__(
        self,
        flows: FlowService,
        changes: SecurityChanges,
        closing: AccountClosing,
        authenticators: AuthenticatorChanges,
        issuer: str,
    ) -> None:
        super().__init__(flows)
        self.issuer = issuer  # how authenticator apps name the service
        self.changes = changes
        self.closing = closing
        self.authenticators = authenticators
        self.guesses = Guesses(flows)

    async def begin(self, tx: Tx, flow: FlowRecord, binding: Binding) -> None:
        session = binding.session
        if session is None:
            raise errors.not_signed_in()
        flow.account_id = session.account_id
        flow.session_id = session.id
        # guesses are counted under the account's first sign-in name, as when signing in
        flow.data = {"name": session.name, "name_kind": session.name_kind}

    def conflict(self) -> HonninError:
        return errors.changed_meanwhile()

    async def prepare(
        self, action: str, flow: FlowRecord, fields: Mapping[str, str], binding: Binding
    ) -> Any:
        if action == "submit_new_password":  # judged and hashed before the transaction
            assert flow.account_id is not None
            # "not the old one" compares with the old password: counted like a check
            await self.flows.throttle.attempt(binding.requester)
            return await self.flows.accounts.new_password_hash_for(
                flow.account_id, fields.get("password") or ""
            )
        if action != "submit_password":
            return None
        return await password.check(self.flows, self.guesses, flow, fields, binding)

    async def act(
        self, ctx: Context, action: str, fields: Mapping[str, str], prepared: Any
    ) -> HonninError | None:
        ctx.update(notice=None)
        if action in LOCKED_BY_RECOVERY and await self.changes.recovery_waiting(
            ctx.tx, self._account_id(ctx)
        ):
            raise recovery_waiting()
        handlers: dict[str, Handler] = {
            "add_proof": self._add_proof,
            "remove_proof": self._remove_proof,
            "cancel_change": self._cancel_change,
            "verify": self._verify,
            "choose_option": self._choose_option,
            "submit_password": self._submit_password,
            "submit_code": self._submit_code,
            "resend": self._resend,
            "other_options": self._other_options,
            "back": self._back,
            "confirm": self._confirm,
            "change_password": self._ask_for("password"),
            "two_step_on": self._two_step_on,
            "two_step_off": self._ask_for("two_step_off"),
            "new_recovery_code": self._ask_for("recovery_code"),
            "submit_new_password": self._submit_new_password,
            "sign_out_session": self._sign_out_session,
            "sign_out_others": self._sign_out_others,
            "set_time_zone": self._set_time_zone,
            "close_account": self._close_account,
            "add_app": self._add_app,
            "remove_app": self._remove_app,
            "add_passkey": self._add_passkey,
            "remove_passkey": self._remove_passkey,
            "submit_passkey": self._submit_passkey,
        }
        return await handlers[action](ctx, fields, prepared)

    # --- asking for a change ------------------------------------------------------------

    async def _add_proof(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        account_id = self._account_id(ctx)
        await self.changes.ensure_none_pending(ctx.tx, account_id)
        kind, value = self.changes.read_new(field(fields, "address"))
        await self.changes.ensure_new(ctx.tx, account_id, kind, value)  # before verifying
        shown = self.flows.destinations.kind(kind).display(value)
        intent = {
            "change": "add_proof",
            "kind": kind,
            "value": value,
            "hint": shown,  # typed by the person: theirs to see in full
            "sign_in": field(fields, "sign_in") in ("1", "true", "on"),
        }
        await self._ask(ctx, intent)

    async def _remove_proof(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        account_id = self._account_id(ctx)
        await self.changes.ensure_none_pending(ctx.tx, account_id)
        proof = await self.changes.proof(ctx.tx, account_id, field(fields, "proof"))
        if proof.verified_at is not None:  # said before asking to verify, not after
            await self.changes.ensure_two_step_keeps_two(ctx.tx, account_id, proof.id)
        verified = await proofs.verified_proofs(ctx.tx, account_id)
        intent = {
            "change": "remove_proof",
            "proof": str(proof.id),
            "hint": mask(proof.kind, proof.value),
            # the last way: its removal waits (the page says so before the person confirms)
            "last": proof.verified_at is not None and all(p.id == proof.id for p in verified),
        }
        await self._ask(ctx, intent)

    async def _add_app(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        await self.changes.ensure_none_pending(ctx.tx, self._account_id(ctx))
        name = apps.read_name(field(fields, "name"))
        await self._ask(ctx, {"change": "add_app", "name": name, "hint": name})

    async def _remove_app(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        account_id = self._account_id(ctx)
        await self.changes.ensure_none_pending(ctx.tx, account_id)
        app = await apps.get(ctx.tx, account_id, field(fields, "app"))
        # said before asking to verify, not after
        await self.changes.ensure_two_step_keeps_two(ctx.tx, account_id, app.id)
        await self._ask(ctx, {"change": "remove_app", "app": str(app.id), "hint": app.name})

    async def _add_passkey(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        if not self.flows.relying_party.available:
            raise errors.not_now("add_passkey")  # this service's address is an IP
        await self.changes.ensure_none_pending(ctx.tx, self._account_id(ctx))
        typed = field(fields, "name")
        name = apps.read_name(typed) if typed else ""  # else its authenticator's
        await self._ask(ctx, {"change": "add_passkey", "name": name, "hint": name})

    async def _remove_passkey(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        account_id = self._account_id(ctx)
        await self.changes.ensure_none_pending(ctx.tx, account_id)
        found = await passkeys.get(ctx.tx, account_id, field(fields, "passkey"))
        await self.changes.ensure_two_step_keeps_two(ctx.tx, account_id, found.id)
        intent = {"change": "remove_passkey", "passkey": str(found.id), "hint": found.name}
        await self._ask(ctx, intent)

    def _ask_for(self, change: str) -> Handler:
        """An action that asks for `change` (a fresh verification first, if needed)."""

        async def ask(ctx: Context, fields: Mapping[str, str], _: Any) -> None:
            needs_two_step = {"recovery_code": "new_recovery_code", "two_step_off": "two_step_off"}
            if change in needs_two_step and not (await self._account(ctx)).two_step:
                raise errors.not_now(needs_two_step[change])  # it is off already
            await self._ask(ctx, {"change": change})

        return ask

    async def _two_step_on(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        account_id = self._account_id(ctx)
        if (await self._account(ctx)).two_step:
            raise errors.not_now("two_step_on")  # it is on already
        await self.changes.ensure_none_pending(ctx.tx, account_id)
        if await self.changes.ways_to_verify(ctx.tx, account_id) < 2:
            raise two_ways_needed()  # said before asking to verify, not after
        await self._ask(ctx, {"change": "two_step_on"})

    async def _close_account(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        await self.changes.ensure_none_pending(ctx.tx, self._account_id(ctx))
        await self._ask(ctx, {"change": "close_account"})

    async def _sign_out_session(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """Sign out a browser or an application elsewhere (this one signs out as usual)."""
        try:
            session_id = uuid.UUID(field(fields, "session"))
        except ValueError:
            raise errors.not_now("sign_out_session") from None
        if session_id == ctx.flow.session_id:
            raise errors.not_now("sign_out_session")
        await self.flows.sessions.end(ctx.tx, self._account_id(ctx), session_id, ctx.now)
        ctx.update(notice="signed_out")

    async def _sign_out_others(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        await self.flows.sessions.revoke_account(
            ctx.tx, self._account_id(ctx), ctx.now, keep=ctx.flow.session_id
        )
        ctx.update(notice="signed_out_others")

    async def _set_time_zone(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """The zone notices give times in (the browser's, as it says: an IANA name)."""
        await self.changes.set_time_zone(ctx.tx, self._account_id(ctx), field(fields, "time_zone"))
        ctx.update(notice="time_zone")

    async def _verify(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """Verify who you are now (to see your addresses in full, before a change)."""
        await self._start_verification(ctx, {"change": "verify"})

    async def _cancel_change(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """Cancel the change that waits: a removal makes the account safer, so it needs no
        fresh verification (the notice's link needs no sign-in either). A recovery is canceled
        only after a code to one of the account's ways: the password alone may be what the
        person who asked for it knows (and the owner who lost every way must not be stopped
        by it)."""
        try:
            change_id = uuid.UUID(field(fields, "change"))
        except ValueError:
            raise errors.not_now("cancel_change") from None
        recovery = await self.changes.recovery_waiting(ctx.tx, self._account_id(ctx))
        if recovery is not None and recovery.id == change_id:
            await self._ask(ctx, {"change": "cancel_recovery", "id": str(change_id)})
            return
        account = await self._account(ctx)
        await self.changes.cancel(ctx.tx, account, change_id, ctx.binding.origin)
        ctx.update(notice="cancelled")

    async def _ask(self, ctx: Context, intent: dict[str, Any]) -> None:
        """Do the change now if the session's verification allows it, else verify first."""
        if await self._fresh_enough(ctx, intent):
            await self._proceed(ctx, intent)
        else:
            await self._start_verification(ctx, intent)

    async def _fresh_enough(self, ctx: Context, intent: dict[str, Any]) -> bool:
        assert ctx.flow.session_id is not None
        _at, ways, fresh = await self.flows.sessions.verification(ctx.tx, ctx.flow.session_id)
        if not fresh:
            return False
        if intent["change"] == "cancel_recovery":  # a code to one of its ways, not a password
            return await self._by_a_way(ctx.tx, self._account_id(ctx), ways)
        removed = await self._removed_by(ctx, intent)
        if removed is None:
            return True
        # removing a way: verified by another, where the account has another
        return any(way != removed[1] for way in ways)

    async def _removed_by(self, ctx: Context, intent: dict[str, Any]) -> tuple[str, str] | None:
        """A removal's way (its id, and how a session records a verification by it), where
        the account has another way to verify by; None: not a removal, or no other way."""
        if intent["change"] == "remove_proof":
            way_id, way = intent["proof"], proof_way(intent["proof"])
        elif intent["change"] == "remove_app":
            way_id, way = intent["app"], totp.session_way(intent["app"])
        elif intent["change"] == "remove_passkey":
            way_id, way = intent["passkey"], passkey.session_way(intent["passkey"])
        else:
            return None
        account = await self._account(ctx)
        if not await self.changes.other_ways(ctx.tx, account, uuid.UUID(way_id)):
            return None
        return way_id, way

    @staticmethod
    async def _by_a_way(tx: Tx, account_id: uuid.UUID, ways: tuple[str, ...]) -> bool:
        """Whether the session verified with one of the account's ways (still its, and not
        the password): a code sent to it, an app's code, a passkey. What cancels a recovery
        at once (`cancel_recovery`, and the page's `can_cancel`)."""
        own = {proof_way(p.id) for p in await proofs.verified_proofs(tx, account_id)}
        own |= {totp.session_way(a.id) for a in await apps.verified_apps(tx, account_id)}
        own |= {passkey.session_way(k.id) for k in await passkeys.of_account(tx, account_id)}
        return any(way in own for way in ways)

    async def _proceed(self, ctx: Context, intent: dict[str, Any]) -> None:
        """The session is verified as the change needs: go on with it."""
        change = intent["change"]
        if change == "verify":
            ctx.update("overview", intent=None, options=None, challenge_id=None, notice="verified")
        elif change in NEXT_STATE:
            ctx.update(NEXT_STATE[change], intent=intent, options=None, challenge_id=None)
        elif change == "cancel_recovery":
            # canceled and secured (every other session signed out); now a new password,
            # for whoever asked may know this one
            account = await self._account(ctx)
            await self.changes.cancel(
                ctx.tx,
                account,
                uuid.UUID(intent["id"]),
                ctx.binding.origin,
                keep=ctx.flow.session_id,
            )
            ctx.update(
                "new_password",
                intent={"change": "password"},
                options=None,
                challenge_id=None,
                notice="recovery_cancelled",
            )
        elif change == "add_app":
            account = await self._account(ctx)
            app_id = await self.authenticators.start_app(ctx.tx, account, intent["name"])
            ctx.update("add_app", intent=intent, adding_app=str(app_id), options=None)
        elif change == "add_passkey":
            ctx.update("add_passkey", intent=intent, options=None, **passkey.fresh(self.flows))
        elif change == "recovery_code":
            account = await self._account(ctx)
            code = await self.changes.replace_recovery_code(ctx.tx, account, ctx.binding.origin)
            ctx.recovery_code = code
            self._rest(ctx, notice="recovery_code")
        else:
            await self._send_to_new(ctx, intent)

    # --- verifying who this is ----------------------------------------------------------

    async def _start_verification(self, ctx: Context, intent: dict[str, Any]) -> None:
        account = await self._account(ctx)
        verified = await proofs.verified_proofs(ctx.tx, account.id)
        removed = await self._removed_by(ctx, intent)
        excluded = removed[0] if removed else None  # verify by another way than the removed
        usable = [p for p in verified if str(p.id) != excluded]
        own_apps = await apps.verified_apps(ctx.tx, account.id)
        usable_apps = [a for a in own_apps if str(a.id) != excluded]
        destinations = self.flows.destinations
        options = [vars(o) for way in CODE_WAYS for o in way.options(destinations, usable)]
        options += [vars(o) for o in totp.options(usable_apps)]
        if self.flows.relying_party.available:
            own_keys = await passkeys.of_account(ctx.tx, account.id)
            options += [
                vars(o) for o in passkey.options(k for k in own_keys if str(k.id) != excluded)
            ]
        ctx.update(
            "verify_options",
            intent=intent,
            options=options,
            # a recovery is canceled by a code, never by the password
            password=account.password_hash is not None and intent["change"] != "cancel_recovery",
            option=None,
            challenge_id=None,
            reveal_delivery=True,
        )

    async def _choose_option(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        option = self._option(ctx, field(fields, "option"))
        if totp.is_app(option):  # nothing to send: the code the app shows
            ctx.update("verify_app", option=option["id"], challenge_id=None)
            return
        if passkey.is_passkey(option):  # the browser asks for one of the account's
            ctx.update("verify_passkey", option=option["id"], **passkey.fresh(self.flows))
            return
        proof = await self._verified_proof(ctx, proof_id_of(option["id"]))
        channel = BY_NAME[option["way"]].channel
        sent = await self.flows.codes.send(
            ctx.tx,
            purpose=VERIFY,
            channel=channel,
            destination=proof.value,
            locale=ctx.flow.locale,
            requester=ctx.binding.requester,
            account_id=self._account_id(ctx),
            flow_id=ctx.flow.id,
            template_params={"account_hint": mask(ctx.data["name_kind"], ctx.data["name"])},
        )
        ctx.update("verify_code", option=option["id"], challenge_id=str(sent.challenge.id))
        ctx.challenge = sent.challenge

    async def _submit_password(
        self, ctx: Context, fields: Mapping[str, str], check: PasswordCheck
    ) -> HonninError | None:
        if not ctx.data.get("password"):
            raise errors.not_now("submit_password")
        if not check.right or check.account_id != ctx.flow.account_id:
            return errors.wrong_password()
        await self.guesses.release(ctx.tx, check.attempt)
        await password.rehash(ctx, check)
        await self._verified(ctx, PASSWORD_WAY)
        return None

    async def _submit_code(
        self, ctx: Context, fields: Mapping[str, str], _: Any
    ) -> HonninError | None:
        if ctx.flow.state in ("verify_app", "add_app"):
            return await self._submit_app_code(ctx, field(fields, "code"))
        await self.flows.throttle.attempt(ctx.binding.requester)
        challenge = await self._challenge(ctx)
        attempt = await self.guesses.reserve(
            ctx.tx,
            Guess.CODE,
            name=ctx.data["name"],
            account_id=ctx.flow.account_id,
            binding=ctx.binding,
            now=ctx.now,
            flow_id=ctx.flow.id,
        )
        result = await self.flows.codes.check(ctx.tx, challenge, field(fields, "code"))
        ctx.challenge = result.current
        if not result.wrong_try:
            await self.guesses.release(ctx.tx, attempt)
        if not result.approved:
            return result.error
        if ctx.flow.state == "add_code":
            account = await self._account(ctx)
            intent = ctx.data["intent"]
            await self.changes.proof_verified(
                ctx.tx,
                account,
                uuid.UUID(ctx.data["adding"]),
                ctx.binding.origin,
                sign_in=bool(intent.get("sign_in")),
            )
            self._rest(ctx, notice="added")
            return None
        await self._verified(ctx, proof_way(proof_id_of(ctx.data["option"])))
        return None

    async def _submit_app_code(self, ctx: Context, typed: str) -> HonninError | None:
        """An app's code: the first one of an app being added (it counts from now), or the
        verification of who this is."""
        account = await self._account(ctx)
        if ctx.flow.state == "add_app":
            adding = uuid.UUID(ctx.data["adding_app"])
            origin = ctx.binding.origin
            added = await totp.counted(
                ctx,
                self.guesses,
                account.id,
                lambda: self.authenticators.finish_app(ctx.tx, account, adding, typed, origin),
            )
            if added is None:
                return errors.wrong_app_code()
            self._rest(ctx, notice="app_added")
            return None
        app_id = totp.app_id_of(self._option(ctx, ctx.data.get("option") or "")["id"])
        app = await totp.check(ctx, self.guesses, account.id, app_id, typed)
        if app is None:
            return errors.wrong_app_code()
        await self._verified(ctx, totp.session_way(app.id))
        return None

    async def _submit_passkey(
        self, ctx: Context, fields: Mapping[str, str], _: Any
    ) -> HonninError | None:
        """The browser's answer: a new passkey (it counts now), or the verification of who
        this is by one of the account's (not the one being removed)."""
        account = await self._account(ctx)
        credential = field(fields, "credential")
        try:
            if ctx.flow.state == "add_passkey":
                await self._passkey_created(ctx, account, credential)
                return None
            assertion = await passkey.check(ctx, self.flows, credential, account_id=account.id)
        except PasskeyRefused as refused:
            return refused  # its challenge is spent all the same
        removed = await self._removed_by(ctx, ctx.data.get("intent") or {"change": ""})
        if removed is not None and removed[0] == str(assertion.passkey.id):
            return passkeys.refused()  # verify by another way than the one removed
        await self._verified(ctx, passkey.session_way(assertion.passkey.id))
        return None

    async def _passkey_created(self, ctx: Context, account: AccountRecord, credential: str) -> None:
        rp = self.flows.relying_party
        challenge = passkey.spend(ctx, self.flows)
        if challenge is None or not rp.available:
            raise passkeys.refused()
        new = passkeys.verify_new(rp, credential, challenge)
        name = ctx.data["intent"].get("name") or aaguids.name_of(new.aaguid)
        name = name or passkeys.DEFAULT_NAME.render(ctx.flow.locale)
        await self.authenticators.add_passkey(ctx.tx, account, new, name, ctx.binding.origin)
        self._rest(ctx, notice="passkey_added")

    async def _verified(self, ctx: Context, way: str) -> None:
        assert ctx.flow.session_id is not None
        await self.flows.sessions.verified(
            ctx.tx, ctx.flow.session_id, with_channel((way,), ctx.challenge), ctx.now
        )
        await self._proceed(ctx, ctx.data["intent"])

    async def _resend(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        challenge = await self._challenge(ctx)
        sent = await self.flows.codes.resend(
            ctx.tx,
            challenge,
            requester=ctx.binding.requester,
            locale=ctx.flow.locale,
            template_params={"account_hint": mask(ctx.data["name_kind"], ctx.data["name"])},
        )
        ctx.challenge = sent.challenge

    async def _other_options(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        ctx.update("verify_options", option=None, challenge_id=None)

    async def _back(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        """Give up the change asked for: nothing of it stays."""
        if ctx.flow.state == "add_code" and ctx.data.get("adding"):
            await self.changes.discard_unverified(
                ctx.tx, self._account_id(ctx), uuid.UUID(ctx.data["adding"])
            )
        if ctx.flow.state == "add_app" and ctx.data.get("adding_app"):
            await apps.discard_unverified(
                ctx.tx, self._account_id(ctx), uuid.UUID(ctx.data["adding_app"])
            )
        self._rest(ctx)

    # --- making the change --------------------------------------------------------------

    async def _send_to_new(self, ctx: Context, intent: dict[str, Any]) -> None:
        """Add the new way, unverified, and send a code to it."""
        account_id = self._account_id(ctx)
        proof = await self.changes.new_proof(ctx.tx, account_id, intent["kind"], intent["value"])
        channel = self.flows.destinations.reach(proof.kind, proof.value)[0]
        sent = await self.flows.codes.send(
            ctx.tx,
            purpose=ProofService.PURPOSES[proof.kind],
            channel=channel,
            destination=proof.value,
            locale=ctx.flow.locale,
            requester=ctx.binding.requester,
            account_id=account_id,
            flow_id=ctx.flow.id,
            template_params={"account_hint": mask(ctx.data["name_kind"], ctx.data["name"])},
        )
        ctx.update(
            "add_code",
            intent=intent,
            adding=str(proof.id),
            options=None,
            challenge_id=str(sent.challenge.id),
            reveal_delivery=True,
        )
        ctx.challenge = sent.challenge

    async def _confirm(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        intent = ctx.data["intent"]
        if not await self._fresh_enough(ctx, intent):  # the page stayed open too long
            await self._start_verification(ctx, intent)
            return
        account = await self._account(ctx)
        origin = ctx.binding.origin
        if intent["change"] == "two_step_on":
            ctx.recovery_code = await self.changes.two_step_on(ctx.tx, account, origin)
            self._rest(ctx, notice="two_step_on")
        elif intent["change"] == "two_step_off":
            await self.changes.two_step_off(ctx.tx, account, origin)
            self._rest(ctx, notice="two_step_off")
        elif intent["change"] == "remove_app":
            await self.authenticators.remove_app(ctx.tx, account, uuid.UUID(intent["app"]), origin)
            self._rest(ctx, notice="app_removed")
        elif intent["change"] == "remove_passkey":
            key = uuid.UUID(intent["passkey"])
            await self.authenticators.remove_passkey(ctx.tx, account, key, origin)
            self._rest(ctx, notice="passkey_removed")
        elif intent["change"] == "close_account":
            due_at = await self.closing.close(ctx.tx, account, origin)
            ctx.update("closed", intent=None, closing_at=due_at.isoformat())
        else:
            removal = await self.changes.remove(ctx.tx, account, uuid.UUID(intent["proof"]), origin)
            self._rest(ctx, notice="removal_scheduled" if removal.scheduled else "removed")

    async def _submit_new_password(
        self, ctx: Context, fields: Mapping[str, str], password_hash: str
    ) -> None:
        intent = ctx.data["intent"]
        if not await self._fresh_enough(ctx, intent):
            await self._start_verification(ctx, intent)
            return
        account = await self._account(ctx)
        await self.changes.set_password(
            ctx.tx, account, password_hash, ctx.binding.origin, keep_session=ctx.flow.session_id
        )
        self._rest(ctx, notice="password_changed")

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _rest(ctx: Context, notice: str | None = None) -> None:
        ctx.update(
            "overview",
            intent=None,
            options=None,
            option=None,
            adding=None,
            adding_app=None,
            challenge_id=None,
            notice=notice,
        )

    @staticmethod
    def _account_id(ctx: Context) -> uuid.UUID:
        assert ctx.flow.account_id is not None
        return ctx.flow.account_id

    async def _account(self, ctx: Context) -> AccountRecord:
        account = await self.flows.accounts.record(ctx.tx, self._account_id(ctx))
        if account is None:
            raise errors.not_found()
        return account

    async def _challenge(self, ctx: Context) -> ChallengeState:
        challenge_id = ctx.data.get("challenge_id")
        challenge = (
            await self.flows.codes.get(ctx.tx, uuid.UUID(challenge_id)) if challenge_id else None
        )
        if challenge is None:
            raise errors.not_now("submit_code")
        return challenge

    @staticmethod
    def _option(ctx: Context, chosen: str) -> dict[str, str]:
        for option in ctx.data.get("options") or []:
            if option["id"] == chosen:
                return dict(option)
        raise errors.not_now("choose_option")

    async def _verified_proof(self, ctx: Context, proof_id: str) -> Proof:
        for proof in await proofs.verified_proofs(ctx.tx, self._account_id(ctx)):
            if str(proof.id) == proof_id:
                return proof
        raise errors.not_now("choose_option")  # removed meanwhile

    # --- what the page shows ------------------------------------------------------------

    async def describe(self, tx: Tx, flow: FlowRecord, view: FlowView) -> FlowView:
        assert flow.account_id is not None
        assert flow.session_id is not None
        sessions = self.flows.sessions
        at, verified_with, fresh = await sessions.verification(tx, flow.session_id)
        account = await self.flows.accounts.record(tx, flow.account_id)
        if account is None:
            return view
        destinations = self.flows.destinations

        def shown(kind: str, value: str) -> str:
            return destinations.kind(kind).display(value) if fresh else mask(kind, value)

        names = await tx.session.execute(
            select(SignInName.kind, SignInName.value)
            .where(SignInName.account_id == account.id)
            .order_by(SignInName.created_at)
        )
        pending = await self.changes.pending(tx, account.id)
        removals = {p.proof_id: p.due_at for p in pending if p.proof_id}
        used = await proofs.last_used(tx, account.id)
        rows = await tx.session.scalars(
            select(Proof).where(Proof.account_id == account.id).order_by(Proof.created_at)
        )
        adding = flow.data.get("adding")
        ways = [
            WayView(
                p.id,
                p.kind,
                shown(p.kind, p.value),
                p.created_at,
                p.verified_at,
                used.get(p.id),
                removals.get(p.id),
            )
            for p in rows
            if p.verified_at is not None or str(p.id) != adding  # the one being added: apart
        ]
        shown_ways = {way.id: way.hint for way in ways}
        signed_in = [
            SignedInView(
                live.id,
                live.agent or (f"API: {live.client}" if live.client else None),
                live.ip,
                live.created_at,
                live.last_seen_at,
                live.id == flow.session_id,
                country_of(live.ip),
            )
            for live in await live_sessions(tx, account.id, self.flows.clock.now())
        ]
        intent = flow.data.get("intent")
        own_apps = await apps.verified_apps(tx, account.id)
        own_keys = await passkeys.of_account(tx, account.id)
        security = SecurityView(
            fresh=fresh,
            fresh_until=at + sessions.reauth_max_age if fresh else None,
            names=[NameView(kind, shown(kind, value)) for kind, value in names],
            ways=ways,
            pending=[
                PendingView(p.id, p.change, shown_ways.get(p.proof_id or p.id, p.hint), p.due_at)
                for p in pending
            ],
            two_step=account.two_step,
            has_password=account.password_hash is not None,
            intent=IntentView(intent["change"], intent.get("hint"), bool(intent.get("last")))
            if intent
            else None,
            sessions=signed_in,
            time_zone=account.time_zone,
            activity=[
                ActivityView(
                    e.at, e.action, str(e.detail.get("hint", "")), e.ip, e.agent, country_of(e.ip)
                )
                for e in await audit.for_account(tx, account.id, limit=ACTIVITY)
            ],
            apps=own_apps,
            passkeys=own_keys,
            passkeys_available=self.flows.relying_party.available,
            ways_to_verify=count_ways(
                [way for way in ways if way.verified],
                own_apps,
                own_keys,
                passkeys_usable=self.changes.passkeys_usable,
            ),
        )
        recovery = next((p for p in pending if p.change == RECOVER), None)
        if recovery is not None:  # the limited mode: nothing of the security info shows
            can_cancel = fresh and await self._by_a_way(tx, account.id, verified_with)
            security = replace(
                security,
                names=[],
                ways=[],
                pending=[],
                two_step=None,
                has_password=None,
                activity=[],
                apps=[],
                passkeys=[],
                recovery=RecoveryView(recovery.id, recovery.hint, recovery.due_at, can_cancel),
            )
        # the account's name is on the page (fresh: in full), not in the flow's own fields
        return replace(
            view,
            security=security,
            name=None,
            shown_name=None,
            app_setup=await self._app_setup(tx, flow, account),
            webauthn=await self._webauthn(tx, flow, account),
        )

    async def _webauthn(
        self, tx: Tx, flow: FlowRecord, account: AccountRecord
    ) -> dict[str, Any] | None:
        """What the browser is given: to create a passkey, or to answer with one of the
        account's (not the one being removed)."""
        rp = self.flows.relying_party
        challenge = flow.data.get(passkey.CHALLENGE)
        asked = flow.state in ("add_passkey", "verify_passkey")
        if not rp.available or not challenge or not asked:
            return None
        rows = await passkeys.rows_of(tx, account.id)
        if flow.state == "add_passkey":
            return passkeys.creation_options(
                rp,
                challenge=challenge,
                user_id=account.id.bytes,  # random: it says nothing of the person
                user_name=str(flow.data.get("name", "")),
                existing=rows,
            )
        if flow.state == "verify_passkey":
            intent = flow.data.get("intent") or {}
            allow = [r for r in rows if str(r.id) != intent.get("passkey")]
            return passkeys.request_options(rp, challenge=challenge, allow=allow)
        return None

    async def _app_setup(
        self, tx: Tx, flow: FlowRecord, account: AccountRecord
    ) -> AppSetupView | None:
        """The app being added: its secret, shown until its first code comes back."""
        if flow.state != "add_app" or not flow.data.get("adding_app"):
            return None
        found = await apps.setup(
            tx, self.flows.keyring, account.id, uuid.UUID(flow.data["adding_app"])
        )
        if found is None:
            return None
        name, secret = found
        # labelled in the app as the service and the name this session signed in with
        uri = provisioning_uri(secret, account=str(flow.data.get("name", "")), issuer=self.issuer)
        return AppSetupView(name, grouped(secret), uri, qr_svg(uri))
