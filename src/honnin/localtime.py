"""Times in the reader's own time zone, always saying which zone: on pages and in notices.

Pages: the browser tells its zone (`Intl…resolvedOptions().timeZone`) in the `tz` cookie, set
by honnin.js (`web.templating`). Notices: the zone stored with the account. A name that is not
a known IANA zone is ignored; without one the zone follows the language: Japan time for
Japanese, UTC for English. Every time shown or sent is formatted through `LocalTimes`, so the
rule lives here and nowhere else.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.core import get_global
from babel.dates import format_date, format_datetime, format_time, get_timezone_name

from honnin.i18n import LazyText, _, ngettext

TZ_COOKIE = "tz"
FALLBACK_ZONES = {"ja": "Asia/Tokyo", "en": "UTC"}
# zones with no regional name of their own: "UTC" says it best in both languages
UTC_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Zulu"})


@functools.cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name this machine (or the `tzdata` package) knows."""
    return frozenset(zoneinfo.available_timezones())


def choose_zone(name: str | None, locale: str) -> ZoneInfo:
    """The zone `name` if it is a known IANA zone, else the language's fallback."""
    if name and len(name) <= 64 and name in known_zones():
        return ZoneInfo(name)
    return ZoneInfo(FALLBACK_ZONES.get(locale, "UTC"))


@dataclass(frozen=True)
class LocalTimes:
    """Formats moments for one reader: their zone, their language."""

    zone: ZoneInfo
    locale: str

    def time(self, moment: datetime) -> str:
        """The wall-clock time, as the language writes it ("2:35 PM", "14:35")."""
        return format_time(moment, "short", tzinfo=self.zone, locale=self.locale)

    def date(self, moment: datetime) -> str:
        """The date alone, in the reader's zone ("Dec 3, 2026", "2026/12/03")."""
        return format_date(moment.astimezone(self.zone), "medium", locale=self.locale)

    def date_time(self, moment: datetime) -> str:
        """The date and time to the second ("Dec 2, 2026, 2:35:07 PM", "2026/12/02 14:35:07")."""
        return format_datetime(moment, "medium", tzinfo=self.zone, locale=self.locale)

    def zone_name(self, moment: datetime) -> str:
        """The zone as people call it ("Japan Time", "日本時間"), never an unnamed region."""
        key = self.zone.key
        if key in UTC_ZONES:
            return "UTC"
        if key in get_global("meta_zones"):  # a region with a name: "Central European Time"
            name = get_timezone_name(self.zone, "long", locale=self.locale, zone_variant="generic")
            return str(name)
        return str(get_timezone_name(moment.astimezone(self.zone), "long", locale=self.locale))

    def time_and_zone(self, moment: datetime) -> str:
        """The time and its zone: "2:35 PM (Japan Time)", 「14:35（日本時間）」."""
        return self._with_zone(self.time(moment), moment)

    def date_time_and_zone(self, moment: datetime) -> str:
        """The date, time and zone: "Dec 2, 2026, 2:35:07 PM (Japan Time)"."""
        return self._with_zone(self.date_time(moment), moment)

    def _with_zone(self, shown: str, moment: datetime) -> str:
        return _("{time} ({zone})", time=shown, zone=self.zone_name(moment)).render(self.locale)


def local_times_for(zone: str | None, locale: str) -> LocalTimes:
    """How times are shown to someone whose zone is `zone` (None: their language's)."""
    return LocalTimes(choose_zone(zone, locale), locale)


def duration(seconds: int) -> LazyText:
    """A waiting period as people say it: in whole days, else hours, else minutes."""
    if seconds >= 86_400:
        days = seconds // 86_400
        return ngettext("{n} day", "{n} days", days, n=days)
    if seconds >= 3_600:
        hours = seconds // 3_600
        return ngettext("{n} hour", "{n} hours", hours, n=hours)
    minutes = max(1, seconds // 60)
    return ngettext("{n} minute", "{n} minutes", minutes, n=minutes)
