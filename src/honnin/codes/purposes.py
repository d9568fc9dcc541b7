"""What each purpose of a code is called in its message ("This code is for: …").

The code engine knows why it sends a code; it puts the words in the message's parameters, in
the message's language, so the courier renders them without knowing what a purpose is.
"""

from __future__ import annotations

from honnin.destinations.kinds import CHANNEL_KINDS, PHONE
from honnin.i18n import LazyText, _


def purpose_text(purpose: str, channel: str) -> LazyText | None:
    """The words for `purpose` of a code sent on `channel` (None: a purpose without words)."""
    phone = CHANNEL_KINDS.get(channel) == PHONE
    texts: dict[str, LazyText] = {
        "verification": _("verifying this phone number")
        if phone
        else _("verifying this email address"),
        "verify_email": _("verifying your email address"),
        "verify_phone": _("verifying your phone number"),
        "sign_in": _("signing in"),
        "sign_up": _("creating your account"),
        "verify_identity": _("verifying your identity"),
    }
    return texts.get(purpose)
