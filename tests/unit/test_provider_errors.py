"""What each provider's answers and reports mean for a message: accepted, temporary,
permanent, unknown; delivered, undelivered, failed; and the plain reason of each refusal."""

from __future__ import annotations

import uuid

import httpx
import pytest

from honnin.courier import reasons
from honnin.courier.channels.base import Outcome
from honnin.courier.channels.http import Callback, Forbidden
from honnin.courier.channels.kannel import KannelChannel, KannelTarget
from honnin.courier.channels.kannel import _result as kannel_result
from honnin.courier.channels.twilio import TwilioChannel, TwilioTarget, signature
from honnin.courier.channels.twilio import _result as twilio_result
from honnin.courier.providers import provider_urls, sender_ids
from honnin.courier.reports import Reported
from honnin.crypto import Keyring
from honnin.i18n import LOCALES

KEYRING = Keyring(b"k" * 40)
MESSAGE = str(uuid.uuid4())


def kannel() -> KannelChannel:
    target = KannelTarget.parse("kannel+http://u:p@127.0.0.1:13013/cgi-bin/sendsms?smsc=x")
    return KannelChannel(target, report_url=lambda m: f"https://h/api/hooks/sms/0/{m}",
                         keyring=KEYRING, sender_for=lambda _: None)  # fmt: skip


def dlr(status: int, reply: str = "", token: str | None = None) -> Callback:
    secret = KEYRING.digest("kannel-dlr", MESSAGE).hex() if token is None else token
    query = {"token": secret, "status": str(status), "reply": reply, "smsc_id": "77"}
    return Callback(MESSAGE, "", query, {}, {})


@pytest.mark.parametrize(
    ("status", "reply", "reported", "reason"),
    [
        (1, "", Reported.DELIVERED, None),
        (2, "id:1 sub:001 dlvrd:000 stat:UNDELIV err:001", Reported.UNDELIVERED, "unreachable"),
        (2, "id:1 sub:001 dlvrd:000 stat:EXPIRED err:000", Reported.UNDELIVERED, "expired"),
        (2, "id:1 sub:001 dlvrd:000 stat:REJECTD err:000", Reported.UNDELIVERED,
         "carrier_refused"),
        (4, "", Reported.PROGRESS, None),
        (8, "ACK/", Reported.PROGRESS, None),
        (16, "NACK/0x0000000b/Invalid Destination Address", Reported.FAILED, "invalid_number"),
        (16, "NACK/0x00000045/Submit failed", Reported.FAILED, "carrier_refused"),
    ],
)  # fmt: skip
async def test_kannel_delivery_reports(
    status: int, reply: str, reported: Reported, reason: str | None
) -> None:
    report = await kannel().read_report(dlr(status, reply))
    assert (report.reported, report.reason, report.code) == (reported, reason, status)
    assert report.reference == "77"
    assert str(report.message_id) == MESSAGE


@pytest.mark.parametrize("token", ["", "0" * 64, KEYRING.digest("kannel-dlr", "other").hex()])
async def test_a_kannel_report_needs_this_messages_secret(token: str) -> None:
    with pytest.raises(Forbidden):
        await kannel().read_report(dlr(1, token=token))


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(202, Outcome.ACCEPTED), (200, Outcome.ACCEPTED), (400, Outcome.PERMANENT),
     (403, Outcome.UNAVAILABLE), (503, Outcome.TEMPORARY), (500, Outcome.TEMPORARY)],
)  # fmt: skip
def test_what_kannels_answers_mean(status: int, outcome: Outcome) -> None:
    assert kannel_result(httpx.Response(status, text="0: Accepted")).outcome is outcome


def twilio_error(status: int, code: int) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": "m", "status": status})


@pytest.mark.parametrize(
    ("status", "code", "outcome", "reason"),
    [
        (400, 21211, Outcome.PERMANENT, "invalid_number"),
        (400, 21408, Outcome.PERMANENT, "country_not_enabled"),
        (400, 21610, Outcome.PERMANENT, "opted_out"),
        (400, 21614, Outcome.PERMANENT, "not_mobile"),
        (401, 20003, Outcome.UNAVAILABLE, None),  # our credentials: the message waits
        (429, 20429, Outcome.TEMPORARY, None),
        (503, 20503, Outcome.TEMPORARY, None),
    ],
)
def test_what_twilios_errors_mean(
    status: int, code: int, outcome: Outcome, reason: str | None
) -> None:
    result = twilio_result(twilio_error(status, code))
    assert (result.outcome, result.reason, result.reply_code) == (outcome, reason, code)


