"""The body of `POST /api/v1/flows/{id}`: one model per action, so the schema says exactly which
fields each action takes.

Values are judged by the flow services (an address that cannot receive mail, a weak password,
a wrong code), which answer in the reader's language; the constraints here describe those rules
in the schema where JSON Schema can say them, and the server enforces them all.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from honnin.accounts.passwords import MAX_LENGTH as PASSWORD_MAX
from honnin.accounts.passwords import MIN_LENGTH_ALONE as PASSWORD_MIN
from honnin.destinations.emails import MAX_LENGTH as EMAIL_MAX
from honnin.flows.ways import BY_NAME

WAY_NAMES = tuple(BY_NAME)  # the ways that send a code


def _any_case(word: str) -> str:
    return "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in word)


# special-use domains (RFC 6761: .test, .localhost, …) can receive no mail: they are refused
_NOT_SPECIAL_USE = (
    r"^(?![\s\S]*[.@](?:"
    + "|".join(_any_case(name) for name in sorted(SPECIAL_USE_DOMAIN_NAMES))
    + r")\.?$)"
)

_EMAIL_SCHEMA = {
    "type": "string",
    "format": "idn-email",
    "maxLength": EMAIL_MAX,
    "pattern": _NOT_SPECIAL_USE,
    "description": "An email address that can receive mail (not a special-use domain such as "
    ".test or .localhost).",
}
EmailAddress = Annotated[str, WithJsonSchema(_EMAIL_SCHEMA)]
_PHONE_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 40,
    # digits, with the spaces, dashes, dots and brackets people write them with
    "pattern": r"^[+ ().\-]*[0-9][0-9 ().\-]*$",
    "description": "A phone number: E.164 (+819012345678) or as people write it in the "
    "service's default region (090-1234-5678). Whether it exists and can receive a code is "
    "judged by the service (libphonenumber), not by this pattern.",
}
PhoneNumber = Annotated[str, WithJsonSchema(_PHONE_SCHEMA)]
SignInName = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [_EMAIL_SCHEMA, _PHONE_SCHEMA],
            "description": "An email address, or a phone number that is a verified sign-in "
            "name of the account.",
        }
    ),
]
NewPassword = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "minLength": PASSWORD_MIN,
            "maxLength": PASSWORD_MAX,
            "description": "Also refused when easy to guess or built from the address "
            "(`weak_password`).",
        }
    ),
]
Password = Annotated[str, Field(max_length=PASSWORD_MAX)]
# what a typed code may look like (`codes/values.read_code`): its digits, half- or full-width,
# with spaces, dashes or dots anywhere; the number of digits is a setting (see `contract.py`)
_SEPARATOR = r"[\s\-‐‑‒–—―ー－・.]"


def code_pattern(length: int) -> str:
    return f"^{_SEPARATOR}*(?:[0-9０-９]{_SEPARATOR}*){{{length}}}$"


DEFAULT_CODE_PATTERN = code_pattern(6)
Code = Annotated[
    str,
    Field(max_length=32),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 32,
            "pattern": DEFAULT_CODE_PATTERN,
            "description": "The code as typed: its digits, with spaces or dashes if you like.",
        }
    ),
]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def fields(self) -> dict[str, str]:
        values: dict[str, Any] = self.model_dump(exclude={"action"}, exclude_none=True)
        return {name: str(value) for name, value in values.items()}


class SubmitIdentifier(_Action):
    action: Literal["submit_identifier"]
    name: SignInName


class SubmitPassword(_Action):
    action: Literal["submit_password"]
    password: Password


class SubmitDetails(_Action):
    """Sign-up: the address to create the account with, and its password."""

    action: Literal["submit_details"]
    email: EmailAddress
    password: NewPassword
    time_zone: str | None = Field(
        None, max_length=64, description="The person's IANA time zone (Asia/Tokyo), for notices."
    )


class SubmitCode(_Action):
    action: Literal["submit_code"]
    code: Code


class ChooseOption(_Action):
    action: Literal["choose_option"]
    option: str = Field(max_length=64, description="The `id` of one of the flow's `options`.")


class ConfirmAddress(_Action):
    """What the person knows of the chosen option, proving it is theirs before a code goes
    to it: an address in full; the last four digits of a phone number."""

    action: Literal["confirm_address"]
    address: Annotated[
        str,
        WithJsonSchema(
            {
                "anyOf": [
                    _EMAIL_SCHEMA,
                    {"type": "string", "pattern": "^\\s*[0-9０-９]{4}\\s*$",
                     "description": "The last four digits of the phone number."},
                ]
            }
        ),
    ]  # fmt: skip


class SendCode(_Action):
    """Sign in with a code instead of the password: one of the flow's `ways`."""

    action: Literal["send_code"]
    way: Literal[WAY_NAMES] = Field(  # type: ignore[valid-type]
        description="`email_code`, `sms_code` (a text) or `call_code` (a voice call): one of "
        "the flow's `ways`."
    )


