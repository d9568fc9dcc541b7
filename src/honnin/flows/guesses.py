"""Where a sign-in guess is counted, so that a stranger's wrong guesses lock nobody out.

Every guess (password, code, the address behind a hint) is counted before it is judged, under
its keys, and refused while a key is over its limit. Which keys (OWASP's "device cookies"
pattern, with our device cookie):

- a browser that has signed in to the account before (a session of that account on this device
  is still kept — housekeeping keeps ended ones for 30 days, and sessions move with the device
  token when it is rotated — and was not revoked: signed out there, the browser is still the
  person's; revoked from elsewhere, it is not) counts under its own key, for that account: a
  stranger's guesses from elsewhere do not block it, and a stolen device cookie gets only its
  own allowance — once that is spent it counts under the name like any other browser;
- a code counts under the key of the flow that asked for it, with `HONNIN_LIMIT_NAME_FAILURES`
  (the guess that burns a code too), and under the name's *code* key, with that limit times
  `HONNIN_CODE_MAX_ATTEMPTS`. Why not the name's key alone: guesses at codes are already bounded
  where it matters — a code takes `HONNIN_CODE_MAX_ATTEMPTS` wrong tries, and the codes a name
  gets by the destination's send quotas (5/hour, 10/day: 25 guesses an hour) — so a per-name
  count added only a lockout: a stranger who asked for codes to the person's address and
  burned two of them blocked the code route for every new browser for 15 minutes. Now a
  stranger's wrong codes spend the stranger's flow only; the name's code key is a backstop
  that the default send quotas never let anyone reach (it binds where an operator raised them);
- an authenticator app's code counts under the flow's key and under the *account's* app-code
  key, both with `HONNIN_LIMIT_NAME_FAILURES`: nothing bounds an app's codes the way send
  quotas bound sent ones (the app never waits for a message), so the account's key is the
  bound, whichever flow, name or alias the guesses come through (a browser that signed in
  before keeps its own allowance, as for everything else);
- a password asked for after an emailed code was right (two-step: "one more step") counts under
  the name's *after-code* key: only someone who proved the mailbox can spend it;
- anything else counts under the name's key: the limit against guessing spread over many
  addresses and browsers.

Sends: a stranger can still spend the destination's send quotas (each code sent to the
person's address is one). A browser that signed in to the account before does not share them:
its codes are counted under a quota of its own (the same amounts, `own_send_quota`), so a
stranger cannot stop the person from signing in by code where they signed in before. A new
browser shares the destination's quotas, like everyone (the password still works there).

No enumeration: the keys of a name are keyed digests of the name as typed, whether or not an
account has it. A name without an account has no sessions, so it is never on a known device,
and the lookup runs all the same (with an id that matches nothing): the same answers, the same
work.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import bindparam, or_, select

from honnin.db import Prepared, Tx
from honnin.destinations.kinds import CHANNEL_KINDS
from honnin.errors import RateLimited
from honnin.flows.service import Binding, FlowService
from honnin.limits.failures import FailureLimits, reserve_together
from honnin.sessions.models import Session

NOBODY = uuid.UUID(int=0)  # no account has it: the lookup for a name without one finds nothing

_KNOWN_DEVICE = Prepared(
    select(Session.id)
    .where(
        Session.account_id == bindparam("b_account"),
        Session.device_digest.in_(bindparam("b_devices", expanding=True)),
        # ended by signing out there, the browser is still the person's; revoked, it is not
        or_(Session.revoked_at.is_(None), Session.signed_out),
    )
    .limit(1)
)

Attempt = tuple[int, ...]  # the counted guess's rows, to release if it turns out right


class Guess(StrEnum):
    SECRET = "secret"  # a password, or the full address behind a hint  # noqa: S105
    CODE = "code"
    APP_CODE = "app_code"  # an authenticator app's code


class Guesses:
    def __init__(self, flows: FlowService) -> None:
        self.flows = flows
        per_code = flows.codes.policy.max_attempts
        self.name_codes = FailureLimits(
            [type(i)(i.amount * per_code, i.multiples, i.namespace) for i in flows.failures.items]
        )

    async def reserve(
        self,
        tx: Tx,
        kind: Guess,
        *,
        name: str,
        account_id: uuid.UUID | None,
        binding: Binding,
        now: datetime,
        flow_id: uuid.UUID | None = None,
        after_code: bool = False,
    ) -> Attempt:
        """Count a guess before it is judged; `RateLimited` if a key of it is over its limit.

        `account_id`: the account the name (or the flow) leads to, None if none; `flow_id`: the
        flow that asked for the code (a code guess); `after_code`: a password that follows a
        right emailed code."""
        limits = self.flows.failures
        device = await self._known_device(tx, account_id, binding)
        if device is not None:
            try:
                return (await limits.reserve(tx, device, now),)
            except RateLimited:
                pass  # its own allowance is spent: from now on it is any browser
        keyring = self.flows.keyring
        if kind is Guess.APP_CODE:
            assert flow_id is not None
            assert account_id is not None
            in_flow = keyring.digests("sign-in-flow-codes", name, str(flow_id))
            own = keyring.digests("app-codes", str(account_id))
            return await reserve_together(tx, [(limits, in_flow), (limits, own)], now)
        if after_code:
            key = keyring.digests("sign-in-name-after-code", name)
        elif kind is Guess.CODE:
            assert flow_id is not None
            in_flow = keyring.digests("sign-in-flow-codes", name, str(flow_id))
            names = keyring.digests("sign-in-name-codes", name)
            return await reserve_together(tx, [(limits, in_flow), (self.name_codes, names)], now)
        else:
            key = self.flows.name_key(name)
        return (await limits.reserve(tx, key, now),)

    async def release(self, tx: Tx, attempt: Attempt) -> None:
        """The guess was right (or not judged at all): it is no failure."""
        await self.flows.failures.release(tx, *attempt)

    async def own_send_quota(
        self,
        tx: Tx,
        account_id: uuid.UUID | None,
        binding: Binding,
        channel: str,
        destination: str,
    ) -> tuple[bytes, ...] | None:
        """The key the codes this browser asks for are counted under instead of the
        destination's quotas, if it signed in to the account before; None otherwise."""
        if await self._known_device(tx, account_id, binding) is None:
            return None
        assert binding.device_token is not None
        return self.flows.keyring.digests(
            "sign-in-own-sends",
            str(account_id),
            binding.device_token,
            CHANNEL_KINDS[channel],
            destination,
        )

    async def known_browser(self, tx: Tx, account_id: uuid.UUID, binding: Binding) -> bool:
        """Whether this browser signed in to the account before (and was not thrown out)."""
        return await self._known_device(tx, account_id, binding) is not None

    async def _known_device(
        self, tx: Tx, account_id: uuid.UUID | None, binding: Binding
    ) -> tuple[bytes, ...] | None:
        """The key of this browser's own allowance for the account, if it signed in to it
        before; None for an API client, a new browser, or a name without an account."""
        if binding.device_token is None:
            return None
        devices = list(self.flows.sessions.device_digests(binding.device_token))
        params = {"b_account": account_id or NOBODY, "b_devices": devices}
        found = (await tx.run(_KNOWN_DEVICE, params)).scalar()
        if found is None or account_id is None:
            return None
        return self.flows.keyring.digests(
            "sign-in-known-device", str(account_id), binding.device_token
        )
