"""The one place that knows each kind of destination: email addresses and phone numbers.

For each kind: how a typed value is read into its one stored form (or refused, saying why),
how it is masked, how it is shown to its holder, which channels can reach it, and what a
person types to confirm a masked one before a code is sent (the full address; a phone's last
four digits). Sign-in names, security info, verifications and the flows all go through here.

Masking needs no settings (`mask`, `mask_for_channel`); reading typed values does (the phone
number's default region and allowed countries): `Destinations`, built once by the runtime.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Protocol

from honnin.config import Settings
from honnin.crypto import same
from honnin.destinations.emails import normalize_email
from honnin.destinations.phones import CALL, SMS, CannotText, PhoneRules, display_phone
from honnin.errors import InvalidInput
from honnin.i18n import _
from honnin.masks import mask_email, mask_phone

EMAIL = "email"
PHONE = "phone"
CHANNEL_KINDS: dict[str, str] = {"email": EMAIL, SMS: PHONE, CALL: PHONE}
"""The kind of destination each channel sends to."""

CONFIRM_DIGITS = 4
"""A phone is confirmed by its last four digits before a code is sent to it."""


def mask(kind: str, value: str) -> str:
    """The hint for a stored value of `kind`: `em*****@example.com`, `******78`."""
    return mask_phone(value) if kind == PHONE else mask_email(value)


def mask_for_channel(channel: str, destination: str) -> str:
    """The hint for where a channel's message goes (the void channel's decoys: as email)."""
    return mask(CHANNEL_KINDS.get(channel, EMAIL), destination)


def kind_of_name(raw: str) -> str:
    """What a typed sign-in name is meant to be: an address has an `@` or letters (one typed
    without its `@` is told so as an address), a number has neither."""
    return EMAIL if "@" in raw or any(c.isalpha() for c in raw) else PHONE


class Kind(Protocol):
    @property
    def name(self) -> str: ...

    def normalize(self, raw: str) -> str:
        """The stored form of a typed value that may receive codes, or an `InvalidInput` that
        says what to fix."""
        ...

    def read(self, raw: str) -> str:
        """The stored form of a typed value, to look it up (no rule of what may receive codes:
        one accepted when it was added stays findable)."""
        ...

    def channels(self, value: str) -> tuple[str, ...]:
        """The channels that can reach this (stored) value, in the order they are offered."""
        ...

    def display(self, value: str) -> str:
        """The value as its holder reads it (never to anyone else: see `mask`)."""
        ...

    def confirms(self, typed: str, value: str) -> bool:
        """Whether what a person typed to confirm a masked value matches it (constant time)."""
        ...


@dataclass(frozen=True)
class EmailKind:
    name: str = EMAIL

    def normalize(self, raw: str) -> str:
        return normalize_email(raw)

    def read(self, raw: str) -> str:
        return normalize_email(raw)

    def channels(self, value: str) -> tuple[str, ...]:
        return (EMAIL,)

    def display(self, value: str) -> str:
        return value

    def confirms(self, typed: str, value: str) -> bool:
        return same(normalize_email(typed).encode(), value.encode())


@dataclass(frozen=True)
class PhoneKind:
    rules: PhoneRules = field(default_factory=PhoneRules)
    name: str = PHONE

    def normalize(self, raw: str) -> str:
        return self.rules.parse(raw).e164

    def read(self, raw: str) -> str:
        return self.rules.read(raw)

    def channels(self, value: str) -> tuple[str, ...]:
        try:
            return self.rules.parse(value).channels
        except InvalidInput:  # no longer accepted (HONNIN_PHONE_ALLOWED_COUNTRIES narrowed)
            return ()

    def display(self, value: str) -> str:
        return display_phone(value, self.rules.default_region)

    def confirms(self, typed: str, value: str) -> bool:
        typed = unicodedata.normalize("NFKC", typed)  # full-width digits from a Japanese IME
        digits = "".join(c for c in typed if c.isascii() and c.isdigit())
        if len(digits) != CONFIRM_DIGITS:
            raise InvalidInput(_("Enter the last 4 digits of the phone number."))
        return same(digits.encode(), value[-CONFIRM_DIGITS:].encode())


class ChannelUnavailable(InvalidInput):
    """No provider of this service sends on the channel (no SMS or voice provider set up)."""

    code = "channel_unavailable"


@dataclass(frozen=True)
class Destinations:
    """The kinds, configured from the settings, and the channels this service can send on."""

    email: EmailKind = field(default_factory=EmailKind)
    phone: PhoneKind = field(default_factory=PhoneKind)
    channels: frozenset[str] = frozenset({EMAIL, SMS, CALL})

    @classmethod
    def from_settings(cls, settings: Settings) -> Destinations:
        """The kinds as the settings read them (the phones' region and countries), and the
        channels this service sends on: a text or a call where a provider sends it — in dev
        mode the dev mailbox (`honnin.courier.providers`, which builds them the same way)."""
        rules = PhoneRules(settings.phone_default_region, settings.phone_allowed)
        channels = {EMAIL}
        channels |= {SMS} if settings.sms_providers or settings.dev else set()
        channels |= {CALL} if settings.voice_providers or settings.dev else set()
        return cls(phone=PhoneKind(rules), channels=frozenset(channels))

    def reach(self, kind: str, value: str) -> tuple[str, ...]:
        """The channels that can send to this stored value here: what the number (or address)
        can receive, and this service can send."""
        return tuple(c for c in self.kind(kind).channels(value) if c in self.channels)

    def kind(self, name: str) -> Kind:
        return self.phone if name == PHONE else self.email

    def of_channel(self, channel: str) -> Kind:
        return self.kind(CHANNEL_KINDS[channel])

    def sign_in_name(self, raw: str) -> tuple[str, str]:
        """A typed sign-in name read as its kind: (`email`, address) or (`phone`, E.164)."""
        kind = kind_of_name(raw)
        return kind, self.kind(kind).read(raw)

    def for_channel(self, channel: str, raw: str) -> str:
        """A typed destination of `channel`, normalised, refused unless the channel can reach
        it (a text to a fixed-line number)."""
        kind = self.of_channel(channel)
        if channel not in self.channels:
            raise ChannelUnavailable(
                _("Texts can't be sent by this service.")
                if channel == SMS
                else _("This service can't make calls.")
            )
        value = kind.normalize(raw)
        if channel not in kind.channels(value):
            raise CannotText(
                _(
                    "{number} is a landline number: it can't receive texts. Ask for a call "
                    "instead, or enter a mobile number.",
                    number=kind.display(value),
                )
            )
        return value
