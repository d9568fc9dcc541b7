"""The most common passwords, bundled: a password on this list is refused (NIST SP 800-63B
§3.1.1.2: "passwords obtained from previous breach corpuses", "commonly-used").

The list is `data/common-passwords.txt.gz`: the 100,000 passwords most used in breaches as the
UK's National Cyber Security Centre published them (via Have I Been Pwned), from SecLists
(`Passwords/Common-Credentials/100k-most-used-passwords-NCSC.txt`, MIT licence: see
`data/README.md`). zxcvbn's and Django's lists hold 20–30k.

A password is compared in one form: NFKC, case folded, so `Ｐａｓｓｗｏｒｄ１` is `password1`.
Each entry is kept as a 64-bit keyed digest in one sorted array (800 kB per process, not 100,000
strings: about 8 MB), searched by bisection.
"""

from __future__ import annotations

import gzip
import hashlib
import unicodedata
from array import array
from bisect import bisect_left
from functools import cache
from importlib import resources

_KEY = b"honnin common passwords"


def comparable(password: str) -> str:
    """The one form passwords are compared in: NFKC, case folded."""
    return unicodedata.normalize("NFKC", password).casefold()


def _digest(text: str) -> int:
    raw = hashlib.blake2b(text.encode(), digest_size=8, key=_KEY).digest()
    return int.from_bytes(raw, "big")


@cache
def _digests() -> array[int]:
    data = resources.files("honnin.accounts").joinpath("data/common-passwords.txt.gz")
    with data.open("rb") as compressed, gzip.open(compressed, "rt", encoding="utf-8") as lines:
        found = sorted({_digest(comparable(line.rstrip("\n"))) for line in lines if line.strip()})
    return array("Q", found)


def is_common(password: str) -> bool:
    """Whether the password is on the list (in its comparable form)."""
    digests = _digests()
    wanted = _digest(comparable(password))
    at = bisect_left(digests, wanted)
    return at < len(digests) and digests[at] == wanted


def size() -> int:
    """How many distinct passwords the list holds (in their comparable form)."""
    return len(_digests())
