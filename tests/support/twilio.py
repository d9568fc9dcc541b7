"""A local Twilio REST API (version 2010-04-01: Messages and Calls) that tests send to and read.

It answers as Twilio documents it: HTTP Basic auth with the Account SID and Auth Token (401 and
error 20003 otherwise); form-encoded `POST …/Accounts/{AccountSid}/Messages.json` and
`…/Calls.json`; 201 and the resource's JSON (`SM…`/`CA…` SIDs, `status` "queued", RFC 2822
dates); 4xx with Twilio's error body `{"code", "message", "more_info", "status"}`. Then, on its
own thread and a moment later, it moves each message or call along and POSTs the status
callbacks Twilio documents to its `StatusCallback`, form-encoded and signed with
`X-Twilio-Signature`, recording what the receiver answered.

A test steers it per destination number: `refuse(to, code)` for a synchronous 400 (21211, 21408,
21610, 21614, …), `outcome(to, "undelivered", error_code=30007)` for what the carrier reports
later, `call_outcome(to, "busy")`; and the API as a whole: `fail_next(503)`, `stall_next(s)`,
`down()`/`up()`, `hold_callbacks()`/`release_callbacks()`. It can also forge, tamper with and
replay callbacks (`sign`, `post_callback`, `replay`).

Sources: the Messages and Calls resources and their OpenAPI description (twilio/twilio-oai,
`twilio_api_v2010`); "Outbound Message Status in Status Callbacks" (no callback for the initial
`queued`); "Secure webhooks" and the helper libraries' request validators (twilio-python
`twilio/request_validator.py`, twilio-node `src/webhooks/webhooks.ts`) for the signature; the
error dictionary (twilio.com/docs/errors/NNNNN). Only the standard library is used, so the
module imports anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import heapq
import hmac
import itertools
import json
import math
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, TypeVar, cast

API_VERSION = "2010-04-01"
E164 = re.compile(r"\+[1-9]\d{1,14}")
ERROR_DOCS = "https://www.twilio.com/docs/errors/{}"
SIGNATURE_HEADER = "X-Twilio-Signature"

Params = Mapping[str, str] | Iterable[tuple[str, str]]
T = TypeVar("T")

# The synchronous refusals a test can ask for, with the words Twilio answers (21211 as the API
# words it, per "Debugging your application"; the others as the error dictionary titles them).
REFUSALS: dict[int, str] = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
    "'To' number: {to}.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone "
    "number: {from_} via SMS.",
    21614: "'To' number is not a valid mobile number",
}

# Delivery errors, as the error dictionary titles them (a message's `error_message`).
DELIVERY_ERRORS: dict[int, str] = {
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}

# What the API answers when it is unavailable (fail_next), by HTTP status.
UNAVAILABLE: dict[int, tuple[int, str]] = {
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}

MessageOutcome = Literal["delivered", "undelivered", "failed", "sent", "queued"]
CallOutcome = Literal["completed", "busy", "no-answer", "failed"]

# GSM 03.38: what a single 7-bit SMS segment can carry (the extension table's characters take 2).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

COUNTRY_PREFIXES = {"+1": "US", "+44": "GB", "+81": "JP", "+33": "FR", "+49": "DE", "+61": "AU"}


def compute_signature(auth_token: str, url: str, params: Params = ()) -> str:
    """`X-Twilio-Signature` of a request to `url` (the exact URL, query string included) with
    POST parameters `params`: start from the URL, append each parameter's name and value with
    no separator, names in code-point order (Unix-style, case-sensitive), the values of a
    repeated name sorted and without duplicates (as both helper libraries validate); HMAC-SHA1
    of that UTF-8 string keyed with the Auth Token; Base64."""
    values: dict[str, set[str]] = {}
    for name, value in _pairs(params):
        values.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    mac = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def _pairs(params: Params) -> list[tuple[str, str]]:
    if isinstance(params, Mapping):
        return [(str(name), str(value)) for name, value in params.items()]
    return [(str(name), str(value)) for name, value in params]


def _now() -> datetime:
    return datetime.now(UTC)


def _rfc2822(moment: datetime | None) -> str | None:
    return None if moment is None else format_datetime(moment)


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def segments(body: str) -> int:
    """How many SMS segments Twilio bills `body` as: GSM-7 (160 characters, 153 a segment when
    concatenated; the extension table's characters count twice) or else UCS-2 (70, 67; counted
    in UTF-16 code units)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in body):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in body)
        return 1 if units <= 160 else math.ceil(units / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def _formatted(number: str) -> str:
    """Twilio's `to_formatted`/`from_formatted`: North American numbers as (NPA) NXX-XXXX."""
    if re.fullmatch(r"\+1\d{10}", number):
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def _country(number: str) -> str:
    for prefix in sorted(COUNTRY_PREFIXES, key=len, reverse=True):
        if number.startswith(prefix):
            return COUNTRY_PREFIXES[prefix]
    return ""


@dataclass
class ApiRequest:
    """One request to the fake's REST API, accepted or not."""

    method: str
    path: str
    headers: dict[str, str]
    form: list[tuple[str, str]]
    status: int
    response: dict[str, Any] | None
    at: float

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.form if key == name), None)

    def params(self, name: str) -> list[str]:
        return [value for key, value in self.form if key == name]


