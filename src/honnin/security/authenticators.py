"""Adding and removing an account's authenticator apps and passkeys: the rules of security
info changes (`security.service`: one change at a time, under the account's lock; logged, and
told to every way) applied to the ways that receive nothing, kept by `authenticators`.

- An app counts once the first code it shows came back; until then it is a setup, forgotten
  when the person goes back (or starts another). A passkey counts once the browser's answer
  to its creation is checked.
- Removing either is immediate: notices never go to one, so it is never the last place they
  can go; with two-step verification on, two other ways must remain.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from honnin.accounts.models import Account
from honnin.accounts.service import AccountRecord
from honnin.audit import service as audit
from honnin.audit.service import Origin
from honnin.authenticators import apps, passkeys
from honnin.authenticators.apps import AppView
from honnin.authenticators.passkeys import NewPasskey, PasskeyView
from honnin.db import Tx
from honnin.security.service import SecurityChanges


class AuthenticatorChanges:
    def __init__(self, changes: SecurityChanges) -> None:
        self.changes = changes

    # --- authenticator apps -------------------------------------------------------------

    async def start_app(self, tx: Tx, account: AccountRecord, name: str) -> uuid.UUID:
        """A new app to set up (`name`: read by `authenticators.apps.read_name`)."""
        await self._one_at_a_time(tx, account)
        return await apps.start(
            tx, self.changes.keyring, account.id, name, self.changes.clock.now()
        )

    async def finish_app(
        self, tx: Tx, account: AccountRecord, app_id: uuid.UUID, typed: str, origin: Origin
    ) -> AppView | None:
        """The app's first code came back: it counts from now (logged, told to every way).
        None: not its code."""
        await self._one_at_a_time(tx, account)  # a recovery asked for meanwhile
        now = self.changes.clock.now()
        app = await apps.check(tx, self.changes.keyring, account.id, app_id, typed, now)
        if app is None:
            return None
        await self._log_and_tell(tx, account, "app_added", app.name, origin)
        return app

    async def remove_app(
        self, tx: Tx, account: AccountRecord, app_id: uuid.UUID, origin: Origin
    ) -> None:
        await self._one_at_a_time(tx, account)
        app = await apps.get(tx, account.id, str(app_id))
        await self.changes.ensure_two_step_keeps_two(tx, account.id, app.id)
        await apps.remove(tx, account.id, app.id)
        await self._log_and_tell(tx, account, "app_removed", app.name, origin)

    # --- passkeys -----------------------------------------------------------------------

    async def add_passkey(
        self, tx: Tx, account: AccountRecord, new: NewPasskey, name: str, origin: Origin
    ) -> PasskeyView:
        await self._one_at_a_time(tx, account)
        passkey = await passkeys.add(tx, account.id, new, name, self.changes.clock.now())
        await self._log_and_tell(tx, account, "passkey_added", passkey.name, origin)
        return passkey

    async def remove_passkey(
        self, tx: Tx, account: AccountRecord, passkey_id: uuid.UUID, origin: Origin
    ) -> None:
        await self._one_at_a_time(tx, account)
        passkey = await passkeys.get(tx, account.id, str(passkey_id))
        await self.changes.ensure_two_step_keeps_two(tx, account.id, passkey.id)
        await passkeys.remove(tx, account.id, passkey.id)
        await self._log_and_tell(tx, account, "passkey_removed", passkey.name, origin)

    # --- "next time, sign in with a passkey?" -------------------------------------------

    async def passkey_offered(
        self, tx: Tx, account_id: uuid.UUID, method: str, *, available: bool
    ) -> bool:
        """Whether to offer a passkey after this sign-in: one by a code we sent (it may not
        arrive next time), to an account that has none and did not decline before."""
        if not available or "code" not in method.split("+"):
            return False
        declined = await tx.session.scalar(
            select(Account.passkey_offer_declined_at).where(Account.id == account_id)
        )
        return declined is None and await passkeys.count(tx, account_id) == 0

    async def decline_passkey_offer(self, tx: Tx, account_id: uuid.UUID) -> None:
        """ "Not now": remembered, so that it is not offered again."""
        await tx.session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(passkey_offer_declined_at=self.changes.clock.now())
        )

    # --- helpers ------------------------------------------------------------------------

    async def _one_at_a_time(self, tx: Tx, account: AccountRecord) -> None:
        await self.changes.lock(tx, account.id)
        await self.changes.ensure_none_pending(tx, account.id)

    async def _log_and_tell(
        self, tx: Tx, account: AccountRecord, action: str, name: str, origin: Origin
    ) -> None:
        now = self.changes.clock.now()
        await audit.record(tx, account.id, action, now, origin, hint=name)
        await self.changes.notices.send(
            tx, account, action, now, account_hint=await self.changes.hint(tx, account), hint=name
        )
