"""Browsers named as people name them, for the audit log and the list of sessions."""

from __future__ import annotations

import pytest

from honnin.audit.agents import describe

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
EDGE = CHROME_WINDOWS + " Edg/131.0.0.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0"
CHROME_IOS = SAFARI_IPHONE.replace("Version/17.5", "CriOS/131.0.6778.73")


@pytest.mark.parametrize(
    ("agent", "named"),
    [
        (CHROME_WINDOWS, "Chrome on Windows"),
        (EDGE, "Edge on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (CHROME_IOS, "Chrome on iPhone"),
        (FIREFOX_ANDROID, "Firefox on Android"),
        (CHROME_WINDOWS.replace("Chrome/", "HeadlessChrome/"), "Chrome on Windows"),
        ("curl/8.5.0", None),
        ("", None),
        (None, None),
    ],
)
def test_a_browser_is_named_by_its_family_and_system(agent: str | None, named: str | None) -> None:
    assert describe(agent) == named
