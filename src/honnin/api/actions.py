"""The body of `POST /api/v1/flows/{id}`: one model per action, so the schema says exactly which
fields each action takes.

Values are judged by the flow services (an address that cannot receive mail, a weak password,
a wrong code), which answer in the reader's language; the constraints here describe those rules
in the schema where JSON Schema can say them, and the server enforces them all.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from honnin.accounts.passwords import MAX_LENGTH as PASSWORD_MAX
from honnin.accounts.passwords import MIN_LENGTH as PASSWORD_MIN
from honnin.destinations.emails import MAX_LENGTH as EMAIL_MAX


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
        values: dict[str, Any] = self.model_dump(exclude={"action"})
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


class SubmitCode(_Action):
    action: Literal["submit_code"]
    code: Code


class ChooseOption(_Action):
    action: Literal["choose_option"]
    option: str = Field(max_length=64, description="The `id` of one of the flow's `options`.")


class ConfirmAddress(_Action):
    """The full address of the chosen option, typed by the person (proves they know it)."""

    action: Literal["confirm_address"]
    address: EmailAddress


class SimpleAction(_Action):
    """Actions without fields."""

    action: Literal[
        "email_code", "resend", "have_code", "other_options", "change_address", "restart"
    ]


FlowAction = Annotated[
    SubmitIdentifier
    | SubmitPassword
    | SubmitDetails
    | SubmitCode
    | ChooseOption
    | ConfirmAddress
    | SimpleAction,
    Field(discriminator="action"),
]
