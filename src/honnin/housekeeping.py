"""Removing what nobody needs any more: finished and expired flows (with their challenges and
codes), expired challenges of no flow (verifications, security info), old failed attempts,
long-ended sessions.

Everything is kept as long as a rule can still look at it: codes as long as the longest send
limit counts them (and at least a day), failed attempts as long as the longest failure limit,
ended sessions for 30 days (support sees them; a browser that signed in stays known to the
account that long: `flows.guesses`). Each age is kept up to and including its edge. Run by
every serving process every few minutes (`Runtime`), and by `honnin db prune`. Delivery
timelines (messages) are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_

from honnin.clock import Clock
from honnin.codes.models import Challenge
from honnin.config import Settings
from honnin.db import Database
from honnin.flows.models import Flow
from honnin.limits.models import FailedAttempt
from honnin.sessions.models import Session

SESSION_HISTORY = timedelta(days=30)  # ended sessions stay visible to support this long


@dataclass(frozen=True)
class Pruned:
    flows: int
    failed_attempts: int
    sessions: int
    challenges: int = 0  # of no flow; a flow's go with it


def _longest(settings: Settings, *names: str) -> timedelta:
    seconds = [item.get_expiry() for name in names for item in settings.rate(name)]
    return timedelta(seconds=max(seconds, default=0))


async def prune(db: Database, clock: Clock, settings: Settings) -> Pruned:
    now = clock.now()
    # a flow's codes count towards send limits: keep it while the longest limit looks back
    flow_horizon = now - max(
        timedelta(days=1), _longest(settings, "destination_sends", "account_sends")
    )
    failure_horizon = now - _longest(settings, "name_failures")
    session_horizon = now - SESSION_HISTORY
    async with db.transaction() as tx:
        flows = await tx.conn.execute(delete(Flow).where(Flow.expires_at < flow_horizon))
        # a challenge's expiry moves on with each resend, and its codes are no newer than it
        challenges = await tx.conn.execute(
            delete(Challenge).where(
                Challenge.flow_id.is_(None), Challenge.expires_at < flow_horizon
            )
        )
        failures = await tx.conn.execute(
            delete(FailedAttempt).where(FailedAttempt.at < failure_horizon)
        )
        sessions = await tx.conn.execute(
            delete(Session).where(
                or_(Session.expires_at < session_horizon, Session.revoked_at < session_horizon)
            )
        )
    return Pruned(flows.rowcount, failures.rowcount, sessions.rowcount, challenges.rowcount)