class Resend(_Action):
    """A new code; `channel` `call`: by a call instead of the text ("call me instead", once
    the flow's `code.call_offer_at` has passed)."""

    action: Literal["resend"]
    channel: Literal["call"] | None = None


class AddProof(_Action):
    """Settings: add an email address or a phone number to the security info; a code goes to
    it (after a fresh verification of who you are, if the session needs one)."""

    action: Literal["add_proof"]
    address: SignInName
    sign_in: bool = Field(False, description="Also sign in with it, once verified.")

    def fields(self) -> dict[str, str]:
        return {"address": self.address, "sign_in": "1" if self.sign_in else ""}


class RemoveProof(_Action):
    """Settings: remove one of the security info (`security.ways[].id`); then `confirm`."""

    action: Literal["remove_proof"]
    proof: str = Field(max_length=64)


class AddApp(_Action):
    """Settings: add an authenticator app (after a fresh verification of who you are, if the
    session needs one): the flow's `app_setup` then has its secret, and the app's first code
    (`submit_code`) makes it count."""

    action: Literal["add_app"]
    name: str = Field(
        max_length=80, description='What the person calls it ("phone"): 1 to 40 characters.'
    )


class RemoveApp(_Action):
    """Settings: remove an authenticator app (`security.apps[].id`); then `confirm`."""

    action: Literal["remove_app"]
    app: str = Field(max_length=64)


class SubmitPasskey(_Action):
    """A passkey's answer to the flow's `webauthn` options: what `navigator.credentials.get()`
    (or `.create()`, adding one) returned, as `PublicKeyCredential.toJSON()` gives it."""

    action: Literal["submit_passkey"]
    credential: dict[str, Any] = Field(
        description="The PublicKeyCredential as JSON: id, rawId, type, response{…}."
    )

    def fields(self) -> dict[str, str]:
        return {"credential": json.dumps(self.credential)[:65_536]}


class AddPasskey(_Action):
    """Settings: add a passkey (after a fresh verification of who you are, if the session
    needs one): the flow's `webauthn` then has the creation options; `submit_passkey` with
    the new credential."""

    action: Literal["add_passkey"]
    name: str | None = Field(
        None, max_length=80, description="What the person calls it; else its authenticator's."
    )


class RemovePasskey(_Action):
    """Settings: remove a passkey (`security.passkeys[].id`); then `confirm`."""

    action: Literal["remove_passkey"]
    passkey: str = Field(max_length=64)


class SignOutSession(_Action):
    """Settings: sign out one of the account's other sessions (`security.sessions[].id`)."""

    action: Literal["sign_out_session"]
    session: str = Field(max_length=64)


class SetTimeZone(_Action):
    """Settings: the time zone notices give times in."""

    action: Literal["set_time_zone"]
    time_zone: str = Field(max_length=64, description="An IANA name: Asia/Tokyo.")


class CancelChange(_Action):
    """Settings: cancel a change that waits (`security.pending[].id`)."""

    action: Literal["cancel_change"]
    change: str = Field(max_length=64)


class UseRecoveryCode(_Action):
    """Sign in with the recovery code instead of the second step (two-step verification):
    the response carries the next recovery code, once."""

    action: Literal["use_recovery_code"]
    recovery_code: str = Field(
        max_length=64,
        description="25 letters and digits, in groups of five; spaces, dashes and case are "
        "ignored.",
    )


class SubmitNewPassword(_Action):
    """Settings: the new password (after `change_password` and a fresh verification)."""

    action: Literal["submit_new_password"]
    password: NewPassword


class SubmitNewWay(_Action):
    """Recovery: the new email address or phone number; a code is sent to it."""

    action: Literal["submit_new_way"]
    address: SignInName


class StartRecovery(_Action):
    """Recovery: start the waiting period (after the new way's code)."""

    action: Literal["start_recovery"]
    time_zone: str | None = Field(
        None, max_length=64, description="The person's IANA zone, for the message to the new way."
    )


class SimpleAction(_Action):
    """Actions without fields (`email_code`: `send_code` with the way `email_code`; `verify`,
    `confirm`, `back`: settings)."""

    action: Literal[
        "email_code", "have_code", "other_options", "change_address", "restart", "verify",
        "confirm", "back", "change_password", "two_step_on", "two_step_off",
        "new_recovery_code", "sign_out_others", "skip_password", "close_account", "reopen",
    ]  # fmt: skip


FlowAction = Annotated[
    SubmitIdentifier
    | SubmitPassword
    | SubmitDetails
    | SubmitCode
    | ChooseOption
    | ConfirmAddress
    | SendCode
    | Resend
    | AddProof
    | RemoveProof
    | AddApp
    | RemoveApp
    | SubmitPasskey
    | AddPasskey
    | RemovePasskey
    | CancelChange
    | SignOutSession
    | SetTimeZone
    | UseRecoveryCode
    | SubmitNewPassword
    | SubmitNewWay
    | StartRecovery
    | SimpleAction,
    Field(discriminator="action"),
]
