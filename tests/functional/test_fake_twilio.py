"""The fake Twilio (tests/support/twilio.py) answers and calls back as Twilio documents: 401 and
20003 without the right Basic credentials, 400 and Twilio's error body for what Twilio refuses,
201 and the resource, then status callbacks signed so that a check written from the "Secure
webhooks" page (and the helper libraries' own test vectors) accepts them."""

from __future__ import annotations

import base64
import hmac
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.support.twilio import FakeTwilio, compute_signature, segments

TO = "+15558675310"
FROM = "+15017122661"
AUTH_ERROR = {
    "code": 20003,
    "message": "Authenticate",
    "more_info": "https://www.twilio.com/docs/errors/20003",
    "status": 401,
}
MESSAGE_CALLBACK_PARAMS = {
    "AccountSid",
    "ApiVersion",
    "From",
    "MessageSid",
    "MessageStatus",
    "SmsSid",
    "SmsStatus",
    "To",
}
TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    "<Response>"
    '<Say language="ja-JP" voice="Polly.Mizuki">確認コードは</Say>'
    '<Pause length="1"/>'
    '<Say language="ja-JP" voice="Polly.Mizuki">'
    '<prosody rate="slow"><say-as interpret-as="digits">482913</say-as></prosody></Say>'
    "<Gather><Say>Press 1 to hear it again.</Say></Gather>"
    "</Response>"
)


