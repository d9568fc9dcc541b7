"""Writing and reading an account's audit log.

Every change of an account's security is written in the transaction that makes it, so the log
never says a change happened that did not (or misses one that did). What a line says to its
person is in `audit.actions`; where it came from is the request's `Origin`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select

from honnin.audit.models import AuditEvent
from honnin.db import Prepared, Tx, new_id, table_of

_events = table_of(AuditEvent)
_INSERT = Prepared(insert(_events))


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as the audit log and notices tell it: the IP address and the
    browser ("Chrome on Windows") or the application ("API: Example shop")."""

    ip: str | None = None
    agent: str | None = None


@dataclass(frozen=True)
class AuditView:
    at: datetime
    action: str
    detail: dict[str, Any]
    ip: str | None
    agent: str | None


async def record(
    tx: Tx,
    account_id: uuid.UUID,
    action: str,
    now: datetime,
    origin: Origin | None = None,
    **detail: Any,
) -> None:
    """One line of the log: `action` (see `audit.actions`) and its details (masked hints and
    ids only)."""
    origin = origin or Origin()
    await tx.run(
        _INSERT,
        {
            "id": new_id(),
            "account_id": account_id,
            "at": now,
            "action": action,
            "detail": detail,
            "ip": origin.ip,
            "agent": (origin.agent or None) and origin.agent[:120],
        },
    )


_FOR_ACCOUNT = (
    select(_events)
    .where(_events.c.account_id == bindparam("b_account"))
    .order_by(_events.c.at.desc(), _events.c.id.desc())
)


async def for_account(tx: Tx, account_id: uuid.UUID, *, limit: int = 100) -> list[AuditView]:
    """The account's log, newest first."""
    rows = await tx.session.execute(_FOR_ACCOUNT.limit(limit), {"b_account": account_id})
    return [AuditView(r.at, r.action, r.detail, r.ip, r.agent) for r in rows]
