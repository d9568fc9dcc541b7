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


class TwoStepIsOff(Conflict):
    code = "two_step_off"


def two_step_is_off() -> TwoStepIsOff:
    return TwoStepIsOff(
        _("Two-step verification is off, so there is no recovery code. Turn it on first.")
    )


class TwoStepNeedsTwo(Conflict):
    code = "two_step_needs_two"


def two_step_needs_two() -> TwoStepNeedsTwo:
    return TwoStepNeedsTwo(
        _(
            "Two-step verification needs two ways to verify, so this one can't be removed "
            "while it is on. Add another one first, or turn two-step verification off."
        )
    )


class RecoveryWaiting(Conflict):
    code = "recovery_waiting"


def recovery_waiting() -> RecoveryWaiting:
    return RecoveryWaiting(
        _(
            "A recovery of this account is waiting. Until it ends, its security info, "
            "two-step verification and password can't be seen or changed. If you didn't ask "
            "for it, cancel it on the security info page after verifying with a code."
        )
    )
