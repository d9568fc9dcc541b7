"""Spotting SMS pumping: numbers that receive codes nobody enters.

A person who asks for a code types it in; an attacker who makes a form text numbers they
profit from never does. So, per phone prefix (the country code and the next four digits) and
per country, the share of the last hour's codes that were entered is watched: when it drops
below `HONNIN_PUMPING_ALERT_SHARE` over at least `HONNIN_PUMPING_ALERT_MIN_CODES` codes, the
housekeeping logs an alert for operators, and `honnin messages list --pumping` lists the
messages to those numbers. Only codes whose fate is known count: entered, or expired unused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from honnin.codes.models import Code
from honnin.db import Database

log = logging.getLogger("honnin.pumping")
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Suspect:
    """A prefix (`+819012`) or a country (`JP`) whose codes are seldom entered."""

    scope: str  # "prefix" or "country"
    key: str
    codes: int
    entered: int

    @property
    def share(self) -> float:
        return self.entered / self.codes

    def describe(self) -> str:
        return (
            f"SMS pumping suspected: {self.scope} {self.key}: {self.entered} of {self.codes} "
            f"codes sent in the last hour were entered ({self.share:.0%})"
        )


async def suspects(db: Database, now: datetime, *, below: float, min_codes: int) -> list[Suspect]:
    """The prefixes and countries whose share of entered codes over the last hour is below
    `below`, among those with at least `min_codes` codes whose fate is known."""
    known = or_(Code.used_at.is_not(None), Code.expires_at <= now)
    async with db.transaction(write=False) as tx:
        rows = (
            await tx.session.execute(
                select(
                    Code.phone_country,
                    Code.phone_prefix,
                    func.count(),
                    func.count(Code.used_at),
                )
                .where(Code.phone_prefix.is_not(None), Code.created_at > now - WINDOW, known)
                .group_by(Code.phone_country, Code.phone_prefix)
            )
        ).all()
    countries: dict[str, list[int]] = {}
    found: list[Suspect] = []
    for country, prefix, codes, entered in rows:
        totals = countries.setdefault(country or "", [0, 0])
        totals[0] += codes
        totals[1] += entered
        if codes >= min_codes and entered / codes < below:
            found.append(Suspect("prefix", prefix or "", codes, entered))
    for country, (codes, entered) in sorted(countries.items()):
        if codes >= min_codes and entered / codes < below:
            found.append(Suspect("country", country, codes, entered))
    return found


async def alert(db: Database, now: datetime, *, below: float, min_codes: int) -> list[Suspect]:
    """Log each suspect (the operators' alert); the suspects."""
    found = await suspects(db, now, below=below, min_codes=min_codes)
    for suspect in found:
        log.warning(suspect.describe())
    return found
