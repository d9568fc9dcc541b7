"""Phone numbers: how typed numbers are read, shown, masked, and which are refused as code
destinations (and why, in both languages)."""

from __future__ import annotations

import pytest

from honnin.destinations.kinds import Destinations, PhoneKind, kind_of_name, mask_for_channel
from honnin.destinations.phones import (
    CALL,
    SMS,
    CannotText,
    InvalidPhone,
    PhoneNotAccepted,
    PhoneRules,
    display_phone,
)
from honnin.errors import InvalidInput

JP = PhoneRules()


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("090-1234-5678", "+819012345678"),
        ("080 1234 5678", "+818012345678"),
        ("070-1234-5678", "+817012345678"),
        ("０９０－１２３４－５６７８", "+819012345678"),  # full-width, from a Japanese IME
        ("+81 90-1234-5678", "+819012345678"),
        ("+1 650 253 0000", "+16502530000"),
        ("+44 7400 123456", "+447400123456"),
    ],
)
def test_mobile_numbers_are_kept_in_e164_and_reached_by_text_and_call(
    typed: str, e164: str
) -> None:
    phone = JP.parse(typed)
    assert phone.e164 == e164
    assert phone.channels == (SMS, CALL)


def test_regions_are_reported_as_libphonenumber_does() -> None:
    assert JP.parse("090-1234-5678").region == "JP"
    assert JP.parse("+1 650 253 0000").region == "US"  # FIXED_LINE_OR_MOBILE counts as mobile
    assert JP.parse("+44 7400 123456").region == "GB"


@pytest.mark.parametrize("typed", ["03-1234-5678", "+44 20 7946 0958"])
def test_a_fixed_line_number_can_be_called_but_not_texted(typed: str) -> None:
    assert JP.parse(typed).channels == (CALL,)
    destinations = Destinations()
    assert destinations.for_channel(CALL, typed).startswith("+")
    with pytest.raises(CannotText) as refused:
        destinations.for_channel(SMS, typed)
    assert "landline" in refused.value.message.render("en")
    assert "固定電話" in refused.value.message.render("ja")


@pytest.mark.parametrize(
    ("typed", "reason", "ja"),
    [
        ("050-1234-5678", "voip", "IP電話"),
        ("0120-123-456", "toll_free", "フリーダイヤル"),
        ("0800-123-4567", "toll_free", "フリーダイヤル"),
        ("0990-123-456", "premium_rate", "有料の情報サービス"),
        ("0570-123-456", "uan", "ナビダイヤル"),
        ("020-1234-5678", "pager", "ポケベル"),
        ("+1 800 555 0100", "toll_free", "フリーダイヤル"),
        ("+1 900 555 0100", "premium_rate", "有料の情報サービス"),
        ("+44 909 879 0000", "premium_rate", "有料の情報サービス"),
        ("+44 70 1234 5678", "personal_number", "転送"),
        ("+44 76 2345 6789", "pager", "ポケベル"),
        ("+44 55 1234 5678", "uan", "ナビダイヤル"),
    ],
)
def test_numbers_that_cannot_take_a_code_are_refused_with_their_reason(
    typed: str, reason: str, ja: str
) -> None:
    with pytest.raises(PhoneNotAccepted) as refused:
        JP.parse(typed)
    assert refused.value.details == {"reason": reason}
    assert "mobile number" in refused.value.message.render("en")
    assert ja in refused.value.message.render("ja")
    assert "携帯電話の番号" in refused.value.message.render("ja")


def test_shared_cost_numbers_are_refused() -> None:
    with pytest.raises(PhoneNotAccepted) as refused:
        JP.parse("+34 901 12 34 56")  # Spain's 901
    assert refused.value.details == {"reason": "shared_cost"}


@pytest.mark.parametrize("typed", ["12345", "+81 90 1234 567", "090-1234-56789", "+999 1234"])
def test_numbers_that_do_not_exist_are_refused_as_invalid(typed: str) -> None:
    with pytest.raises(InvalidPhone) as refused:
        JP.parse(typed)
    assert typed in refused.value.message.render("en")
    assert "有効な電話番号ではありません" in refused.value.message.render("ja")


