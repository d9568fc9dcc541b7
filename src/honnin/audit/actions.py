"""What each line of the audit log says to the person it is about (the security info page's
"recent activity"): one sentence per action, `{hint}` being the masked address or number."""

from __future__ import annotations

from dataclasses import replace

from honnin.i18n import LazyText, _

ACTIONS: dict[str, LazyText] = {
    "proof_added": _("{hint} was added to your security info"),
    "proof_removed": _("{hint} was removed from your security info"),
    "app_added": _("The authenticator app “{hint}” was added to your security info"),
    "app_removed": _("The authenticator app “{hint}” was removed from your security info"),
    "passkey_added": _("The passkey “{hint}” was added to your security info"),
    "passkey_removed": _("The passkey “{hint}” was removed from your security info"),
    "passkey_count_went_back": _(
        "The passkey “{hint}” was used, but its counter went back: it may have been copied"
    ),
    "removal_scheduled": _("The removal of {hint} was scheduled"),
    "removal_cancelled": _("The removal of {hint} was canceled"),
    "password_changed": _("Your password was changed"),
    "password_reset": _("Your password was reset"),
    "two_step_on": _("Two-step verification was turned on"),
    "two_step_off": _("Two-step verification was turned off"),
    "recovery_code_used": _("Your recovery code was used"),
    "recovery_code_replaced": _("A new recovery code was made"),
    "recovery_code_voided": _(
        "Your recovery code stopped working: it was made after a sign-in you reported"
    ),
    "new_browser": _("A browser signed in for the first time"),
    "recovery_started": _("A recovery with {hint} was requested"),
    "recovery_refused": _("A recovery with {hint} was requested and refused"),
    "recovery_cancelled": _("The recovery with {hint} was canceled"),
    "recovery_completed": _("The recovery ended: {hint} replaced your security info"),
    "account_secured": _("You were signed out everywhere, and a new password was asked for"),
    "account_closing": _("Your account was closed"),
    "account_reopened": _("Your account was reopened"),
    "oidc_allowed": _("You let the application “{hint}” sign you in"),
    "oidc_withdrawn": _("The application “{hint}” can no longer sign you in"),
}


def describe(action: str, hint: str) -> LazyText:
    """The sentence for a line of the log (an action this release does not know: its name)."""
    text = ACTIONS.get(action)
    if text is None:
        return LazyText("{action}", {"action": action})  # not in the catalogs: as it is
    return replace(text, params={"hint": hint})
