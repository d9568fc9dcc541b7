"""How strong a new password is, and why: the meter beside the fields that choose one.

It asks the rules that refuse a password (`passwords.check_strength`, the same ones the server
applies when the form is sent: the length, the account's names, the 100,000 common passwords,
zxcvbn's patterns) and, for a password they accept, says how far beyond them it goes. The
breaches API is not asked here: a range query per keystroke would be a flood, and it is asked
when the password is chosen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from honnin.accounts.passwords import WeakPassword, check_strength
from honnin.i18n import LazyText, _

# what the meter says of a password the rules accept, by zxcvbn's score
_ACCEPTED = {
    2: _("Fair. Longer is stronger: add another word."),
    3: _("Good. It's hard to guess."),
    4: _("Strong. It's very hard to guess."),
}


@dataclass(frozen=True)
class Strength:
    score: int  # 0–1: refused; 2 fair, 3 good, 4 strong
    acceptable: bool
    reason: LazyText  # why, in a sentence the person can act on


def assess(password: str, names: Iterable[str], *, only_factor: bool) -> Strength:
    if not password:
        return Strength(0, False, _("Type a password to see how strong it is."))
    try:
        score = check_strength(password, names, only_factor=only_factor)
    except WeakPassword as error:
        return Strength(1 if len(password) >= 8 else 0, False, error.message)
    return Strength(score, True, _ACCEPTED[max(2, min(4, score))])