def test_empty_and_overlong_input_say_what_to_do() -> None:
    with pytest.raises(InvalidPhone, match="Enter a phone number"):
        JP.parse("  ")
    with pytest.raises(InvalidPhone, match="too long"):
        JP.parse("0" * 41)


def test_other_countries_can_be_shut_out_by_name() -> None:
    rules = PhoneRules("JP", frozenset({"JP", "US"}))
    assert rules.parse("+1 650 253 0000").region == "US"
    with pytest.raises(PhoneNotAccepted) as refused:
        rules.parse("+44 7400 123456")
    assert refused.value.details == {"reason": "country_not_allowed"}
    assert refused.value.message.render("en") == (
        "Phone numbers in United Kingdom can't be used here. Enter a number from one of these "
        "countries: Japan, United States."
    )
    assert refused.value.message.render("ja").startswith("イギリスの電話番号は")
    assert "日本、アメリカ合衆国" in refused.value.message.render("ja")


def test_the_default_region_decides_how_a_national_number_is_read() -> None:
    us = PhoneRules("US")
    assert us.parse("(650) 253-0000").e164 == "+16502530000"
    with pytest.raises(InvalidPhone):
        us.parse("090-1234-5678")  # not a US number


def test_numbers_are_shown_in_the_national_form_at_home_and_international_abroad() -> None:
    assert display_phone("+819012345678", "JP") == "090-1234-5678"
    assert display_phone("+16502530000", "JP") == "+1 650-253-0000"
    assert display_phone("+16502530000", "US") == "(650) 253-0000"
    assert PhoneKind(PhoneRules("JP")).display("+819012345678") == "090-1234-5678"


def test_a_number_is_masked_to_its_last_two_digits_whatever_its_length() -> None:
    assert mask_for_channel(SMS, "+819012345678") == "******78"
    assert mask_for_channel(CALL, "+16502530000") == "******00"


def test_a_phone_is_confirmed_by_its_last_four_digits() -> None:
    phone = PhoneKind()
    assert phone.confirms("5678", "+819012345678")
    assert phone.confirms("５６７８", "+819012345678")  # full-width
    assert not phone.confirms("5679", "+819012345678")
    with pytest.raises(InvalidInput, match="last 4 digits"):
        phone.confirms("678", "+819012345678")


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("emma@example.com", "email"),
        ("not an address", "email"),  # letters: meant as an address, told so as one
        ("090-1234-5678", "phone"),
        ("+1 650 253 0000", "phone"),
    ],
)
def test_a_sign_in_name_is_an_address_or_a_number(typed: str, kind: str) -> None:
    assert kind_of_name(typed) == kind


def test_sign_in_names_are_stored_in_one_form() -> None:
    destinations = Destinations()
    assert destinations.sign_in_name("０９０-1234-5678") == ("phone", "+819012345678")
    assert destinations.sign_in_name("Emma@Example.COM") == ("email", "emma@example.com")


@pytest.mark.parametrize("typed", ["+881612345678", "+870 773 111 632", "+882 16 12345678"])
def test_satellite_and_international_network_numbers_are_refused(typed: str) -> None:
    with pytest.raises(PhoneNotAccepted) as refused:
        JP.parse(typed)
    assert refused.value.details == {"reason": "non_geographic"}
    assert "衛星電話" in refused.value.message.render("ja")


def test_a_name_is_still_found_when_its_country_is_no_longer_allowed() -> None:
    narrowed = Destinations(phone=PhoneKind(PhoneRules("JP", frozenset({"US"}))))
    assert narrowed.sign_in_name("090-1234-5678") == ("phone", "+819012345678")
    assert narrowed.reach("phone", "+819012345678") == ()  # but no code goes to it
    with pytest.raises(PhoneNotAccepted):
        narrowed.for_channel(SMS, "090-1234-5678")
