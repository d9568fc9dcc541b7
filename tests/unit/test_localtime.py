"""Times on pages: the browser's zone when it is a real one, else the language's; always named."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from honnin.localtime import LocalTimes, choose_zone, known_zones

WINTER = datetime(2026, 12, 2, 5, 35, tzinfo=UTC)
SUMMER = datetime(2026, 7, 2, 5, 35, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cookie", "locale", "zone"),
    [
        ("Asia/Tokyo", "en", "Asia/Tokyo"),
        ("America/Sao_Paulo", "ja", "America/Sao_Paulo"),
        ("Etc/GMT+5", "en", "Etc/GMT+5"),
        (None, "ja", "Asia/Tokyo"),
        (None, "en", "UTC"),
        ("", "ja", "Asia/Tokyo"),
        ("Mars/Olympus_Mons", "en", "UTC"),
        ("../../../etc/passwd", "ja", "Asia/Tokyo"),
        ("/usr/share/zoneinfo/Asia/Tokyo", "en", "UTC"),
        ("asia/tokyo", "en", "UTC"),  # zone names are exact
        ("Asia/Tokyo" + "x" * 100, "en", "UTC"),
        (None, "fr", "UTC"),
    ],
)
def test_the_zone_is_the_browsers_if_known_else_the_languages(
    cookie: str | None, locale: str, zone: str
) -> None:
    assert choose_zone(cookie, locale).key == zone


def test_every_zone_a_browser_may_name_is_known() -> None:
    """With the `tzdata` package, even a system without /usr/share/zoneinfo knows them."""
    for zone in ("Asia/Tokyo", "Europe/London", "America/Los_Angeles", "Asia/Kolkata", "UTC"):
        assert zone in known_zones()


@pytest.mark.parametrize(
    ("zone", "locale", "moment", "expected"),
    [
        ("Asia/Tokyo", "ja", WINTER, "14:35（日本時間）"),
        ("Asia/Tokyo", "en", WINTER, "2:35\u202fPM (Japan Time)"),
        ("UTC", "en", WINTER, "5:35\u202fAM (UTC)"),
        ("UTC", "ja", WINTER, "5:35（UTC）"),
        ("Europe/London", "en", SUMMER, "6:35\u202fAM (British Time)"),
        ("America/New_York", "en", WINTER, "12:35\u202fAM (Eastern Time)"),
        ("America/New_York", "ja", SUMMER, "1:35（米国東部時間）"),
        ("Etc/GMT+5", "en", WINTER, "12:35\u202fAM (GMT-05:00)"),  # a zone with no region name
    ],
)
def test_a_time_says_which_zone_it_is_in(
    zone: str, locale: str, moment: datetime, expected: str
) -> None:
    assert LocalTimes(ZoneInfo(zone), locale).time_and_zone(moment) == expected


@pytest.mark.parametrize(
    ("zone", "locale", "expected"),
    [
        ("Asia/Tokyo", "ja", "2026/12/02 14:35:00（日本時間）"),
        ("UTC", "en", "Dec 2, 2026, 5:35:00\u202fAM (UTC)"),
    ],
)
def test_a_date_and_time_says_which_zone_too(zone: str, locale: str, expected: str) -> None:
    assert LocalTimes(ZoneInfo(zone), locale).date_time_and_zone(WINTER) == expected