@dataclass
class Callback:
    """One status callback (or forged request) the fake sent, and what the receiver answered."""

    url: str
    method: str
    params: list[tuple[str, str]]
    signature: str | None  # the X-Twilio-Signature header sent (None: none was)
    headers: dict[str, str]
    resource_sid: str | None
    forged: bool = False
    status: int | None = None  # the receiver's HTTP status; None: no answer (see `error`)
    response_body: bytes = b""
    error: str | None = None
    at: float = 0.0
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def data(self) -> dict[str, str]:
        return dict(self.params)

    def __getitem__(self, name: str) -> str:
        return self.data[name]

    def get(self, name: str) -> str | None:
        return self.data.get(name)


@dataclass
class Message:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    status_callback_method: str
    form: list[tuple[str, str]]
    date_created: datetime
    statuses: list[str] = field(default_factory=lambda: ["queued"])
    callbacks: list[Callback] = field(default_factory=list)
    error_code: int | None = None
    date_updated: datetime | None = None
    date_sent: datetime | None = None

    @property
    def status(self) -> str:
        return self.statuses[-1]

    @property
    def num_segments(self) -> int:
        return segments(self.body)

    def resource(self) -> dict[str, Any]:
        """The Message resource's JSON, as the API returns it (create and fetch)."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        sent = self.status in ("sent", "delivered", "undelivered")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": _rfc2822(self.date_created),
            "date_sent": _rfc2822(self.date_sent),
            "date_updated": _rfc2822(self.date_updated or self.date_created),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": DELIVERY_ERRORS.get(self.error_code or 0),
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(self.num_segments),
            "price": f"-{0.0079 * self.num_segments:.5f}" if sent else None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"{uri}/Media.json",
                "feedback": f"{uri}/Feedback.json",
            },
            "to": self.to,
            "uri": f"{uri}.json",
        }


@dataclass
class Verb:
    """A TwiML element: `<Say>` (text, voice, language, loop), `<Pause>` (length), or another."""

    name: str
    text: str
    attributes: dict[str, str]

    @property
    def voice(self) -> str | None:
        return self.attributes.get("voice")

    @property
    def language(self) -> str | None:
        return self.attributes.get("language")

    @property
    def loop(self) -> int:
        return int(self.attributes.get("loop", "1"))

    @property
    def length(self) -> int:
        """A `<Pause>`'s seconds (1 when not given, as in TwiML)."""
        return int(self.attributes.get("length", "1"))


