"""Where a sign-in guess is counted, so that a stranger's wrong guesses lock nobody out.

Every guess (password, code, the address behind a hint) is counted before it is judged, under
one key, and refused while that key is over `HONNIN_LIMIT_NAME_FAILURES`. Which key (OWASP's
"device cookies" pattern, with our device cookie):

- a browser that has signed in to the account before (a session of that account on this device
  is still kept: housekeeping keeps ended ones for 30 days, and sessions move with the device
  token when it is rotated) counts under its own key, for that account: a stranger's guesses
  from elsewhere do not block it, and a stolen device cookie gets only its own allowance —
  once that is spent it counts under the name like any other browser;
- a code counts under the name's *code* key: a code sent to the account's own address proves
  itself, so wrong passwords typed by others do not block it (its own limits per code and per
  destination still hold);
- a password asked for after an emailed code was right (two-step: "one more step") counts under
  the name's *after-code* key: only someone who proved the mailbox can spend it;
- anything else counts under the name's key: the limit against guessing spread over many
  addresses and browsers.

No enumeration: the keys of a name are keyed digests of the name as typed, whether or not an
account has it. A name without an account has no sessions, so it is never on a known device,
and the lookup runs all the same (with an id that matches nothing): the same answers, the same
work.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import bindparam, select

from honnin.db import Tx
from honnin.errors import RateLimited
from honnin.flows.service import Binding, FlowService
from honnin.sessions.models import Session

NOBODY = uuid.UUID(int=0)  # no account has it: the lookup for a name without one finds nothing

_KNOWN_DEVICE = (
    select(Session.id)
    .where(
        Session.account_id == bindparam("b_account"),
        Session.device_digest.in_(bindparam("b_devices", expanding=True)),
    )
    .limit(1)
)


class Guess(StrEnum):
    SECRET = "secret"  # a password, or the full address behind a hint  # noqa: S105
    CODE = "code"


class Guesses:
    def __init__(self, flows: FlowService) -> None:
        self.flows = flows

    async def reserve(
        self,
        tx: Tx,
        kind: Guess,
        *,
        name: str,
        account_id: uuid.UUID | None,
        binding: Binding,
        now: datetime,
        after_code: bool = False,
    ) -> int:
        """Count a guess before it is judged; `RateLimited` if its key is over the limit.

        `account_id`: the account the name (or the flow) leads to, None if none; `after_code`:
        a password that follows a right emailed code."""
        limits = self.flows.failures
        device = await self._known_device(tx, account_id, binding)
        if device is not None:
            try:
                return await limits.reserve(tx, device, now)
            except RateLimited:
                pass  # its own allowance is spent: from now on it is any browser
        if after_code:
            key = self.flows.keyring.digests("sign-in-name-after-code", name)
        elif kind is Guess.CODE:
            key = self.flows.keyring.digests("sign-in-name-codes", name)
        else:
            key = self.flows.name_key(name)
        return await limits.reserve(tx, key, now)

    async def release(self, tx: Tx, attempt: int) -> None:
        """The guess was right (or not judged at all): it is no failure."""
        await self.flows.failures.release(tx, attempt)

    async def _known_device(
        self, tx: Tx, account_id: uuid.UUID | None, binding: Binding
    ) -> tuple[bytes, ...] | None:
        """The key of this browser's own allowance for the account, if it signed in to it
        before; None for an API client, a new browser, or a name without an account."""
        if binding.device_token is None:
            return None
        devices = list(self.flows.sessions.device_digests(binding.device_token))
        found = await tx.conn.scalar(
            _KNOWN_DEVICE, {"b_account": account_id or NOBODY, "b_devices": devices}
        )
        if found is None or account_id is None:
            return None
        return self.flows.keyring.digests(
            "sign-in-known-device", str(account_id), binding.device_token
        )
