"""Passwords seen in data breaches, asked of a Pwned-Passwords-compatible range API
(`HONNIN_PWNED_PASSWORDS_URL`, e.g. https://api.pwnedpasswords.com/range/).

k-anonymity: only the first 5 hex characters of the password's SHA-1 leave the server; the API
answers with every suffix it knows under that prefix (padded with fake ones, `Add-Padding`),
and the match is made here. When the API does not answer in time, or answers oddly, the
bundled list of common passwords (`honnin.accounts.common`) has decided alone: a sign-up is
never blocked by someone else's outage.
"""

from __future__ import annotations

import hashlib
import logging

import httpx

from honnin.accounts.passwords import normal

log = logging.getLogger("honnin.passwords")
TIMEOUT = httpx.Timeout(3.0, connect=2.0)


class BreachedPasswords:
    def __init__(self, url: str | None) -> None:
        self.url = (url or "").rstrip("/")

    async def appeared(self, password: str) -> bool | None:
        """Whether the password is in the API's breaches; None when no API is set or it did
        not answer (then nothing is known)."""
        if not self.url:
            return None
        digest = hashlib.sha1(normal(password).encode()).hexdigest().upper()  # noqa: S324 - the API's
        prefix, suffix = digest[:5], digest[5:]
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
                response = await client.get(
                    f"{self.url}/{prefix}",
                    headers={"Add-Padding": "true", "User-Agent": "honnin"},
                )
        except httpx.HTTPError as error:
            log.warning("the breached-passwords API did not answer: %s", type(error).__name__)
            return None
        if response.status_code != 200:
            log.warning("the breached-passwords API answered %d", response.status_code)
            return None
        for line in response.text.splitlines():
            found, _sep, count = line.strip().partition(":")
            if found.upper() == suffix:
                return count.strip() not in ("", "0")  # padding lines count 0
        return False
