"""Text messages and voice calls through a Twilio-compatible REST API.

`twilio+https://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=%2B8150…` (the sender URL-encoded;
`twilio+http://` only to a loopback host, for tests). Twilio itself and the providers that
speak its API: texts are `POST /2010-04-01/Accounts/{sid}/Messages.json`, calls
`…/Calls.json` with the call's TwiML inline (`Twiml`); both with a `StatusCallback` to us.

Callbacks are believed only with a valid `X-Twilio-Signature`: HMAC-SHA1, keyed with the auth
token, over the callback URL exactly as we gave it followed by every POST parameter, sorted by
name, name and value appended (twilio-python's `RequestValidator`). The URL is ours, never
rebuilt from the request (a proxy changes its scheme and host).

Errors: the API's own codes (`{"code": 21614, "message": …}`) are mapped to temporary or
permanent and to a plain reason; the raw code stays in the timeline.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from honnin.courier import reasons
from honnin.courier.channels.base import Outcome, Outgoing, Result
from honnin.courier.channels.http import Callback, Forbidden, HttpProvider, ReportUrl
from honnin.courier.reports import Report, Reported
from honnin.crypto import same

# the API's error codes (at the request, or in a report's ErrorCode) and the reason of each
ERROR_REASONS: dict[int, str] = {
    21211: reasons.INVALID_NUMBER,  # invalid 'To' phone number
    21408: reasons.COUNTRY_NOT_ENABLED,  # permission to send to this region not enabled
    21610: reasons.OPTED_OUT,  # the recipient replied STOP
    21612: reasons.NOT_MOBILE,  # the 'To' number is not reachable by SMS
    21614: reasons.NOT_MOBILE,  # 'To' number is not a valid mobile number
    30003: reasons.UNREACHABLE,  # unreachable destination handset
    30004: reasons.BLOCKED,  # message blocked
    30005: reasons.UNKNOWN_NUMBER,  # unknown destination handset
    30006: reasons.LANDLINE,  # landline or unreachable carrier
    30007: reasons.FILTERED,  # carrier violation: filtered
    30008: reasons.UNKNOWN,  # unknown error
}
_CALL_OUTCOMES = {
    "completed": (Reported.DELIVERED, None),
    "busy": (Reported.UNDELIVERED, reasons.BUSY),
    "no-answer": (Reported.UNDELIVERED, reasons.NO_ANSWER),
    "failed": (Reported.FAILED, None),
    "canceled": (Reported.FAILED, None),
}
_MESSAGE_OUTCOMES = {
    "delivered": Reported.DELIVERED,
    "undelivered": Reported.UNDELIVERED,
    "failed": Reported.FAILED,
}


@dataclass(frozen=True)
class TwilioTarget:
    api: str  # https://api.twilio.com
    account_sid: str
    auth_token: str
    sender: str | None

    @classmethod
    def parse(cls, url: str) -> TwilioTarget:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.removeprefix("twilio+")
        if scheme not in ("http", "https") or not parts.hostname or not parts.username:
            raise ValueError(
                "a Twilio-compatible provider looks like "
                "twilio+https://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=%2B815012345678"
            )
        if not parts.password:
            raise ValueError("a Twilio-compatible provider's URL needs its auth token")
        if scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("twilio+http:// is for a loopback host (tests); use twilio+https://")
        port = f":{parts.port}" if parts.port else ""
        query = dict(urllib.parse.parse_qsl(parts.query))
        return cls(
            api=f"{scheme}://{parts.hostname}{port}",
            account_sid=urllib.parse.unquote(parts.username),
            auth_token=urllib.parse.unquote(parts.password or ""),
            sender=query.get("from"),
        )


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's `X-Twilio-Signature` of a POST to `url` with `params`."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioChannel(HttpProvider):
    """`voice`: calls with the composed TwiML; otherwise texts."""

    def __init__(
        self,
        target: TwilioTarget,
        *,
        voice: bool,
        report_url: ReportUrl,
        key: str = "",
        sender_for: Callable[[str], str | None],
    ) -> None:
        super().__init__(report_url, key)
        self.target = target
        self.voice = voice
        self.sender_for = sender_for
        self.name = "the Twilio-compatible API"

    def describe(self) -> str:
        kind = "calls" if self.voice else "messages"
        return f"twilio {kind} {self.target.api} ({self.target.account_sid[:10]}…)"

    def _resource(self) -> str:
        name = "Calls" if self.voice else "Messages"
        return f"{self.target.api}/2010-04-01/Accounts/{self.target.account_sid}/{name}.json"

    async def send(
        self, outgoing: Outgoing, on_the_wire: Callable[[], None] = lambda: None
    ) -> Result:
        assert isinstance(outgoing.body, str)
        sender = (None if self.voice else self.sender_for(outgoing.recipient)) or (
            self.target.sender
        )
        if not sender:
            why = "no sender: set from= in the provider's URL (or HONNIN_SMS_SENDER_IDS for texts)"
            return Result(Outcome.PERMANENT, why)
        form: dict[str, str | list[str]] = {
            "To": outgoing.recipient,
            "From": sender,
            "StatusCallback": self.report_url(outgoing.key),
        }
        if self.voice:
            form.update(
                Twiml=outgoing.body,
                StatusCallbackEvent=["initiated", "ringing", "answered", "completed"],
            )
        else:
            form["Body"] = outgoing.body
        auth = (self.target.account_sid, self.target.auth_token)
        response = await self.request(
            lambda client: client.post(self._resource(), data=form, auth=auth), on_the_wire
        )
        if isinstance(response, Result):
            return response
        return _result(response)

    async def read_report(self, callback: Callback) -> Report:
        given = callback.headers.get("x-twilio-signature", "")
        expected = signature(self.target.auth_token, callback.url, callback.form)
        if not given or not same(given.encode(), expected.encode()):
            raise Forbidden("the callback's X-Twilio-Signature is not valid")
        try:
            message_id = uuid.UUID(callback.message_id)
        except ValueError:
            raise Forbidden("not a message id") from None
        form = callback.form
        error = _int(form.get("ErrorCode"))
        if self.voice:
            status = form.get("CallStatus", "")
            reported, reason = _CALL_OUTCOMES.get(status, (Reported.PROGRESS, None))
            reference = form.get("CallSid")
            detail = f"call {status}"
            if form.get("CallDuration"):
                detail += f" after {form['CallDuration']} s"
        else:
            status = form.get("MessageStatus") or form.get("SmsStatus", "")
            reported = _MESSAGE_OUTCOMES.get(status, Reported.PROGRESS)
            reason = ERROR_REASONS.get(error or 0, reasons.UNKNOWN) if error else None
            reference = form.get("MessageSid")
            detail = f"message {status}"
        if error:
            detail += f" (error {error})"
        return Report(message_id, reported, detail, error, reason, reference)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _result(response: httpx.Response) -> Result:
    """201: taken (its SID is kept). A 4xx with one of the API's codes: refused for good, with
    its reason — except wrong credentials (ours to fix: the message waits) and 429 (too many
    requests: never processed, safe to retry). 5xx: try again later."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if status in (200, 201):
        sid = str(body.get("sid") or "") or None
        reply = f"{status} {body.get('status', 'queued')} {sid or ''}".strip()
        return Result(Outcome.ACCEPTED, reply, status, reference=sid)
    code = _int(str(body.get("code") or "")) or status
    reply = f"{status} {code} {body.get('message') or response.text.strip()}"[:500]
    if status in (401, 403):
        return Result(Outcome.UNAVAILABLE, f"the provider refused our credentials: {reply}", code)
    if status == 429 or status >= 500:
        return Result(Outcome.TEMPORARY, reply, code)
    return Result(Outcome.PERMANENT, reply, code, reason=ERROR_REASONS.get(code))