def expected_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Written from the "Secure webhooks" page, apart from the fake's: the full URL, then each
    POST parameter's name and value, sorted by name; HMAC-SHA1 keyed with the Auth Token;
    Base64."""
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), "sha1").digest()).decode()


@dataclass
class Received:
    url: str
    signature: str | None
    params: list[tuple[str, str]]
    valid: bool


class Receiver:
    """A product's status callback endpoint in miniature: it rebuilds the URL it was called at
    from Host and the request line, checks X-Twilio-Signature over it and every parameter
    (blank ones included), and answers 204, or 403 when the signature does not match."""

    def __init__(self, auth_token: str) -> None:
        self.auth_token = auth_token
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
                url = f"http://{self.headers['Host']}{self.path}"
                signature = self.headers.get("X-Twilio-Signature")
                valid = signature is not None and hmac.compare_digest(
                    signature, expected_signature(receiver.auth_token, url, params)
                )
                receiver.received.append(Received(url, signature, params, valid))
                self.send_response(204 if valid else 403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-receiver"
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(callback_delay=0.01) as fake:
        yield fake
    assert fake.errors == []


@pytest.fixture
def receiver(twilio: FakeTwilio) -> Iterator[Receiver]:
    server = Receiver(twilio.auth_token)
    yield server
    server.stop()


@pytest.fixture
async def api(twilio: FakeTwilio) -> AsyncIterator[httpx.AsyncClient]:
    base = f"{twilio.base_url}/2010-04-01/Accounts/{twilio.account_sid}/"
    auth = (twilio.account_sid, twilio.auth_token)
    async with httpx.AsyncClient(base_url=base, auth=auth) as client:
        yield client


def test_signatures_match_the_helper_libraries_test_vectors() -> None:
    """twilio-python's tests/unit/test_request_validator.py: token 12345, its URL and params."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
        "Caller": "+14158675309",
    }
    assert compute_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    https_443 = url.replace(".com", ".com:443")
    assert compute_signature("12345", https_443, params) == "kvajT1Ptam85bY51eRf/AJRuM3w="
    http_80 = url.replace("https", "http").replace(".com", ".com:80")
    assert compute_signature("12345", http_80, params) == "0ZXoZLH/DfblKGATFgpif+LLRf4="
    http_1234 = url.replace("https", "http").replace(".com", ".com:1234")
    assert compute_signature("12345", http_1234, params) == "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert compute_signature("12345", url, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert compute_signature("12345", url, [*repeated, ("Digits", "1234")]) == (
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    )
    assert FakeTwilio(auth_token="12345").sign(url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_credentials_look_like_twilios() -> None:
    fake = FakeTwilio()
    assert re.fullmatch(r"AC[0-9a-f]{32}", fake.account_sid)
    assert re.fullmatch(r"[0-9a-f]{32}", fake.auth_token)


@pytest.mark.parametrize(
    "auth",
    [None, "wrong token", "wrong account", "not basic"],
)
@pytest.mark.parametrize("resource", ["Messages.json", "Calls.json"])
async def test_without_the_right_credentials_401_and_20003(
    twilio: FakeTwilio, auth: str | None, resource: str
) -> None:
    headers = {}
    if auth == "wrong token":
        headers["Authorization"] = httpx.BasicAuth(twilio.account_sid, "0" * 32)._auth_header
    elif auth == "wrong account":
        headers["Authorization"] = httpx.BasicAuth("AC" + "0" * 32, twilio.auth_token)._auth_header
    elif auth == "not basic":
        headers["Authorization"] = f"Bearer {twilio.auth_token}"
    url = f"{twilio.base_url}/2010-04-01/Accounts/{twilio.account_sid}/{resource}"
    data = {"To": TO, "From": FROM, "Body": "hi", "Twiml": "<Response/>"}
    async with httpx.AsyncClient() as client:
        response = await client.post(url, data=data, headers=headers)

    assert response.status_code == 401
    assert response.json() == AUTH_ERROR
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'
    assert twilio.messages == []
    assert twilio.calls == []
    assert [(r.status, r.param("To")) for r in twilio.requests] == [(401, TO)]


async def test_the_account_in_the_path_must_be_the_credentials_account(twilio: FakeTwilio) -> None:
    url = f"{twilio.base_url}/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    auth = (twilio.account_sid, twilio.auth_token)
    async with httpx.AsyncClient(auth=auth) as client:
        response = await client.post(url, data={"To": TO, "From": FROM, "Body": "hi"})
    assert response.status_code == 401
    assert response.json() == AUTH_ERROR


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        ({"From": FROM, "Body": "hi"}, 21604, "A 'To' phone number is required."),
        ({"To": TO, "Body": "hi"}, 21603, "A 'From' phone number is required."),
        ({"To": TO, "From": FROM}, 21602, "Message body is required."),
        (
            {"To": "5558675310", "From": FROM, "Body": "hi"},
            21211,
            "The 'To' number 5558675310 is not a valid phone number.",
        ),
        (
            {"To": "+1 555 867 5310", "From": FROM, "Body": "hi"},
            21211,
            "The 'To' number +1 555 867 5310 is not a valid phone number.",
        ),
        (
            {"To": TO, "From": FROM, "Body": "hi", "StatusCallback": "http://my_host/s"},
            21609,
            "The StatusCallback URL http://my_host/s is not a valid URL.",
        ),
    ],
)
async def test_a_message_twilio_would_not_take_gets_400_and_its_error(
    twilio: FakeTwilio,
    api: httpx.AsyncClient,
    data: dict[str, str],
    code: int,
    message: str,
) -> None:
    response = await api.post("Messages.json", data=data)

    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    assert twilio.messages == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (21211, f"The 'To' number {TO} is not a valid phone number."),
        (
            21408,
            "Permission to send an SMS has not been enabled for the region indicated by the "
            f"'To' number: {TO}.",
        ),
        (21610, "Attempt to send to unsubscribed recipient"),
        (21614, "'To' number is not a valid mobile number"),
    ],
)
async def test_refused_numbers(
    twilio: FakeTwilio, api: httpx.AsyncClient, code: int, message: str
) -> None:
    twilio.refuse(TO, code)

    response = await api.post("Messages.json", data={"To": TO, "From": FROM, "Body": "hi"})
    other = await api.post("Messages.json", data={"To": "+15558675311", "From": FROM, "Body": "hi"})

    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    assert other.status_code == 201
    assert [m.to for m in twilio.messages] == ["+15558675311"]
    assert [r.status for r in twilio.requests] == [400, 201]


