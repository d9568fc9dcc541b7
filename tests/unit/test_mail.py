from __future__ import annotations

from datetime import UTC, datetime

from honnin.courier.mail import compose
from honnin.courier.render import Brand, render_email

BRAND = Brand("Example", "noreply@example.com", "https://example.com")
PARAMS = {"purpose": "sign_in", "destination_hint": "em*****@example.com", "ttl_minutes": 10,
          "code": "042917", "account_hint": "em*****@example.com"}  # fmt: skip


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


def test_a_non_ascii_recipient_gets_an_smtputf8_message() -> None:
    rendered = render_email("code", "ja", PARAMS, BRAND)
    message, message_id = compose(
        rendered,
        mail_from="Example <noreply@example.com>",
        recipient="たろう@example.jp",
        locale="ja",
        now=datetime.now(UTC),
    )
    assert message["To"] == "たろう@example.jp"
    assert message_id.endswith("@example.com>")
    assert len(f"Message-ID: {message_id}") < 78  # never folded
