"""Text messages and voice calls as composed for their channels: short texts with the WebOTP
line, and TwiML that reads the code digit by digit, twice, in the person's language."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from honnin.courier.composers import SmsComposer, VoiceComposer, spoken_digits
from honnin.courier.render import Brand

BRAND = Brand("Honnin", "accounts.example.com")
PARAMS = {"purpose": "sign_in", "purpose_text": "", "destination_hint": "******78",
          "ttl_minutes": 10, "code": "042917"}  # fmt: skip
NOW = datetime.now(UTC)


def text(locale: str, **params: object) -> str:
    outgoing = SmsComposer(BRAND).compose(
        template="code", locale=locale, params={**PARAMS, **params}, recipient="+819012345678",
        now=NOW,
    )  # fmt: skip
    assert outgoing.recipient == "+819012345678"
    assert isinstance(outgoing.body, str)
    return outgoing.body


@pytest.mark.parametrize(
    ("locale", "words"), [("en", "Don't share it with anyone"), ("ja", "誰にも教えないで")]
)
def test_a_text_names_the_service_gives_the_code_and_warns_against_sharing_it(
    locale: str, words: str
) -> None:
    body = text(locale)
    assert body.startswith("Honnin")
    assert "042917" in body.splitlines()[0]
    assert words in body


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_a_text_ends_with_the_webotp_line_of_the_service_host(locale: str) -> None:
    assert text(locale).splitlines()[-1] == "@accounts.example.com #042917"


def test_a_japanese_text_fits_one_sms_and_an_english_one_too() -> None:
    # one UCS-2 SMS holds 70 characters; one GSM 7-bit SMS 160
    assert len(text("ja")) <= 70
    assert len(text("en")) <= 160
    assert text("en").isascii()


def test_a_verification_text_names_the_application() -> None:
    assert "for Example Shop" in text("en", app_name="Example Shop")
    assert "Example Shop で使う" in text("ja", app_name="Example Shop")


def call(locale: str) -> ET.Element:
    outgoing = VoiceComposer(BRAND).compose(
        template="code", locale=locale, params=PARAMS, recipient="+81312345678", now=NOW
    )
    assert isinstance(outgoing.body, str)
    return ET.fromstring(outgoing.body)  # noqa: S314 - our own document


@pytest.mark.parametrize(("locale", "language"), [("en", "en-US"), ("ja", "ja-JP")])
def test_a_call_says_the_service_and_the_code_digit_by_digit_twice(
    locale: str, language: str
) -> None:
    response = call(locale)
    assert response.tag == "Response"
    says = [verb for verb in response if verb.tag == "Say"]
    assert {say.get("language") for say in says} == {language}
    spoken = [say.text or "" for say in says]
    assert "Honnin" in spoken[0]
    digits = spoken_digits("042917", locale)
    assert spoken.count(digits) == 2
    assert any(verb.tag == "Pause" for verb in response)
    assert "042917" not in "".join(spoken)  # never read as one number


def test_digits_are_read_one_by_one_with_pauses_between_them() -> None:
    assert spoken_digits("042917", "en") == "0, 4, 2, 9, 1, 7."
    assert spoken_digits("042917", "ja") == "ゼロ、よん、に、きゅう、いち、なな。"


def test_what_a_call_says_is_escaped_as_xml() -> None:
    outgoing = VoiceComposer(Brand("A&B <Accounts>")).compose(
        template="code", locale="en", params=PARAMS, recipient="+81312345678", now=NOW
    )
    assert isinstance(outgoing.body, str)
    say = ET.fromstring(outgoing.body)[0]  # noqa: S314
    assert say.text == "Hello. This is A&B <Accounts>."
