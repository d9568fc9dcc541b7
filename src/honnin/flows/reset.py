"""Forgot your password (`password_reset`): a code to the sign-in name, then — with two-step
verification on — a code to a different piece of security info (or an authenticator app's,
or a passkey), then a new password.

It walks the sign-in's steps (`SignIn`): the name gets a code only where it is verified
security info, and a name without an account walks the same steps with a decoy code, so the
reset tells nobody whether an account exists. A reset signs out every session of the account
and tells every way (`SecurityChanges.set_password`); it signs nobody in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from honnin.accounts.service import AccountRecord
from honnin.errors import HonninError
from honnin.flows import errors
from honnin.flows.service import Context, FlowService
from honnin.flows.signin import Closing, Handler, RecoveryCodes, SignIn
from honnin.security.service import SecurityChanges

ACTIONS = {
    "identifier": ["submit_identifier"],
    "ways": ["send_code", "restart"],  # a code to the name, by one of its `ways`
    "code": ["submit_code", "resend", "restart"],
    "verify_options": ["choose_option", "have_code", "restart"],
    "verify_confirm": ["confirm_address", "other_options", "restart"],
    "verify_code": ["submit_code", "resend", "other_options", "restart"],
    "verify_app": ["submit_code", "other_options", "restart"],
    "verify_passkey": ["submit_passkey", "other_options", "restart"],
    "new_password": ["submit_new_password", "restart"],
    "done": [],
}


class PasswordReset(SignIn):
    ACTIONS = ACTIONS
    PREPARED = frozenset({"submit_new_password"})
    name = "password_reset"

    def __init__(
        self,
        flows: FlowService,
        recovery: RecoveryCodes,
        changes: SecurityChanges,
        closing: Closing,
    ) -> None:
        super().__init__(flows, recovery, closing)
        self.changes = changes

    def _handlers(self) -> dict[str, Handler]:
        return {**super()._handlers(), "submit_new_password": self._submit_new_password}

    async def _submit_identifier(self, ctx: Context, fields: Mapping[str, str], _: Any) -> None:
        await super()._submit_identifier(ctx, fields, _)
        ctx.update("ways")

    async def _after_code(self, ctx: Context, account: AccountRecord) -> HonninError | None:
        if ctx.flow.state == "code" and account.two_step:  # a second, different way
            return await self._offer_options(ctx, account, besides=ctx.data.get("first_proof"))
        ctx.flow.account_id = account.id  # proven: its new password may be chosen now
        ctx.update("new_password", challenge_id=None, options=None)
        return None

    async def _second_step(
        self, ctx: Context, account: AccountRecord, method: str, way: str
    ) -> None:
        ctx.flow.account_id = account.id  # proven: its new password may be chosen now
        ctx.update("new_password", challenge_id=None, options=None)

    async def _submit_new_password(
        self, ctx: Context, fields: Mapping[str, str], password_hash: str | None
    ) -> None:
        """The new password (judged and hashed before the transaction, for the account the
        codes proved: `SignIn.prepare`); it signs nobody in."""
        account = await self._proven_account(ctx, "submit_new_password")
        if password_hash is None:
            raise errors.not_now("submit_new_password")
        await self.changes.set_password(
            ctx.tx, account, password_hash, ctx.binding.origin, keep_session=None, reset=True
        )
        ctx.update("done", challenge_id=None)
