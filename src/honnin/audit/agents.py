"""A browser named as people name it ("Chrome on Windows") from its User-Agent header.

The audit log and the list of sessions show where a change or a sign-in came from; the raw
header is long, changes with every update and tells more than the person needs. The first
family that matches wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
"""

from __future__ import annotations

import re

_BROWSERS = (
    ("Edge", r"\bEdg(e|A|iOS)?/"),
    ("Opera", r"\bOPR/|\bOpera\b"),
    ("Samsung Internet", r"\bSamsungBrowser/"),
    ("Firefox", r"\bFirefox/|\bFxiOS/"),
    ("Chrome", r"\b(?:Headless)?Chrome/|\bCriOS/|\bChromium/"),
    ("Safari", r"\bSafari/"),
)
_SYSTEMS = (
    ("iPhone", r"\biPhone\b"),
    ("iPad", r"\biPad\b"),
    ("Android", r"\bAndroid\b"),
    ("Chrome OS", r"\bCrOS\b"),
    ("Windows", r"\bWindows\b"),
    ("macOS", r"\bMacintosh\b|\bMac OS X\b"),
    ("Linux", r"\bLinux\b"),
)
MAX_LENGTH = 120


def describe(user_agent: str | None) -> str | None:
    """ "Firefox on Android", "Safari on iPhone"; the family alone, or None when unknown."""
    if not user_agent:
        return None
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), None)
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system
