"""Errors of the flows, each with the next step in its message."""

from __future__ import annotations

from honnin.codes.errors import InvalidCode
from honnin.errors import HonninError, InvalidInput, NotFound
from honnin.i18n import _


class FlowNotFound(NotFound):
    code = "flow_not_found"


class FlowExpired(HonninError):
    code = "flow_expired"


class InvalidCredentials(HonninError):
    code = "invalid_credentials"


class AddressTaken(HonninError):
    code = "address_taken"


class WrongAddress(HonninError):
    code = "wrong_address"


class NoPendingCode(HonninError):
    code = "no_pending_code"


class NoSecondFactor(HonninError):
    code = "no_second_factor"


class ActionNotAllowed(InvalidInput):
    code = "action_not_allowed"


def not_found() -> FlowNotFound:
    return FlowNotFound(
        _("This page belongs to a sign-in that isn't available in this browser. Start again.")
    )


def expired() -> FlowExpired:
    return FlowExpired(_("This page has expired, for your security. Start again."))


def invalid_credentials() -> InvalidCredentials:
    return InvalidCredentials(
        _("That email address or password isn't right. Check both and try again.")
    )


def address_taken() -> AddressTaken:
    return AddressTaken(
        _("An account with this address was created meanwhile. Sign in to it instead.")
    )


def wrong_address() -> WrongAddress:
    return WrongAddress(
        _(
            "That isn't the address you chose. Type it in full, or use a different "
            "verification option."
        )
    )


def no_second_factor(*, asked: bool = False) -> NoSecondFactor:
    """`asked`: the application asked for two steps (the account's two-step verification is
    off)."""
    if asked:
        return NoSecondFactor(
            _(
                "The app you're signing in to asks for two steps, but this account has only "
                "one way to verify it's you. Add a phone number, an authenticator app or a "
                "passkey to your account, then try again."
            )
        )
    return NoSecondFactor(
        _(
            "Two-step verification is on for this account, but it has no verified security "
            "info to send a code to. Recover your account to add some."
        )
    )


def changed_meanwhile() -> ActionNotAllowed:
    return ActionNotAllowed(_("Something changed meanwhile. Reload the page and try again."))


def no_pending_code() -> NoPendingCode:
    return NoPendingCode(
        _("We haven't sent a code there in the last few minutes. Send a new code.")
    )


def not_now(action: str) -> ActionNotAllowed:
    return ActionNotAllowed(
        _(
            "“{action}” can't be done at this step. Reload the page and try again.",
            action=action[:40],
        )
    )


class NotSignedIn(HonninError):
    code = "not_signed_in"


def not_signed_in() -> NotSignedIn:
    return NotSignedIn(_("Sign in first: this page changes the account you are signed in to."))


def wrong_password() -> InvalidCredentials:
    return InvalidCredentials(_("That password isn't right. Try again, or use a code instead."))


def wrong_recovery_code() -> InvalidCredentials:
    return InvalidCredentials(
        _(
            "That isn't your recovery code. It has 25 letters and digits in groups of five: "
            "check it, or use a code sent to your security info instead."
        )
    )


def wrong_app_code() -> InvalidCode:
    return InvalidCode(
        _(
            "That code isn't right, or it was used already. Enter the code your app shows "
            "now; if it still isn't accepted, check that your phone's clock is set "
            "automatically."
        )
    )


class PasskeyNotVerified(HonninError):
    code = "passkey_not_verified"


def passkey_not_verified(*, asked: bool = False) -> PasskeyNotVerified:
    """`asked`: the application asked for two steps (the account's two-step verification is
    off)."""
    if asked:
        return PasskeyNotVerified(
            _(
                "The app you're signing in to asks for two steps, and this passkey didn't "
                "check it's you (with a fingerprint, face or screen lock). Enter your email "
                "address or phone number to sign in another way."
            )
        )
    return PasskeyNotVerified(
        _(
            "Two-step verification is on, and this passkey didn't check it's you (with a "
            "fingerprint, face or screen lock). Enter your email address or phone number to "
            "sign in another way."
        )
    )
