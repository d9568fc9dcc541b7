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
}  # fmt: skip
