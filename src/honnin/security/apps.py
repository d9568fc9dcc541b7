"""Adding and removing an account's authenticator apps: the rules of security info changes
(`security.service`: one change at a time, under the account's lock; logged, and told to every
way) applied to apps, which are kept by `authenticators.apps`.

- An app counts once the first code it shows came back; until then it is a setup, forgotten
  when the person goes back (or starts another).
- Removing one is immediate: notices never go to an app, so it is never the last place they
  can go; with two-step verification on, two other ways must remain.
"""

from __future__ import annotations

import uuid

from honnin.accounts.service import AccountRecord
from honnin.audit import service as audit
from honnin.audit.service import Origin
from honnin.authenticators import apps
from honnin.authenticators.apps import AppView
from honnin.db import Tx
from honnin.security.service import SecurityChanges


class AppChanges:
    def __init__(self, changes: SecurityChanges) -> None:
        self.changes = changes

    async def start(self, tx: Tx, account: AccountRecord, name: str) -> uuid.UUID:
        """A new app to set up (`name`: read by `authenticators.apps.read_name`)."""
        await self.changes.lock(tx, account.id)
        await self.changes.ensure_none_pending(tx, account.id)
        return await apps.start(
            tx, self.changes.keyring, account.id, name, self.changes.clock.now()
        )

    async def finish(
        self, tx: Tx, account: AccountRecord, app_id: uuid.UUID, typed: str, origin: Origin
    ) -> AppView | None:
        """The app's first code came back: it counts from now (logged, told to every way).
        None: not its code."""
        await self.changes.lock(tx, account.id)
        await self.changes.ensure_none_pending(tx, account.id)  # a recovery asked meanwhile
        now = self.changes.clock.now()
        app = await apps.check(tx, self.changes.keyring, account.id, app_id, typed, now)
        if app is None:
            return None
        await self._log_and_tell(tx, account, "app_added", app.name, origin)
        return app

    async def remove(
        self, tx: Tx, account: AccountRecord, app_id: uuid.UUID, origin: Origin
    ) -> None:
        await self.changes.lock(tx, account.id)
        await self.changes.ensure_none_pending(tx, account.id)
        app = await apps.get(tx, account.id, str(app_id))
        await self.changes.ensure_two_step_keeps_two(tx, account.id, app.id)
        await apps.remove(tx, account.id, app.id)
        await self._log_and_tell(tx, account, "app_removed", app.name, origin)

    async def _log_and_tell(
        self, tx: Tx, account: AccountRecord, action: str, name: str, origin: Origin
    ) -> None:
        now = self.changes.clock.now()
        await audit.record(tx, account.id, action, now, origin, kind="app", hint=name)
        await self.changes.notices.send(
            tx, account, action, now, account_hint=await self.changes.hint(tx, account), hint=name
        )
