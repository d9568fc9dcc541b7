"""What each notice says, in the catalogs' words: its subject, its lines, and the short text
that goes by SMS. `{service}`, `{account}` (the account's masked first sign-in name), `{when}`
(in the person's time zone) and the action's own parameters (`{hint}`, `{date}`) are filled in
when it is sent, in the account's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from honnin.i18n import LazyText, _


@dataclass(frozen=True)
class NoticeText:
    subject: LazyText
    lines: tuple[LazyText, ...]
    sms: LazyText
    link_text: LazyText | None = None  # the button of the notice's link, if it has one


_NOT_YOU = _(
    "If this wasn't you, someone else may know your password: sign in, check your security "
    "info, and change your password."
)

NOTICES: dict[str, NoticeText] = {
    "proof_added": NoticeText(
        subject=_("Security info was added to your {service} account"),
        lines=(
            _("{hint} was added to the security info of your {service} account {account} on "
              "{when}."),
            _NOT_YOU,
        ),
        sms=_("{service}: {hint} was added to your account's security info. Not you? Check "
              "your account."),
        link_text=_("Review your security info"),
    ),
    "proof_removed": NoticeText(
        subject=_("Security info was removed from your {service} account"),
        lines=(
            _("{hint} was removed from the security info of your {service} account {account} "
              "on {when}. Codes for this account no longer go to it."),
            _NOT_YOU,
        ),
        sms=_("{service}: {hint} was removed from your account's security info. Not you? "
              "Check your account."),
        link_text=_("Review your security info"),
    ),
    "app_added": NoticeText(
        subject=_("An authenticator app was added to your {service} account"),
        lines=(
            _("The authenticator app “{hint}” was added to the security info of your "
              "{service} account {account} on {when}. Its codes can now verify that it's you."),
            _NOT_YOU,
        ),
        sms=_("{service}: an authenticator app was added to your account. Not you? Check your "
              "account."),
        link_text=_("Review your security info"),
    ),
    "app_removed": NoticeText(
        subject=_("An authenticator app was removed from your {service} account"),
        lines=(
            _("The authenticator app “{hint}” was removed from the security info of "
              "your {service} account {account} on {when}. Its codes no longer work."),
            _NOT_YOU,
        ),
        sms=_("{service}: an authenticator app was removed from your account. Not you? Check "
              "your account."),
        link_text=_("Review your security info"),
    ),
    "passkey_added": NoticeText(
        subject=_("A passkey was added to your {service} account"),
        lines=(
            _("The passkey “{hint}” was added to the security info of your {service} account "
              "{account} on {when}. It can now sign in to the account."),
            _NOT_YOU,
        ),
        sms=_("{service}: a passkey was added to your account. Not you? Check your account."),
        link_text=_("Review your security info"),
    ),
    "passkey_removed": NoticeText(
        subject=_("A passkey was removed from your {service} account"),
        lines=(
            _("The passkey “{hint}” was removed from the security info of your {service} "
              "account {account} on {when}. It no longer signs in."),
            _NOT_YOU,
        ),
        sms=_("{service}: a passkey was removed from your account. Not you? Check your "
              "account."),
        link_text=_("Review your security info"),
    ),
    "removal_scheduled": NoticeText(
        subject=_("Security info will be removed from your {service} account"),
        lines=(
            _("On {when}, someone asked to remove {hint}, the last of the security info of "
              "your {service} account {account}."),
            _("For your protection it will be removed only on {date}. Until then nothing "
              "changes."),
            _("If this wasn't you, cancel the removal with the button below, then change your "
              "password."),
        ),
        sms=_("{service}: {hint} will be removed from your account on {date}. Not you? Cancel: "
              "{link}"),
        link_text=_("Cancel the removal"),
    ),
    "removal_cancelled": NoticeText(
        subject=_("The removal of your security info was canceled"),
        lines=(
            _("The removal of {hint} from your {service} account {account} was canceled on "
              "{when}. Your security info is unchanged."),
        ),
        sms=_("{service}: the removal of {hint} from your account was canceled."),
    ),
    "password_changed": NoticeText(
        subject=_("The password of your {service} account was changed"),
        lines=(
            _("The password of your {service} account {account} was changed on {when}. "
              "Everywhere else it was signed in, it was signed out."),
            _("If this wasn't you, someone else may be using your account: on the sign-in "
              "page, choose \"Forgot your password?\" to set a new one, then check your "
              "security info."),
        ),
        sms=_("{service}: your account's password was changed. Not you? Reset it on the "
              "sign-in page."),
        link_text=_("Review your security info"),
    ),
    "password_reset": NoticeText(
        subject=_("The password of your {service} account was reset"),
        lines=(
            _("The password of your {service} account {account} was reset on {when}, with "
              "codes sent to its security info. Everywhere it was signed in, it was signed "
              "out."),
            _("If this wasn't you, someone else can read your email or texts: reset your "
              "password again, then check your security info."),
        ),
        sms=_("{service}: your account's password was reset. Not you? Reset it again on the "
              "sign-in page."),
        link_text=_("Review your security info"),
    ),
    "two_step_on": NoticeText(
        subject=_("Two-step verification is on for your {service} account"),
        lines=(
            _("Two-step verification was turned on for your {service} account {account} on "
              "{when}. From now on, every sign-in needs two steps: for example your password "
              "and a code."),
            _NOT_YOU,
        ),
        sms=_("{service}: two-step verification was turned on for your account. Not you? "
              "Check your account."),
        link_text=_("Review your security info"),
    ),
    "two_step_off": NoticeText(
        subject=_("Two-step verification is off for your {service} account"),
        lines=(
            _("Two-step verification was turned off for your {service} account {account} on "
              "{when}. From now on, your password alone signs you in."),
            _NOT_YOU,
        ),
        sms=_("{service}: two-step verification was turned off for your account. Not you? "
              "Check your account."),
        link_text=_("Review your security info"),
    ),
    "recovery_code_used": NoticeText(
        subject=_("Your {service} recovery code was used"),
        lines=(
            _("The recovery code of your {service} account {account} was used to sign in on "
              "{when}, instead of a code. It no longer works; a new one was shown after the "
              "sign-in."),
            _NOT_YOU,
        ),
        sms=_("{service}: your recovery code was used to sign in. Not you? Check your "
              "account."),
        link_text=_("Review your security info"),
    ),
    "recovery_code_replaced": NoticeText(
        subject=_("Your {service} recovery code was replaced"),
        lines=(
            _("A new recovery code was made for your {service} account {account} on {when}. "
              "The old one no longer works."),
            _NOT_YOU,
        ),
        sms=_("{service}: your recovery code was replaced. Not you? Check your account."),
        link_text=_("Review your security info"),
    ),
    "new_browser": NoticeText(
        subject=_("New sign-in to your {service} account"),
        lines=(
            _("Your {service} account {account} was signed in to on {when}, from a browser "
              "that had not signed in to it before: {agent}, IP address {ip}."),
            _("If this was you, there's nothing to do. If it wasn't, someone knows how to sign "
              "in as you: secure your account with the button below. We'll sign you out "
              "everywhere and ask for a new password at your next sign-in."),
        ),
        sms=_("{service}: new sign-in to your account from {agent}. Not you? Secure it: "
              "{link}"),
        link_text=_("This wasn't me: secure my account"),
    ),
    "account_secured": NoticeText(
        subject=_("Your {service} account was secured"),
        lines=(
            _("On {when}, your {service} account {account} was signed out everywhere, and its "
              "next sign-in will need a code to its security info and a new password."),
        ),
        sms=_("{service}: your account was signed out everywhere. Sign in with a code to "
              "choose a new password."),
        link_text=_("Sign in"),
    ),
    "recovery_started": NoticeText(
        subject=_("Someone asked to recover your {service} account"),
        lines=(
            _("On {when}, someone asked to recover your {service} account {account}, saying "
              "they can't use any of its security info, and to use {hint} instead."),
            _("For your protection, {hint} can be used only from {date}. Until then nothing "
              "changes: your security info and your password keep working."),
            _("If this wasn't you, cancel it with the button below. We'll also sign you out "
              "everywhere and ask for a new password at your next sign-in."),
        ),
        sms=_("{service}: someone asked to recover your account with {hint}, from {date}. Not "
              "you? Cancel: {link}"),
        link_text=_("This wasn't me: cancel it"),
    ),
    "recovery_reminder": NoticeText(
        subject=_("Your {service} account's recovery ends on {date}"),
        lines=(
            _("On {started}, someone asked to recover your {service} account {account} and to "
              "use {hint} instead of its security info."),
            _("On {date}, {hint} will replace all of your security info."),
            _("If this wasn't you, cancel it with the button below. We'll also sign you out "
              "everywhere and ask for a new password at your next sign-in."),
        ),
        sms=_("{service}: on {date}, {hint} replaces your account's security info. Not you? "
              "Cancel: {link}"),
        link_text=_("This wasn't me: cancel it"),
    ),
    "recovery_request": NoticeText(
        subject=_("Your {service} account recovery request"),
        lines=(
            _("On {when}, you asked to recover the {service} account {account} and to use "
              "{hint} from now on."),
            _("For the account's protection, the request waits until {date}. Meanwhile we tell "
              "the account's security info, and it can be canceled from there."),
            _("If it isn't canceled, on {date} {hint} becomes the account's security info, and "
              "we'll write to you here. If you didn't ask for this, ignore this message."),
        ),
        sms=_("{service}: your request to recover {account} waits until {date}. We'll text "
              "you then."),
    ),
    "recovery_cancelled": NoticeText(
        subject=_("The recovery of your {service} account was canceled"),
        lines=(
            _("The recovery of your {service} account {account} was canceled on {when}. {hint} "
              "was not added, and your security info is unchanged."),
        ),
        sms=_("{service}: the recovery of your account was canceled. {hint} was not added."),
    ),
    "recovery_completed": NoticeText(
        subject=_("Your {service} account was recovered"),
        lines=(
            _("The recovery of your {service} account {account} ended on {when}. {hint} is "
              "now its security info and a sign-in name; the previous security info was "
              "removed, and two-step verification is off. Everywhere it was signed in, it was "
              "signed out."),
            _("Sign in with a code to {hint}. Then add a second way to verify, such as a "
              "phone number, so that losing one never locks you out."),
        ),
        sms=_("{service}: your account was recovered. Sign in with a code to {hint}."),
        link_text=_("Sign in"),
    ),
    "account_closing": NoticeText(
        subject=_("Your {service} account was closed"),
        lines=(
            _("Your {service} account {account} was closed on {when}, and everywhere it was "
              "signed in, it was signed out."),
            _("On {date} it will be deleted, with its security info and its history. Until "
              "then, signing in reopens it."),
            _("If this wasn't you, sign in now to reopen it, then change your password."),
        ),
        sms=_("{service}: your account was closed and will be deleted on {date}. Not you? "
              "Sign in to reopen it."),
        link_text=_("Sign in"),
    ),
    "account_reopened": NoticeText(
        subject=_("Your {service} account was reopened"),
        lines=(
            _("Your {service} account {account} was reopened on {when}: it will not be "
              "deleted."),
            _NOT_YOU,
        ),
        sms=_("{service}: your account was reopened. Not you? Check your account."),
        link_text=_("Review your security info"),
    ),
    "account_closed": NoticeText(
        subject=_("Your {service} account was deleted"),
        lines=(
            _("Your {service} account {account}, closed on {asked}, was deleted on {when}, "
              "with its security info, its sessions and its history."),
            _("This is the last message we send about it."),
        ),
        sms=_("{service}: your account was deleted, as asked on {asked}."),
    ),
}  # fmt: skip