@dataclass
class Call:
    sid: str
    account_sid: str
    to: str
    from_: str
    twiml: str | None
    url: str | None
    status_callback: str | None
    status_callback_method: str
    status_callback_events: list[str]
    form: list[tuple[str, str]]
    date_created: datetime
    verbs: list[Verb]  # the <Response>'s children
    script: list[Verb]  # every <Say> and <Pause>, nested ones too, in document order
    twiml_error: str | None
    statuses: list[str] = field(default_factory=lambda: ["queued"])
    callbacks: list[Callback] = field(default_factory=list)
    duration: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None

    @property
    def status(self) -> str:
        return self.statuses[-1]

    @property
    def says(self) -> list[Verb]:
        return [verb for verb in self.script if verb.name == "Say"]

    @property
    def pauses(self) -> list[Verb]:
        return [verb for verb in self.script if verb.name == "Pause"]

    @property
    def spoken(self) -> list[str]:
        """The text of each `<Say>` (SSML inside it included), whitespace collapsed."""
        if self.twiml_error is not None:
            raise AssertionError(f"the call's TwiML does not parse: {self.twiml_error}")
        return [verb.text for verb in self.says]

    def estimated_seconds(self) -> int:
        words = sum(len(say.text.split()) * max(say.loop, 1) for say in self.says)
        return max(1, math.ceil(words / 2.5 + sum(pause.length for pause in self.pauses)))

    def resource(self) -> dict[str, Any]:
        """The Call resource's JSON, as the API returns it (create and fetch)."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": _rfc2822(self.date_created),
            "date_updated": _rfc2822(self.end_time or self.start_time or self.date_created),
            "direction": "outbound-api",
            "duration": None if self.duration is None else str(self.duration),
            "end_time": _rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": _formatted(self.from_),
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": _rfc2822(self.start_time),
            "status": "queued" if self.status == "initiated" else self.status,
            "subresource_uris": {
                name: f"{uri}/{name.title().replace('_', '')}.json"
                for name in ("notifications", "recordings", "payments", "events", "streams")
            },
            "to": self.to,
            "to_formatted": _formatted(self.to),
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }


def _parse_twiml(twiml: str) -> tuple[list[Verb], list[Verb], str | None]:
    try:
        # TwiML the product under test wrote, not input from the outside world.
        root = ET.fromstring(twiml)  # noqa: S314
    except ET.ParseError as error:
        return [], [], f"12100 Document parse failure: {error}"
    if root.tag != "Response":
        return [], [], f"12100 Document parse failure: the root element is <{root.tag}>"

    def verb(element: ET.Element) -> Verb:
        text = " ".join("".join(element.itertext()).split())
        return Verb(element.tag, text, dict(element.attrib))

    script = [verb(element) for element in root.iter() if element.tag in ("Say", "Pause")]
    return [verb(child) for child in root], script, None


@dataclass
class _Failure:
    status: int
    code: int | None
    message: str | None
    body: str | None
    retry_after: int | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, fake: FakeTwilio) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request a connection: down() leaves none open

    def _handle(self) -> None:
        fake = cast(_Server, self.server).fake
        try:
            fake._handle(self)
        except Exception as error:  # a bug in the fake: the test can see it
            fake.errors.append(error)
            raise

    do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Dispatcher:
    """The fake's "Twilio side": runs the status changes and their callbacks, one at a time, in
    order of the time they are due."""

    def __init__(self, on_error: Callable[[BaseException], None]) -> None:
        self._on_error = on_error
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._held = False
        self._busy = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="fake-twilio-callbacks")

    def start(self) -> None:
        self._thread.start()

    def schedule(self, delay: float, job: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._order), job))
            self._cond.notify_all()

    def hold(self) -> None:
        with self._cond:
            self._held = True

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()

    def idle(self) -> bool:
        with self._cond:
            return not self._heap and not self._busy

    def stop(self, timeout: float) -> None:
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    if self._heap and not self._held:
                        wait = self._heap[0][0] - time.monotonic()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                _, _, job = heapq.heappop(self._heap)
                self._busy = True
            try:
                job()
            except Exception as error:  # a bug in the fake: the test can see it
                self._on_error(error)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


# (method, url, headers, body) -> (status, response body): instead of HTTP, for a receiver that
# is not on a socket (an app driven in-process).
Deliver = Callable[[str, str, Mapping[str, str], bytes], tuple[int, bytes]]


class FakeTwilio:
    """Twilio's REST API on 127.0.0.1 (a free port) with its status callbacks. Start it with
    `start()` (or `with FakeTwilio() as fake:`); point the product at `base_url`,
    `account_sid` and `auth_token`."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        port: int | None = None,
        callback_delay: float = 0.05,
        callback_timeout: float = 5.0,
        deliver: Deliver | None = None,
    ) -> None:
        self.account_sid = account_sid or _sid("AC")
        self.auth_token = auth_token or secrets.token_hex(16)
        self.port = port or 0
        self.callback_delay = callback_delay
        self.callback_timeout = callback_timeout
        self.deliver = deliver
        self.lock = threading.RLock()
        self.messages: list[Message] = []
        self.calls: list[Call] = []
        self.requests: list[ApiRequest] = []
        self.callbacks: list[Callback] = []  # every callback sent, forged ones too
        self.errors: list[BaseException] = []  # exceptions inside the fake's own thread
        self._refusals: dict[str, tuple[int, str | None]] = {}
        self._outcomes: dict[str, tuple[MessageOutcome, int | None]] = {}
        self._call_outcomes: dict[str, tuple[CallOutcome, int | None]] = {}
        self._failures: list[_Failure] = []
        self._stalls: list[float] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._server_thread: threading.Thread | None = None
        self._dispatcher = _Dispatcher(self.errors.append)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # --- life cycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def provider_url(self, sender: str = "+15005550006") -> str:
        """This fake as honnin's `HONNIN_SMS_PROVIDERS` / `HONNIN_VOICE_PROVIDERS` name it."""
        quoted = urllib.parse.quote(sender, safe="")
        return f"twilio+http://{self.account_sid}:{self.auth_token}@127.0.0.1:{self.port}?from={quoted}"

    def start(self) -> FakeTwilio:
        self._dispatcher.start()
        self.up()
        return self

    def stop(self) -> None:
        """Stop answering and sending; callbacks not sent yet are dropped."""
        self._stopping.set()
        self.down()
        self._dispatcher.stop(self.callback_timeout + 5)

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def down(self) -> None:
        """The API is unreachable: its port refuses connections (callbacks carry on)."""
        server, thread = self._server, self._server_thread
        self._server = self._server_thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(10)

    def up(self) -> None:
        """The API is back, on the same port."""
        if self._server is not None:
            return
        self._server = _Server(self.port, self)
        self.port = int(self._server.server_address[1])
        self._server_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-twilio-api",
        )
        self._server_thread.start()

    # --- steering ---------------------------------------------------------------------------

    def refuse(self, to: str, code: int, message: str | None = None) -> None:
        """Messages and calls to `to` are refused with 400 and Twilio error `code` (21211,
        21408, 21610, 21612, 21614 have Twilio's words; give `message` for another code)."""
        with self.lock:
            self._refusals[to] = (code, message)

    def outcome(self, to: str, status: MessageOutcome, error_code: int | None = None) -> None:
        """What becomes of messages to `to` after they are queued: "delivered" (the default;
        callbacks sent, delivered), "undelivered" (sent, undelivered + ErrorCode), "failed"
        (failed + ErrorCode), "sent" (no delivery receipt ever comes) or "queued" (nothing
        happens). ErrorCode defaults to 30008 (unknown error)."""
        if status in ("undelivered", "failed") and error_code is None:
            error_code = 30008
        with self.lock:
            self._outcomes[to] = (status, error_code)

    def call_outcome(self, to: str, status: CallOutcome, *, duration: int | None = None) -> None:
        """What becomes of calls to `to`: "completed" (the default: answered, the TwiML played;
        `duration` seconds, else an estimate from the TwiML), "busy", "no-answer" or
        "failed"."""
        with self.lock:
            self._call_outcomes[to] = (status, duration)

    def fail_next(
        self,
        status: int = 503,
        *,
        count: int = 1,
        code: int | None = None,
        message: str | None = None,
        body: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next `count` API requests are answered `status` without being processed: with
        Twilio's error JSON (429 → 20429, 500 → 20500, 503 → 20503, or `code`), or with `body`
        as text/html (a proxy's page in front of Twilio)."""
        with self.lock:
            self._failures.extend(
                _Failure(status, code, message, body, retry_after) for _ in range(count)
            )

    def stall_next(self, seconds: float, *, count: int = 1) -> None:
        """The next `count` API requests are answered only after `seconds` (a slow API)."""
        with self.lock:
            self._stalls.extend([seconds] * count)

    def hold_callbacks(self) -> None:
        """Status changes and their callbacks wait (in order) until `release_callbacks()`."""
        self._dispatcher.hold()

    def release_callbacks(self) -> None:
        self._dispatcher.release()

    def reset(self) -> None:
        """Forget the rules (refusals, outcomes, failures, stalls); keep what was recorded."""
        with self.lock:
            self._refusals.clear()
            self._outcomes.clear()
            self._call_outcomes.clear()
            self._failures.clear()
            self._stalls.clear()

    # --- reading ----------------------------------------------------------------------------

    def messages_to(self, to: str) -> list[Message]:
        with self.lock:
            return [message for message in self.messages if message.to == to]

    def calls_to(self, to: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.to == to]

    def find(self, sid: str) -> Message | Call:
        with self.lock:
            resources: list[Message | Call] = [*self.messages, *self.calls]
        found = [resource for resource in resources if resource.sid == sid]
        if not found:
            raise KeyError(sid)
        return found[0]

    def spoken(self, call: Call | str) -> list[str]:
        """The text of each `<Say>` of a call (or of the last call to a number, or of a SID)."""
        if isinstance(call, str):
            if call.startswith("CA"):
                found = self.find(call)
                assert isinstance(found, Call)
                call = found
            else:
                calls = self.calls_to(call)
                assert calls, f"no call to {call}"
                call = calls[-1]
        return call.spoken

    async def wait_for_message(self, to: str, count: int = 1, timeout: float = 10.0) -> Message:
        """The `count`-th message accepted for `to`, waiting for it."""

        def probe() -> Message | None:
            found = self.messages_to(to)
            return found[count - 1] if len(found) >= count else None

        return await self._wait(probe, timeout, f"message #{count} to {to}")

    async def wait_for_call(self, to: str, count: int = 1, timeout: float = 10.0) -> Call:

        def probe() -> Call | None:
            found = self.calls_to(to)
            return found[count - 1] if len(found) >= count else None

        return await self._wait(probe, timeout, f"call #{count} to {to}")

    async def wait_for_callbacks(
        self, resource: Message | Call, count: int, timeout: float = 10.0
    ) -> list[Callback]:
        """The first `count` callbacks of `resource`, once each has its answer."""

        def ready() -> list[Callback] | None:
            with self.lock:
                callbacks = list(resource.callbacks)
            if len(callbacks) >= count and all(cb.done.is_set() for cb in callbacks[:count]):
                return callbacks[:count]
            return None

        return await self._wait(ready, timeout, f"{count} callbacks of {resource.sid}")

    async def wait_for_status(
        self, resource: Message | Call, status: str, timeout: float = 10.0
    ) -> None:
        """Until `resource` reaches `status` and that status's callback (if any) is answered."""

        def ready() -> bool | None:
            with self.lock:
                callbacks = list(resource.callbacks)
                reached = status in resource.statuses
            return True if reached and all(cb.done.is_set() for cb in callbacks) else None

        await self._wait(ready, timeout, f"{resource.sid} reaching {status}")

    def drain(self, timeout: float = 10.0) -> None:
        """Block until every due status change and callback has run (none are held)."""
        deadline = time.monotonic() + timeout
        while not self._dispatcher.idle():
            if time.monotonic() > deadline:
                raise AssertionError(f"callbacks still pending after {timeout}s")
            time.sleep(0.01)

    async def _wait(self, probe: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout}s")
            await asyncio.sleep(0.01)

    # --- signatures and forged callbacks ----------------------------------------------------

    def sign(self, url: str, params: Params = ()) -> str:
        """The X-Twilio-Signature Twilio would send with `params` to `url` (see
        `compute_signature`)."""
        return compute_signature(self.auth_token, url, params)

    def message_callback_params(
        self, message: Message, status: str, error_code: int | None = None
    ) -> list[tuple[str, str]]:
        """The parameters of a message status callback, as Twilio sends them."""
        params = [
            ("ApiVersion", API_VERSION),
            ("MessageStatus", status),
            ("SmsSid", message.sid),
            ("SmsStatus", status),
            ("To", message.to),
            ("From", message.from_),
            ("MessageSid", message.sid),
            ("AccountSid", message.account_sid),
        ]
        if error_code is not None:
            params.append(("ErrorCode", str(error_code)))
        if status in ("delivered", "undelivered"):  # carrier's DLR "done date": YYMMDDhhmm
            params.append(("RawDlrDoneDate", _now().strftime("%y%m%d%H%M")))
        return params

    def call_callback_params(
        self, call: Call, status: str, sequence: int, duration: int | None = None
    ) -> list[tuple[str, str]]:
        """The parameters of a call status callback (`CallbackSource=call-progress-events`), as
        Twilio sends them: the standard voice request parameters (geographic ones empty where
        unknown) and the status callback's own."""
        to_country, from_country = _country(call.to), _country(call.from_)
        params = [
            ("Called", call.to),
            ("ToState", ""),
            ("CallerCountry", from_country),
            ("Direction", "outbound-api"),
            ("Timestamp", format_datetime(_now())),
            ("CallbackSource", "call-progress-events"),
            ("CallerState", ""),
            ("ToZip", ""),
            ("SequenceNumber", str(sequence)),
            ("To", call.to),
            ("CallSid", call.sid),
            ("ToCountry", to_country),
            ("CallerZip", ""),
            ("CalledZip", ""),
            ("ApiVersion", API_VERSION),
            ("CalledCity", ""),
            ("CallStatus", status),
            ("From", call.from_),
            ("AccountSid", call.account_sid),
            ("CalledCountry", to_country),
            ("CallerCity", ""),
            ("ToCity", ""),
            ("FromCountry", from_country),
            ("Caller", call.from_),
            ("FromCity", ""),
            ("CalledState", ""),
            ("FromZip", ""),
            ("FromState", ""),
        ]
        if duration is not None:  # on the final status: seconds, and minutes rounded up
            params += [("CallDuration", str(duration)), ("Duration", str(math.ceil(duration / 60)))]
        return params

    def post_callback(
        self,
        url: str,
        params: Params,
        signature: str | None = None,
        *,
        signed_url: str | None = None,
        method: str = "POST",
    ) -> Callback:
        """Send a callback of the test's making, now, from the calling thread. `signature`:
        None signs it properly (over `signed_url` if given, else `url`); "bad" sends a
        well-formed but wrong one; "missing" sends none; any other string is sent as is."""
        pairs = _pairs(params)
        if signature is None:
            signature = self.sign(signed_url or url, pairs)
        elif signature == "bad":
            signature = base64.b64encode(secrets.token_bytes(20)).decode("ascii")
        callback = self._callback(url, pairs, None, method=method, forged=True)
        callback.signature = None if signature == "missing" else signature
        self._send(callback)
        return callback

    async def apost_callback(
        self,
        url: str,
        params: Params,
        signature: str | None = None,
        *,
        signed_url: str | None = None,
        method: str = "POST",
    ) -> Callback:
        """`post_callback` off the event loop (for a receiver on the test's own loop)."""
        return await asyncio.to_thread(
            self.post_callback, url, params, signature, signed_url=signed_url, method=method
        )

    def replay(self, callback: Callback) -> Callback:
        """Send `callback` again, byte for byte and with its signature (a duplicate delivery)."""
        again = Callback(
            callback.url,
            callback.method,
            list(callback.params),
            callback.signature,
            dict(callback.headers),
            callback.resource_sid,
            forged=True,
        )
        with self.lock:
            self.callbacks.append(again)
        self._send(again)
        return again

    # --- the REST API -----------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlsplit(handler.path).path
        headers = {name: value for name, value in handler.headers.items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        form: list[tuple[str, str]] = []
        if "application/x-www-form-urlencoded" in handler.headers.get("Content-Type", ""):
            form = urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        with self.lock:
            failure = self._failures.pop(0) if self._failures else None
            stall = self._stalls.pop(0) if self._stalls else 0.0
        if stall:
            self._stopping.wait(stall)
        extra: dict[str, str] = {}
        text: str | None = None
        after: Callable[[], None] | None = None
        payload: dict[str, Any] | None
        if failure is not None:
            status, payload, text = self._unavailable(failure)
            if failure.retry_after is not None:
                extra["Retry-After"] = str(failure.retry_after)
        else:
            authorization = handler.headers.get("Authorization")
            status, payload, after = self._route(handler.command, path, authorization, form)
            if status == 401:
                extra["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        with self.lock:
            self.requests.append(
                ApiRequest(handler.command, path, headers, form, status, payload, time.time())
            )
        if text is not None:
            data, content_type = text.encode(), "text/html; charset=utf-8"
        else:
            data, content_type = json.dumps(payload).encode(), "application/json; charset=utf-8"
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Twilio-Request-Id", _sid("RQ"))
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
        if after is not None:
            after()  # progress only once the 201 is on its way

    def _unavailable(self, failure: _Failure) -> tuple[int, dict[str, Any] | None, str | None]:
        if failure.body is not None:
            return failure.status, None, failure.body
        default_code, default_message = UNAVAILABLE.get(
            failure.status, (20000 + failure.status, HTTPStatus(failure.status).phrase)
        )
        code = failure.code or default_code
        return (
            failure.status,
            _error(failure.status, code, failure.message or default_message),
            None,
        )

    def _route(
        self, method: str, path: str, authorization: str | None, form: list[tuple[str, str]]
    ) -> tuple[int, dict[str, Any], Callable[[], None] | None]:
        match = re.fullmatch(
            r"/2010-04-01/Accounts/([^/]+)/(Messages|Calls)(?:/([^/]+))?\.json", path
        )
        if not self._authenticated(authorization, match.group(1) if match else None):
            return 401, _error(401, 20003, "Authenticate"), None
        if match is None:
            return 404, _error(404, 20404, f"The requested resource {path} was not found"), None
        kind, sid = match.group(2), match.group(3)
        if sid is not None:
            if method != "GET":
                return 405, _error(405, 20004, "Method not allowed"), None
            with self.lock:
                found: list[Message | Call] = list(
                    self.messages if kind == "Messages" else self.calls
                )
            for resource in found:
                if resource.sid == sid:
                    return 200, resource.resource(), None
            return 404, _error(404, 20404, f"The requested resource {path} was not found"), None
        if method != "POST":
            return 405, _error(405, 20004, "Method not allowed"), None
        if kind == "Messages":
            return self._create_message(form)
        return self._create_call(form)

    def _authenticated(self, authorization: str | None, path_account: str | None) -> bool:
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(authorization[6:], validate=True).partition(b":")
        except ValueError:
            return False
        return (
            hmac.compare_digest(user, self.account_sid.encode())
            and hmac.compare_digest(password, self.auth_token.encode())
            and path_account in (None, self.account_sid)
        )

    def _refused(self, to: str, from_: str) -> dict[str, Any] | None:
        with self.lock:
            rule = self._refusals.get(to)
        if rule is None:
            return None
        code, message = rule
        words = message or REFUSALS.get(code, f"Error {code}").format(to=to, from_=from_)
        return _error(400, code, words)

    def _create_message(
        self, form: list[tuple[str, str]]
    ) -> tuple[int, dict[str, Any], Callable[[], None] | None]:
        param = dict(form)  # the last of a repeated parameter, as most form parsers
        to, from_, body = param.get("To", ""), param.get("From", ""), param.get("Body", "")
        if not to:
            return 400, _error(400, 21604, "A 'To' phone number is required."), None
        if not from_ and not param.get("MessagingServiceSid"):
            return 400, _error(400, 21603, "A 'From' phone number is required."), None
        if not body and not param.get("MediaUrl") and not param.get("ContentSid"):
            return 400, _error(400, 21602, "Message body is required."), None
        if not E164.fullmatch(to):
            return 400, _error(400, 21211, REFUSALS[21211].format(to=to)), None
        if (bad := _bad_callback_url(param.get("StatusCallback"))) is not None:
            return 400, bad, None
        if len(body) > 1600:
            words = "The concatenated message body exceeds the 1600 character limit."
            return 400, _error(400, 21617, words), None
        refusal = self._refused(to, from_)
        if refusal is not None:
            return 400, refusal, None
        now = _now()
        message = Message(
            sid=_sid("SM"),
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            body=body,
            status_callback=param.get("StatusCallback") or None,
            status_callback_method=(param.get("StatusCallbackMethod") or "POST").upper(),
            form=list(form),
            date_created=now,
        )
        with self.lock:
            self.messages.append(message)
            status, error_code = self._outcomes.get(to, ("delivered", None))
        plans: dict[str, list[tuple[str, int | None]]] = {
            "delivered": [("sent", None), ("delivered", None)],
            "undelivered": [("sent", None), ("undelivered", error_code)],
            "failed": [("failed", error_code)],
            "sent": [("sent", None)],
            "queued": [],
        }
        steps = plans[status]

        def progress() -> None:
            for number, (step, code) in enumerate(steps, start=1):
                self._dispatcher.schedule(
                    self.callback_delay * number,
                    functools.partial(self._message_to, message, step, code),
                )

        return 201, message.resource(), progress

    def _message_to(self, message: Message, status: str, error_code: int | None) -> None:
        now = _now()
        with self.lock:
            message.statuses.append(status)
            message.date_updated = now
            if status == "sent":
                message.date_sent = now
            if error_code is not None:
                message.error_code = error_code
        if message.status_callback:
            params = self.message_callback_params(message, status, error_code)
            self._send(self._callback(message.status_callback, params, message))

    def _create_call(
        self, form: list[tuple[str, str]]
    ) -> tuple[int, dict[str, Any], Callable[[], None] | None]:
        param = dict(form)
        to, from_ = param.get("To", ""), param.get("From", "")
        twiml, url = param.get("Twiml") or None, param.get("Url") or None
        if not to:
            return 400, _error(400, 21201, "No 'To' number is specified"), None
        if not from_:
            return 400, _error(400, 21213, "No 'From' number is specified"), None
        if twiml is None and url is None and not param.get("ApplicationSid"):
            return 400, _error(400, 21205, "Url parameter is required."), None
        if not (E164.fullmatch(to) or to.startswith(("client:", "sip:"))):
            return 400, _error(400, 21211, REFUSALS[21211].format(to=to)), None
        if (bad := _bad_callback_url(param.get("StatusCallback"))) is not None:
            return 400, bad, None
        refusal = self._refused(to, from_)
        if refusal is not None:
            return 400, refusal, None
        events = [
            event.lower()
            for value in (v for k, v in form if k == "StatusCallbackEvent")
            for event in value.split()
        ] or ["completed"]
        # A Url wins over Twiml (the Calls resource: "If both twiml and url are provided then
        # twiml parameter will be ignored").
        verbs, script, twiml_error = _parse_twiml(twiml) if twiml and not url else ([], [], None)
        call = Call(
            sid=_sid("CA"),
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            twiml=twiml,
            url=url,
            status_callback=param.get("StatusCallback") or None,
            status_callback_method=(param.get("StatusCallbackMethod") or "POST").upper(),
            status_callback_events=events,
            form=list(form),
            date_created=_now(),
            verbs=verbs,
            script=script,
            twiml_error=twiml_error,
        )
        with self.lock:
            self.calls.append(call)
            outcome, duration = self._call_outcomes.get(to, ("completed", None))
        if twiml_error is not None and outcome == "completed":
            outcome = "failed"
        if outcome == "completed" and duration is None:
            duration = call.estimated_seconds()
        # (event, CallStatus): the events Twilio reports, each sent if subscribed
        plans: dict[str, list[tuple[str, str]]] = {
            "completed": [
                ("initiated", "initiated"),
                ("ringing", "ringing"),
                ("answered", "in-progress"),
                ("completed", "completed"),
            ],
            "busy": [("initiated", "initiated"), ("ringing", "ringing"), ("completed", "busy")],
            "no-answer": [
                ("initiated", "initiated"),
                ("ringing", "ringing"),
                ("completed", "no-answer"),
            ],
            "failed": [("initiated", "initiated"), ("completed", "failed")],
        }
        steps = plans[outcome]
        sequence = itertools.count()

        def progress() -> None:
            for number, (event, status) in enumerate(steps, start=1):
                self._dispatcher.schedule(
                    self.callback_delay * number,
                    functools.partial(self._call_to, call, event, status, duration, sequence),
                )

        return 201, call.resource(), progress

    def _call_to(
        self,
        call: Call,
        event: str,
        status: str,
        duration: int | None,
        sequence: Iterator[int],
    ) -> None:
        now = _now()
        final = event == "completed"
        with self.lock:
            call.statuses.append(status)
            if status == "in-progress":
                call.start_time = now
            if final:
                call.end_time = now
                call.duration = duration if status == "completed" else 0
        if call.status_callback and event in call.status_callback_events:
            params = self.call_callback_params(
                call, status, next(sequence), call.duration if final else None
            )
            self._send(self._callback(call.status_callback, params, call))

    # --- sending callbacks ------------------------------------------------------------------

    def _callback(
        self,
        url: str,
        params: list[tuple[str, str]],
        resource: Message | Call | None,
        *,
        method: str | None = None,
        forged: bool = False,
    ) -> Callback:
        if method is None:
            method = resource.status_callback_method if resource is not None else "POST"
        if method == "GET":  # parameters in the query string; the signature over the URL alone
            url = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
            params, signed = [], url
        else:
            signed = url
        headers = {
            "Accept": "*/*",
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "X-Home-Region": "us1",
        }
        callback = Callback(
            url,
            method,
            params,
            self.sign(signed, params),
            headers,
            resource.sid if resource is not None else None,
            forged=forged,
        )
        with self.lock:
            self.callbacks.append(callback)
            if resource is not None:
                resource.callbacks.append(callback)
        return callback

    def _send(self, callback: Callback) -> None:
        headers = dict(callback.headers)
        if callback.signature is not None:
            headers[SIGNATURE_HEADER] = callback.signature
        body = b""
        if callback.method != "GET":
            body = urllib.parse.urlencode(callback.params).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        callback.at = time.time()
        try:
            if self.deliver is not None:
                callback.status, callback.response_body = self.deliver(
                    callback.method, callback.url, headers, body
                )
                return
            if urllib.parse.urlsplit(callback.url).scheme not in ("http", "https"):
                callback.error = f"not an http(s) URL: {callback.url}"
                return
            request = urllib.request.Request(  # noqa: S310 (http(s) only, checked above)
                callback.url,
                data=body if callback.method != "GET" else None,
                headers=headers,
                method=callback.method,
            )
            try:
                with self._opener.open(request, timeout=self.callback_timeout) as response:
                    callback.status = response.status
                    callback.response_body = response.read(1 << 16)
            except urllib.error.HTTPError as error:
                callback.status = error.code
                callback.response_body = error.read(1 << 16)
                error.close()
        except (OSError, ValueError) as error:
            callback.error = f"{type(error).__name__}: {error}"
        finally:
            callback.done.set()


def _bad_callback_url(url: str | None) -> dict[str, Any] | None:
    """21609 for a StatusCallback that is not an absolute http(s) URL with a valid hostname
    (the Messages and Calls resources: "URLs must contain a valid hostname (underscores are not
    permitted)")."""
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme in ("http", "https") and host and "_" not in host and len(url) <= 4000:
        return None
    return _error(400, 21609, f"The StatusCallback URL {url} is not a valid URL.")


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's REST API error body."""
    return {
        "code": code,
        "message": message,
        "more_info": ERROR_DOCS.format(code),
        "status": status,
    }


@contextlib.contextmanager
def fake_twilio(**options: Any) -> Iterator[FakeTwilio]:
    fake = FakeTwilio(**options).start()
    try:
        yield fake
    finally:
        fake.stop()


__all__ = [
    "API_VERSION",
    "DELIVERY_ERRORS",
    "REFUSALS",
    "ApiRequest",
    "Call",
    "Callback",
    "FakeTwilio",
    "Message",
    "Verb",
    "compute_signature",
    "fake_twilio",
    "segments",
]