async def test_a_message_is_created_then_called_back_signed(
    twilio: FakeTwilio, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    callback_url = receiver.url("/twilio/messages/status?attempt=7&kind=sms")
    data = {"To": TO, "From": FROM, "Body": "Your code: 482913", "StatusCallback": callback_url}

    response = await api.post("Messages.json", data=data)

    assert response.status_code == 201
    resource = response.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", resource["sid"])
    assert resource | {"sid": "", "date_created": "", "date_updated": "", "uri": ""} == {
        "account_sid": twilio.account_sid,
        "api_version": "2010-04-01",
        "body": "Your code: 482913",
        "date_created": "",
        "date_sent": None,
        "date_updated": "",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": FROM,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": "",
        "status": "queued",
        "subresource_uris": resource["subresource_uris"],
        "to": TO,
        "uri": "",
    }
    assert parsedate_to_datetime(resource["date_created"]).utcoffset() is not None
    assert resource["date_created"].endswith(" +0000")
    sid = resource["sid"]
    assert resource["uri"] == f"/2010-04-01/Accounts/{twilio.account_sid}/Messages/{sid}.json"

    message = await twilio.wait_for_message(TO)
    callbacks = await twilio.wait_for_callbacks(message, 2)
    await twilio.wait_for_status(message, "delivered")

    # no callback for the initial "queued" (Outbound Message Status in Status Callbacks)
    assert message.statuses == ["queued", "sent", "delivered"]
    assert [cb["MessageStatus"] for cb in callbacks] == ["sent", "delivered"]
    assert [cb.status for cb in callbacks] == [204, 204]  # what the receiver answered
    assert all(r.valid for r in receiver.received)
    assert [r.url for r in receiver.received] == [callback_url, callback_url]
    sent, delivered = (dict(r.params) for r in receiver.received)
    assert set(sent) == MESSAGE_CALLBACK_PARAMS
    assert set(delivered) == MESSAGE_CALLBACK_PARAMS | {"RawDlrDoneDate"}
    assert sent | {"MessageStatus": "", "SmsStatus": ""} == {
        "AccountSid": twilio.account_sid,
        "ApiVersion": "2010-04-01",
        "From": FROM,
        "MessageSid": sid,
        "MessageStatus": "",
        "SmsSid": sid,
        "SmsStatus": "",
        "To": TO,
    }
    assert delivered["SmsStatus"] == delivered["MessageStatus"] == "delivered"
    assert callbacks[0].headers["User-Agent"] == "TwilioProxy/1.1"

    fetched = await api.get(f"Messages/{sid}.json")
    assert fetched.json()["status"] == "delivered"
    assert fetched.json()["date_sent"] is not None


@pytest.mark.parametrize(
    ("status", "error_code", "expected"),
    [
        ("undelivered", 30007, ["sent", "undelivered"]),
        ("undelivered", 30003, ["sent", "undelivered"]),
        ("failed", 30008, ["failed"]),
        ("sent", None, ["sent"]),
    ],
)
async def test_what_becomes_of_a_message_is_called_back_with_its_error_code(
    twilio: FakeTwilio,
    api: httpx.AsyncClient,
    receiver: Receiver,
    status: Any,
    error_code: int | None,
    expected: list[str],
) -> None:
    twilio.outcome(TO, status, error_code=error_code)
    data = {"To": TO, "From": FROM, "Body": "482913", "StatusCallback": receiver.url("/s")}

    sid = (await api.post("Messages.json", data=data)).json()["sid"]

    message = await twilio.wait_for_message(TO)
    callbacks = await twilio.wait_for_callbacks(message, len(expected))
    twilio.drain()
    assert [cb["MessageStatus"] for cb in callbacks] == expected
    assert len(message.callbacks) == len(expected)
    assert [cb.get("ErrorCode") for cb in callbacks][-1] == (
        None if error_code is None else str(error_code)
    )
    assert all(cb.get("ErrorCode") is None for cb in callbacks[:-1])
    assert all(r.valid for r in receiver.received)
    fetched = (await api.get(f"Messages/{sid}.json")).json()
    assert (fetched["status"], fetched["error_code"]) == (expected[-1], error_code)


async def test_a_call_records_its_twiml_and_what_it_says(
    twilio: FakeTwilio, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    callback_url = receiver.url("/twilio/calls/status")
    data = {
        "To": "+81312345678",
        "From": FROM,
        "Twiml": TWIML,
        "StatusCallback": callback_url,
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
    }

    response = await api.post("Calls.json", data=data)

    assert response.status_code == 201
    resource = response.json()
    assert re.fullmatch(r"CA[0-9a-f]{32}", resource["sid"])
    assert resource["status"] == "queued"
    assert (resource["to"], resource["from"], resource["direction"]) == (
        "+81312345678",
        FROM,
        "outbound-api",
    )
    assert (resource["duration"], resource["start_time"], resource["price"]) == (None, None, None)

    call = await twilio.wait_for_call("+81312345678")
    callbacks = await twilio.wait_for_callbacks(call, 4)

    assert call.twiml == TWIML
    assert twilio.spoken(call) == ["確認コードは", "482913", "Press 1 to hear it again."]
    assert twilio.spoken("+81312345678") == twilio.spoken(call.sid) == call.spoken
    assert [(say.language, say.voice) for say in call.says] == [
        ("ja-JP", "Polly.Mizuki"),
        ("ja-JP", "Polly.Mizuki"),
        (None, None),
    ]
    assert [pause.length for pause in call.pauses] == [1]
    assert [verb.name for verb in call.verbs] == ["Say", "Pause", "Say", "Gather"]

    assert [(cb["CallStatus"], cb["SequenceNumber"]) for cb in callbacks] == [
        ("initiated", "0"),
        ("ringing", "1"),
        ("in-progress", "2"),
        ("completed", "3"),
    ]
    assert {cb["CallbackSource"] for cb in callbacks} == {"call-progress-events"}
    assert {cb["Direction"] for cb in callbacks} == {"outbound-api"}
    assert {cb["CallSid"] for cb in callbacks} == {call.sid}
    assert all(parsedate_to_datetime(cb["Timestamp"]) for cb in callbacks)
    assert [cb.get("CallDuration") for cb in callbacks[:3]] == [None, None, None]
    assert int(callbacks[3]["CallDuration"]) >= 1
    assert callbacks[3]["Duration"] == "1"  # minutes, rounded up
    assert [cb.status for cb in callbacks] == [204, 204, 204, 204]
    assert all(r.valid for r in receiver.received)
    assert any(value == "" for _, value in receiver.received[0].params)  # blank ones are signed
    fetched = (await api.get(f"Calls/{call.sid}.json")).json()
    assert fetched["status"] == "completed"
    assert fetched["duration"] == callbacks[3]["CallDuration"]


async def test_a_busy_call_reports_only_its_end_unless_asked(
    twilio: FakeTwilio, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    twilio.call_outcome(TO, "busy")
    data = {"To": TO, "From": FROM, "Twiml": TWIML, "StatusCallback": receiver.url("/c")}

    await api.post("Calls.json", data=data)

    call = await twilio.wait_for_call(TO)
    await twilio.wait_for_status(call, "busy")
    twilio.drain()
    assert call.statuses == ["queued", "initiated", "ringing", "busy"]
    assert [
        (cb["CallStatus"], cb["SequenceNumber"], cb["CallDuration"]) for cb in call.callbacks
    ] == [("busy", "0", "0")]


async def test_calls_twilio_would_not_place(twilio: FakeTwilio, api: httpx.AsyncClient) -> None:
    twilio.refuse("+15558675311", 21211)
    without_twiml = await api.post("Calls.json", data={"To": TO, "From": FROM})
    refused = await api.post(
        "Calls.json", data={"To": "+15558675311", "From": FROM, "Twiml": TWIML}
    )

    assert (without_twiml.status_code, without_twiml.json()["code"]) == (400, 21205)
    assert (refused.status_code, refused.json()["code"]) == (400, 21211)
    assert twilio.calls == []


async def test_forged_tampered_and_replayed_callbacks(
    twilio: FakeTwilio, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    url = receiver.url("/s?attempt=1")
    data = {"To": TO, "From": FROM, "Body": "482913", "StatusCallback": url}
    await api.post("Messages.json", data=data)
    message = await twilio.wait_for_message(TO)
    genuine = (await twilio.wait_for_callbacks(message, 2))[1]
    params = twilio.message_callback_params(message, "delivered")

    forged = await twilio.apost_callback(url, params, "bad")
    unsigned = await twilio.apost_callback(url, params, "missing")
    other_url = await twilio.apost_callback(url, params, signed_url=receiver.url("/s?attempt=2"))
    signature = twilio.sign(url, params)
    tampered = [(k, "undelivered" if k == "MessageStatus" else v) for k, v in params]
    altered = await twilio.apost_callback(url, tampered, signature)
    proper = await twilio.apost_callback(url, params)
    replayed = twilio.replay(genuine)

    results = [forged, unsigned, other_url, altered, proper, replayed]
    assert [cb.status for cb in results] == [403, 403, 403, 403, 204, 204]
    assert all(cb.forged for cb in results)
    assert unsigned.signature is None
    assert replayed.signature == genuine.signature
    assert replayed.params == genuine.params


async def test_an_unavailable_api(twilio: FakeTwilio, api: httpx.AsyncClient) -> None:
    data = {"To": TO, "From": FROM, "Body": "hi"}
    twilio.fail_next(503)
    twilio.fail_next(429, retry_after=2)
    twilio.fail_next(502, body="<html><body>502 Bad Gateway</body></html>")

    unavailable = await api.post("Messages.json", data=data)
    too_many = await api.post("Messages.json", data=data)
    gateway = await api.post("Messages.json", data=data)
    fine = await api.post("Messages.json", data=data)

    assert (unavailable.status_code, unavailable.json()) == (
        503,
        {
            "code": 20503,
            "message": "Service Unavailable",
            "more_info": "https://www.twilio.com/docs/errors/20503",
            "status": 503,
        },
    )
    assert (too_many.status_code, too_many.json()["code"]) == (429, 20429)
    assert too_many.headers["Retry-After"] == "2"
    assert gateway.status_code == 502
    assert gateway.headers["Content-Type"].startswith("text/html")
    assert fine.status_code == 201
    assert len(twilio.messages) == 1  # what failed was not processed
    assert [r.status for r in twilio.requests] == [503, 429, 502, 201]

    port = twilio.port
    twilio.down()
    with pytest.raises(httpx.ConnectError):
        await api.post("Messages.json", data=data)
    twilio.up()
    assert twilio.port == port
    assert (await api.post("Messages.json", data=data)).status_code == 201

    twilio.stall_next(0.3)
    started = time.monotonic()
    assert (await api.post("Messages.json", data=data)).status_code == 201
    assert time.monotonic() - started >= 0.3


async def test_held_callbacks_wait_for_release(
    twilio: FakeTwilio, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    twilio.hold_callbacks()
    data = {"To": TO, "From": FROM, "Body": "hi", "StatusCallback": receiver.url("/s")}
    await api.post("Messages.json", data=data)
    message = await twilio.wait_for_message(TO)
    time.sleep(0.1)
    assert message.statuses == ["queued"]
    assert receiver.received == []

    twilio.release_callbacks()
    await twilio.wait_for_status(message, "delivered")
    assert [dict(r.params)["MessageStatus"] for r in receiver.received] == ["sent", "delivered"]


def test_segments_as_twilio_counts_them() -> None:
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("€" * 80) == 1
    assert segments("€" * 81) == 2
    assert segments("確" * 70) == 1
    assert segments("確" * 71) == 2
    assert segments("😀" * 35) == 1
    assert segments("😀" * 36) == 2


def test_stopping_frees_the_port_and_ends_its_threads() -> None:
    with FakeTwilio() as fake:
        port = fake.port
        httpx.post(f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json")
    assert not [t for t in threading.enumerate() if t.name.startswith("fake-twilio")]
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json")
    with socket.socket() as s:  # the next server takes the port (its closed connections may
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # linger in TIME_WAIT)
        s.bind(("127.0.0.1", port))
        s.listen()
    assert fake.callbacks == []


async def test_callbacks_can_go_to_a_receiver_that_is_not_on_a_socket() -> None:
    delivered: list[tuple[str, str, dict[str, str], bytes]] = []

    def deliver(method: str, url: str, headers: Any, body: bytes) -> tuple[int, bytes]:
        delivered.append((method, url, dict(headers), body))
        return 200, b"<Response/>"

    with FakeTwilio(callback_delay=0.01, deliver=deliver) as fake:
        base = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/"
        async with httpx.AsyncClient(base_url=base, auth=(fake.account_sid, fake.auth_token)) as c:
            data = {"To": TO, "From": FROM, "Body": "hi", "StatusCallback": "http://testserver/s"}
            await c.post("Messages.json", data=data)
        message = await fake.wait_for_message(TO)
        await fake.wait_for_status(message, "delivered")

    assert [cb.status for cb in message.callbacks] == [200, 200]
    method, url, headers, body = delivered[0]
    params = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
    assert (method, url) == ("POST", "http://testserver/s")
    assert headers["X-Twilio-Signature"] == expected_signature(fake.auth_token, url, params)
