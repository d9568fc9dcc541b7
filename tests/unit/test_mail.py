from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from honnin.courier import mime, render
from honnin.courier.mail import EmailComposer
from honnin.courier.render import Brand, render_email

BRAND = Brand("Example")
PARAMS = {"purpose": "sign_in", "purpose_text": "signing in",
          "destination_hint": "em*****@example.com", "ttl_minutes": 10, "code": "042917",
          "account_hint": "em*****@example.com"}  # fmt: skip


def test_every_code_email_template_renders_in_both_languages() -> None:
    for locale in ("en", "ja"):
        rendered = render_email("code", locale, PARAMS, BRAND)
        assert "042917" in rendered.text
        assert "042917" in rendered.html
        assert "\n" not in rendered.subject


def test_the_account_is_named_by_its_masked_hint() -> None:
    text = render_email("code", "en", PARAMS, BRAND).text
    assert "for the Example account em*****@example.com" in text
    assert "This code is for signing in." in text


def test_messages_that_differ_only_in_their_code_are_rendered_once_and_the_code_is_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renders: list[str] = []
    real = render._render

    def counted(template: str, locale: str, params: dict[str, object], brand: Brand) -> object:
        renders.append(str(params["code"]))
        return real(template, locale, params, brand)

    monkeypatch.setattr(render, "_render", counted)
    render.render_shape.cache_clear()
    first = render_email("code", "ja", {**PARAMS, "code": "111111"}, BRAND)
    second = render_email("code", "ja", {**PARAMS, "code": "222222"}, BRAND)
    other_hint = render_email("code", "ja", {**PARAMS, "account_hint": "a******@x.jp"}, BRAND)
    monkeypatch.undo()

    assert len(renders) == 2  # once for the shared shape, once for the other hint
    assert set(renders) == {render._CODE_STAND_IN}  # the codes themselves are never rendered
    assert second == render_email("code", "ja", {**PARAMS, "code": "222222"}, BRAND)
    assert (first.text.replace("111111", "222222"), first.html.replace("111111", "222222")) == (
        second.text,
        second.html,
    )
    assert second == render._render("code", "ja", {**PARAMS, "code": "222222"}, BRAND)
    assert "a******@x.jp" in other_hint.text


COMPOSER = EmailComposer(BRAND, "Example account team <noreply@example.com>", None)


def parse(data: bytes | str) -> EmailMessage:
    assert isinstance(data, bytes)
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_the_mime_is_clean_and_parses_back(locale: str) -> None:
    outgoing = COMPOSER.compose(
        template="code", locale=locale, params=PARAMS, recipient="emma@example.com",
        now=datetime.now(UTC),
    )  # fmt: skip
    assert isinstance(outgoing.body, bytes)
    lines = outgoing.body.split(b"\r\n")
    assert max(len(line) for line in lines) <= 78
    assert b"\n" not in outgoing.body.replace(b"\r\n", b"")
    message = parse(outgoing.body)
    assert message.defects == []
    assert message["Message-ID"] == outgoing.reference
    assert message["From"].addresses[0].display_name == "Example account team"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(not part.defects for part in message.iter_parts())
    text = message.get_body(("plain",))
    assert text is not None
    assert "042917" in text.get_content()
    assert outgoing.metadata["options"] == ()


def test_a_non_ascii_recipient_goes_with_smtputf8() -> None:
    outgoing = COMPOSER.compose(
        template="code", locale="ja", params=PARAMS, recipient="たろう@例え.jp",
        now=datetime.now(UTC),
    )  # fmt: skip
    assert outgoing.metadata["options"] == ("SMTPUTF8",)
    assert outgoing.recipient == "たろう@xn--r8jz45g.jp"
    assert parse(outgoing.body)["To"] == "たろう@例え.jp"


def test_an_idn_domain_is_written_in_ascii_without_smtputf8() -> None:
    outgoing = COMPOSER.compose(
        template="code", locale="en", params=PARAMS, recipient="user@straße.de",
        now=datetime.now(UTC),
    )  # fmt: skip
    assert outgoing.metadata["options"] == ()
    assert outgoing.recipient == "user@xn--strae-oqa.de"
    assert b"To: user@xn--strae-oqa.de\r\n" in outgoing.body


def test_headers_with_non_ascii_text_are_encoded_words() -> None:
    subject = mime.header_text(
        "Example のセキュリティ コード、とても長い件名でも正しく折り返されます"
    )
    assert subject.isascii()
    assert all(len(line) < 78 for line in subject.split("\r\n"))
    assert mime.mailbox('Team "A", ops', "a@example.com") == '"Team \\"A\\", ops" <a@example.com>'
