"""Composers: one per channel, each turning an outbox row into what its channel sends.

- `email`: MIME, CSS inlined, DKIM-signed (`honnin.courier.mail.EmailComposer`);
- `sms`: a short text ending in the WebOTP line `@host #code`, so that phones and browsers
  offer to fill the code in — on the service's own pages only;
- `call`: a TwiML document that says the service's name and the code, digit by digit with
  pauses, twice, in ja-JP or en-US (the `<Say>` of a Twilio-compatible voice API).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from xml.sax.saxutils import escape, quoteattr

from honnin.courier.channels.base import Outgoing
from honnin.courier.render import Brand, render_text

SAY_LANGUAGES = {"ja": "ja-JP", "en": "en-US"}
PAUSE = "[pause]"  # a line of a voice script that is a pause


class Composer(Protocol):
    def compose(
        self,
        *,
        template: str,
        locale: str,
        params: dict[str, Any],
        recipient: str,
        now: datetime,
    ) -> Outgoing: ...


class SmsComposer:
    def __init__(self, brand: Brand) -> None:
        self.brand = brand

    def compose(
        self,
        *,
        template: str,
        locale: str,
        params: dict[str, Any],
        recipient: str,
        now: datetime,
    ) -> Outgoing:
        text = render_text(template, "sms", locale, params, self.brand)
        code = params.get("code")
        if code:  # WebOTP (and iOS/Android autofill): the last line, origin-bound
            text = f"{text}\n@{self.brand.host} #{code}"
        return Outgoing(recipient, text, {"locale": locale})


# Japanese digits as words, as phone numbers are read aloud: a synthetic voice reading the
# figures may say しち for 7 or し for 4, which sound like いち and しち
_JA_DIGITS = ("ゼロ", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう")


def spoken_digits(code: str, locale: str) -> str:
    """The code as it is read out: digit by digit, a short pause (a comma) between digits."""
    if locale == "ja":
        return "、".join(_JA_DIGITS[int(digit)] for digit in code) + "。"
    return ", ".join(code) + "."


class VoiceComposer:
    def __init__(self, brand: Brand) -> None:
        self.brand = brand

    def compose(
        self,
        *,
        template: str,
        locale: str,
        params: dict[str, Any],
        recipient: str,
        now: datetime,
    ) -> Outgoing:
        code = str(params.get("code") or "")
        script = render_text(
            template, "voice", locale, {**params, "spoken_code": spoken_digits(code, locale)},
            self.brand,
        )  # fmt: skip
        return Outgoing(recipient, twiml(script, locale), {"locale": locale, "script": script})


def twiml(script: str, locale: str) -> str:
    """A voice script as TwiML: each line a `<Say>`, `[pause]` a one-second `<Pause>`."""
    language = quoteattr(SAY_LANGUAGES.get(locale, "en-US"))
    verbs = [
        '<Pause length="1"/>' if line == PAUSE else f"<Say language={language}>{escape(line)}</Say>"
        for line in script.splitlines()
    ]
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{"".join(verbs)}</Response>'
