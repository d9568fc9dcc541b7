"""Errors of security changes, each saying what to do next."""

from __future__ import annotations

from honnin.errors import Conflict, HonninError
from honnin.i18n import _


class ChangePending(Conflict):
    code = "change_pending"


class VerificationNeeded(HonninError):
    code = "verification_needed"


class NotYours(HonninError):
    code = "link_not_valid"


def change_pending() -> ChangePending:
    return ChangePending(
        _(
            "Another change of your security info is waiting. Cancel it on the security "
            "info page, or wait until it is done, then try again."
        )
    )


def verification_needed() -> VerificationNeeded:
    return VerificationNeeded(
        _("For your security, verify your identity again before making this change.")
    )


def link_not_valid() -> NotYours:
    return NotYours(
        _(
            "This link isn't valid any more: the change was already canceled or made. Sign "
            "in to see your security info."
        )
    )


class TwoWaysNeeded(Conflict):
    code = "two_ways_needed"


def two_ways_needed() -> TwoWaysNeeded:
    return TwoWaysNeeded(
        _(
            "Two-step verification needs two different ways to verify, such as an email "
            "address and a phone number. Add a second one first."
        )
    )
