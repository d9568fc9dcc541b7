"""Send quotas per destination and per account, and for phones per prefix and per country,
counted from the codes actually sent.

They are read in the transaction that would send, under the destination's lock and the
account's (`CodeService._may_send`), so they hold exactly across every process and node. A
phone's prefix and country are counted without a lock of their own: a lock would make every
text to one prefix wait on the others (on PostgreSQL, creates of a benchmark's numbers of one
prefix took 330 ms at p50 against 36 ms for checks), and these limits may be passed by the few
sends that run at once (on SQLite, none: its writes take turns). Each refusal says when a slot
frees up: when the oldest send that keeps the window full ages out of it.

The prefix and country limits are the built-in defence against SMS pumping (toll fraud):
attackers make "send a code" forms text ranges of numbers they profit from.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from limits import RateLimitItem
from sqlalchemy import bindparam, func, select, true

from honnin.codes.models import Code
from honnin.db import Prepared, Tx
from honnin.destinations.phones import Area
from honnin.errors import RateLimited
from honnin.i18n import LazyText, ngettext
from honnin.limits.service import too_many_sends
from honnin.limits.windows import first_full, seconds_until_free


def _counts(name: str, scope: Any, items: list[RateLimitItem]) -> Any:
    """Sends within each item's window, for one scope (windows are bound parameters)."""
    windows = [Code.created_at > bindparam(f"b_{name}_start{i}") for i in range(len(items))]
    return select(
        *(func.count().filter(window).label(f"{name}{i}") for i, window in enumerate(windows))
    ).where(
        scope.in_(bindparam(f"b_{name}", expanding=True)),
        Code.created_at > bindparam(f"b_{name}_earliest"),
    )


# No row has the nil account id: counting under it costs what counting a real account does,
# for a send that must look like one with an account (a decoy) but spend nobody's quota.
NOBODY = uuid.UUID(int=0)


def sends_paused(retry_after: int) -> LazyText:
    """A prefix's or a country's limit: sending to such numbers waits, whoever asks."""
    return ngettext(
        "Texts and calls to this destination are paused for now. Try again in {seconds} "
        "second, or use another way to verify.",
        "Texts and calls to this destination are paused for now. Try again in {seconds} "
        "seconds, or use another way to verify.",
        retry_after,
        seconds=retry_after,
    )


class SendQuotas:
    def __init__(
        self,
        destination: list[RateLimitItem],
        account: list[RateLimitItem],
        prefix: list[RateLimitItem] | None = None,
        country: list[RateLimitItem] | None = None,
    ) -> None:
        self.destination = destination
        self.account = account
        self._scopes = {
            "destination": (Code.destination_digest, destination),
            "account": (Code.account_id, account),
            "prefix": (Code.phone_prefix, prefix or []),
            "country": (Code.phone_country, country or []),
        }
        self._count: dict[tuple[str, ...], Prepared] = {}

    def _statement(self, names: tuple[str, ...]) -> Prepared:
        """The counts of every scope named, in one statement: each scope's rows found through
        its own index (a one-row aggregate each, side by side)."""
        if names not in self._count:
            counted = [_counts(name, *self._scopes[name]) for name in names]
            if len(counted) == 1:
                self._count[names] = Prepared(counted[0])
            else:
                side_by_side = [
                    count.subquery(name) for count, name in zip(counted, names, strict=True)
                ]
                joined: Any = side_by_side[0]
                for other in side_by_side[1:]:
                    joined = joined.join(other, true())
                columns = [column for subquery in side_by_side for column in subquery.c]
                self._count[names] = Prepared(select(*columns).select_from(joined))
        return self._count[names]

    async def check(
        self,
        tx: Tx,
        *,
        destination_digests: Sequence[bytes],
        account_id: uuid.UUID | None,
        now: datetime,
        area: Area | None = None,
    ) -> None:
        """`destination_digests`: under every secret key, so a rotation restarts no count.
        `account_id`: None for sends that belong to no account (the verification API).
        `area`: a phone's prefix and country."""
        keys: dict[str, Sequence[object]] = {"destination": destination_digests}
        if account_id is not None:
            keys["account"] = [account_id]
        if area is not None:
            keys["prefix"], keys["country"] = [area.prefix], [area.country]
        scopes = [(name, scope_keys) for name, scope_keys in keys.items() if self._scopes[name][1]]
        if not scopes:
            return
        params: dict[str, object] = {}
        for name, scope_keys in scopes:
            starts = [now - timedelta(seconds=item.get_expiry()) for item in self._scopes[name][1]]
            params.update({f"b_{name}_start{i}": start for i, start in enumerate(starts)})
            params.update({f"b_{name}": list(scope_keys), f"b_{name}_earliest": min(starts)})
        names = tuple(name for name, _keys in scopes)
        counts = (await tx.run(self._statement(names), params)).one()
        # the destination's first, as a person reads them
        full = first_full([self._scopes[name][1] for name in names], counts)
        if full is not None:
            index, item, count = full
            name, scope_keys = scopes[index]
            retry_after = await seconds_until_free(
                tx, at=Code.created_at, scope=self._scopes[name][0], keys=scope_keys, item=item,
                count=count, now=now,
            )  # fmt: skip
            message = sends_paused if name in ("prefix", "country") else too_many_sends
            raise RateLimited(message(retry_after), retry_after, scope=name)