def test_a_twilio_message_taken_keeps_its_sid() -> None:
    result = twilio_result(httpx.Response(201, json={"sid": "SM" + "0" * 32, "status": "queued"}))
    assert result.outcome is Outcome.ACCEPTED
    assert result.reference == "SM" + "0" * 32


AUTH_TOKEN = "token"
TWILIO = TwilioTarget.parse(f"twilio+https://AC123:{AUTH_TOKEN}@api.twilio.com?from=%2B1500555")


def twilio(voice: bool = False) -> TwilioChannel:
    return TwilioChannel(TWILIO, voice=voice, report_url=lambda m: f"https://h/{m}",
                         sender_for=lambda _: None)  # fmt: skip


def callback(form: dict[str, str], token: str = AUTH_TOKEN) -> Callback:
    url = f"https://h/{MESSAGE}"
    return Callback(MESSAGE, url, {}, form, {"x-twilio-signature": signature(token, url, form)})


@pytest.mark.parametrize(
    ("code", "reason"),
    [(30003, "unreachable"), (30004, "blocked"), (30005, "unknown_number"), (30006, "landline"),
     (30007, "filtered"), (30008, "unknown")],
)  # fmt: skip
async def test_twilio_delivery_errors(code: int, reason: str) -> None:
    form = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": str(code)}
    report = await twilio().read_report(callback(form))
    assert (report.reported, report.reason, report.code) == (Reported.UNDELIVERED, reason, code)


@pytest.mark.parametrize(
    ("status", "reported", "reason"),
    [("ringing", Reported.PROGRESS, None), ("completed", Reported.DELIVERED, None),
     ("busy", Reported.UNDELIVERED, "busy"), ("no-answer", Reported.UNDELIVERED, "no_answer"),
     ("failed", Reported.FAILED, None)],
)  # fmt: skip
async def test_twilio_call_statuses(status: str, reported: Reported, reason: str | None) -> None:
    report = await twilio(voice=True).read_report(
        callback({"CallSid": "CA1", "CallStatus": status})
    )
    assert (report.reported, report.reason) == (reported, reason)


async def test_a_twilio_callback_needs_the_accounts_signature() -> None:
    form = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    with pytest.raises(Forbidden):
        await twilio().read_report(callback(form, token="another"))
    tampered = callback(form)
    with pytest.raises(Forbidden):
        await twilio().read_report(
            Callback(MESSAGE, tampered.url, {}, {**form, "MessageStatus": "failed"},
                     tampered.headers)
        )  # fmt: skip


def test_twilios_signature_matches_its_documented_example() -> None:
    # twilio-python's tests/unit/test_request_validator.py, token 12345
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}  # fmt: skip
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_every_reason_has_its_own_words_in_both_languages() -> None:
    keys = {v for k, v in vars(reasons).items() if k.isupper() and isinstance(v, str)}
    assert keys == set(reasons.REASON_TEXTS)
    for locale in LOCALES:
        texts = [reasons.reason_text(key).render(locale) for key in sorted(keys)]
        assert len(set(texts)) == len(keys), locale  # each says something of its own
    assert reasons.reason_text("no such reason") == reasons.REASON_TEXTS[reasons.UNKNOWN]


def test_provider_urls_are_checked_and_say_how_to_write_them() -> None:
    both = "kannel+http://u:p@h:13013/cgi-bin/sendsms?smsc=a, twilio+https://AC:t@api.twilio.com"
    assert provider_urls(both) == [
        "kannel+http://u:p@h:13013/cgi-bin/sendsms?smsc=a",
        "twilio+https://AC:t@api.twilio.com",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="starts with kannel"):
        provider_urls("https://api.twilio.com")
    with pytest.raises(ValueError, match="loopback"):
        provider_urls("twilio+http://AC:t@api.twilio.com")
    with pytest.raises(ValueError, match="USER:PASS"):
        provider_urls("kannel+http://h:13013/cgi-bin/sendsms")


def test_sender_ids_are_per_country() -> None:
    assert sender_ids("JP=+815012345678, us=+15551234567") == {
        "JP": "+815012345678", "US": "+15551234567"
    }  # fmt: skip
    with pytest.raises(ValueError, match="JP=\\+815012345678"):
        sender_ids("+815012345678")
