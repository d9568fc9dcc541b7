"""Phone numbers: parsed with libphonenumber, kept in E.164, refused where a code cannot go.

A code is sent to a number only if it can reach a person's own phone: mobile numbers (texts
and calls), and fixed-line numbers (calls only). Every other type is refused with its reason:
VoIP numbers (Japan's 050 numbers among them) are the cheap throwaway numbers of SMS-pumping
fraud and are often unable to receive texts; premium-rate, shared-cost and UAN numbers cost
the sender money (the toll fraud itself); toll-free, pager and personal numbers do not reach
a phone of the person's own. `FIXED_LINE_OR_MOBILE` (the US, among others, where the two
cannot be told apart) counts as mobile.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import phonenumbers
from babel import Locale as BabelLocale
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from honnin.errors import InvalidInput
from honnin.i18n import LazyText, _

SMS = "sms"
CALL = "call"
MAX_LENGTH = 40  # typed characters; E.164 itself is at most 15 digits and a "+"
NON_GEOGRAPHIC = "001"  # libphonenumber's region of +870, +881, +882… (satellite, networks)


class InvalidPhone(InvalidInput):
    """Not a phone number, or not one that exists in its region."""

    code = "invalid_phone"


class PhoneNotAccepted(InvalidInput):
    """A real number of a type or country that codes are never sent to; `reason` says which."""

    code = "phone_not_accepted"


class CannotText(InvalidInput):
    """A fixed-line number asked to receive a text: it can only be called."""

    code = "phone_cannot_text"


@dataclass(frozen=True)
class CountryName:
    """An ISO 3166 region's name, in the reader's language when it is shown."""

    region: str

    def render(self, locale: str = "en") -> str:
        return str(BabelLocale.parse(locale).territories.get(self.region, self.region))


# the types a code may go to, and the channels that reach each
_REACHABLE: dict[int, tuple[str, ...]] = {
    PhoneNumberType.MOBILE: (SMS, CALL),
    PhoneNumberType.FIXED_LINE_OR_MOBILE: (SMS, CALL),
    PhoneNumberType.FIXED_LINE: (CALL,),
}


def _refusal(number_type: int) -> tuple[str, LazyText]:
    """The reason a number of this type is refused, for API clients and for people."""
    refusals: dict[int, tuple[str, LazyText]] = {
        PhoneNumberType.VOIP: (
            "voip",
            _(
                "Security codes can't be sent to internet phone (VoIP) numbers, such as "
                "numbers starting with 050 in Japan. Enter a mobile number."
            ),
        ),
        PhoneNumberType.PREMIUM_RATE: (
            "premium_rate",
            _("Security codes can't be sent to premium-rate numbers. Enter a mobile number."),
        ),
        PhoneNumberType.TOLL_FREE: (
            "toll_free",
            _(
                "Security codes can't be sent to toll-free numbers, such as numbers starting "
                "with 0120 or 0800 in Japan. Enter a mobile number."
            ),
        ),
        PhoneNumberType.SHARED_COST: (
            "shared_cost",
            _("Security codes can't be sent to shared-cost numbers. Enter a mobile number."),
        ),
        PhoneNumberType.UAN: (
            "uan",
            _(
                "Security codes can't be sent to company switchboard numbers, such as numbers "
                "starting with 0570 in Japan. Enter a mobile number."
            ),
        ),
        PhoneNumberType.PAGER: (
            "pager",
            _("Security codes can't be sent to pager numbers. Enter a mobile number."),
        ),
        PhoneNumberType.PERSONAL_NUMBER: (
            "personal_number",
            _(
                "Security codes can't be sent to personal forwarding numbers. Enter the "
                "mobile number they forward to."
            ),
        ),
    }
    return refusals.get(
        number_type,
        (
            "unknown_type",
            _("Security codes can't be sent to this kind of number. Enter a mobile number."),
        ),
    )


@dataclass(frozen=True)
class Phone:
    """A number that codes may be sent to."""

    e164: str
    region: str  # ISO 3166, as libphonenumber reports the number's region
    channels: tuple[str, ...]  # (sms, call) or (call,) for a fixed line

    @property
    def can_text(self) -> bool:
        return SMS in self.channels


@dataclass(frozen=True)
class PhoneRules:
    """How typed numbers are read and which are accepted (`HONNIN_PHONE_DEFAULT_REGION`,
    `HONNIN_PHONE_ALLOWED_COUNTRIES`)."""

    default_region: str = "JP"
    allowed_countries: frozenset[str] = frozenset()  # empty: every country

    def read(self, raw: str) -> str:
        """A typed number in E.164 if it exists, whatever its type and country: how a sign-in
        name is looked up (a number accepted when it was added stays one's name)."""
        return phonenumbers.format_number(self._number(raw), PhoneNumberFormat.E164)

    def _number(self, raw: str) -> phonenumbers.PhoneNumber:
        typed = unicodedata.normalize("NFKC", raw).strip()
        if not typed:
            raise InvalidPhone(_("Enter a phone number."))
        if len(typed) > MAX_LENGTH:
            raise InvalidPhone(_("This phone number is too long."))
        try:
            number = phonenumbers.parse(typed, self.default_region)
        except NumberParseException:
            raise _invalid(typed) from None
        if not phonenumbers.is_valid_number(number):
            raise _invalid(typed)
        return number

    def parse(self, raw: str) -> Phone:
        """The number a person typed (`090-1234-5678`, `+1 650 253 0000`, full-width digits),
        or the error that says why it cannot receive codes."""
        number = self._number(raw)
        region = phonenumbers.region_code_for_number(number) or ""
        if region in ("", NON_GEOGRAPHIC):
            raise PhoneNotAccepted(
                _(
                    "Security codes can't be sent to satellite phones or numbers of "
                    "international networks. Enter a mobile number."
                ),
                reason="non_geographic",
            )
        if self.allowed_countries and region not in self.allowed_countries:
            raise PhoneNotAccepted(
                _(
                    "Phone numbers in {country} can't be used here. Enter a number from one "
                    "of these countries: {countries}.",
                    country=CountryName(region),
                    countries=CountryList(sorted(self.allowed_countries)),
                ),
                reason="country_not_allowed",
            )
        number_type = phonenumbers.number_type(number)
        channels = _REACHABLE.get(number_type)
        if channels is None:
            reason, message = _refusal(number_type)
            raise PhoneNotAccepted(message, reason=reason)
        return Phone(phonenumbers.format_number(number, PhoneNumberFormat.E164), region, channels)

    def display(self, e164: str) -> str:
        """A stored number as people write it: national form in the default region
        (`090-1234-5678`), international elsewhere (`+1 650-253-0000`)."""
        return display_phone(e164, self.default_region)


@dataclass(frozen=True)
class CountryList:
    """Region names joined, in the reader's language."""

    regions: list[str]

    def render(self, locale: str = "en") -> str:
        separator = "、" if locale == "ja" else ", "
        return separator.join(CountryName(region).render(locale) for region in self.regions)


def _invalid(typed: str) -> InvalidPhone:
    return InvalidPhone(
        _(
            "“{number}” is not a valid phone number. Check it and try again; a number from "
            "another country needs its country code (e.g. +1 for the US).",
            number=typed,
        )
    )


PREFIX_DIGITS = 4
"""A number's prefix: its country code and the next four digits (`+819012`…: `+81` `9012`)."""


@dataclass(frozen=True)
class Area:
    """Where a number is, as the SMS-pumping limits count sends."""

    prefix: str  # +819012
    country: str  # JP


def area_of(e164: str) -> Area:
    number = phonenumbers.parse(e164, None)
    national = str(number.national_number)
    prefix = f"+{number.country_code}{national[:PREFIX_DIGITS]}"
    return Area(prefix, phonenumbers.region_code_for_number(number) or "")


def country_code_of(region: str) -> int:
    """A country's calling code (`JP` → 81)."""
    return int(phonenumbers.country_code_for_region(region))


def region_of(e164: str) -> str:
    """The ISO 3166 region of a stored number ("" if it has none)."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""
    except NumberParseException:
        return ""


@cache
def display_phone(e164: str, region: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    own = phonenumbers.region_code_for_number(number) == region
    return phonenumbers.format_number(
        number, PhoneNumberFormat.NATIONAL if own else PhoneNumberFormat.INTERNATIONAL
    )


def unknown_regions(codes: Iterable[str]) -> list[str]:
    """The codes among `codes` that libphonenumber does not know (for settings' errors)."""
    return [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
