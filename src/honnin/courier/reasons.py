"""Why a text or a call did not reach the person, in plain words for them and for support.

Providers answer in codes of their own (Twilio's 21614, a Kannel delivery report's status 16,
an SMSC's `err:`); each provider's channel maps its codes to one of these reasons, and keeps
the raw code in the timeline. The person's "didn't get it?" help and `honnin messages show`
say the reason.
"""

from __future__ import annotations

from honnin.i18n import LazyText, _

INVALID_NUMBER = "invalid_number"
NOT_MOBILE = "not_mobile"
COUNTRY_NOT_ENABLED = "country_not_enabled"
OPTED_OUT = "opted_out"
UNREACHABLE = "unreachable"
BLOCKED = "blocked"
UNKNOWN_NUMBER = "unknown_number"
LANDLINE = "landline"
FILTERED = "filtered"
CARRIER_REFUSED = "carrier_refused"
EXPIRED = "expired"
NO_ANSWER = "no_answer"
BUSY = "busy"
UNKNOWN = "unknown"


def reason_text(reason: str) -> LazyText:
    """The words for a reason (an unknown one reads as "the carrier did not say why")."""
    return REASON_TEXTS.get(reason, REASON_TEXTS[UNKNOWN])


REASON_TEXTS: dict[str, LazyText] = {
    INVALID_NUMBER: _("This number does not exist. Check it for a typo."),
    NOT_MOBILE: _("This number cannot receive texts: it is not a mobile number."),
    COUNTRY_NOT_ENABLED: _("Texts to this country are not enabled on this service."),
    OPTED_OUT: _("This number has opted out of our texts (it replied STOP)."),
    UNREACHABLE: _("The phone was switched off or out of coverage."),
    BLOCKED: _("The phone or its carrier blocked the message."),
    UNKNOWN_NUMBER: _("The carrier does not know this number any more."),
    LANDLINE: _("This is a landline number, which cannot receive texts."),
    FILTERED: _("The carrier filtered the message."),
    CARRIER_REFUSED: _("The carrier refused the message."),
    EXPIRED: _("The carrier could not deliver the message in time."),
    NO_ANSWER: _("Nobody answered the call."),
    BUSY: _("The line was busy."),
    UNKNOWN: _("The carrier did not say why."),
}
