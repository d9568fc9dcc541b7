"""Text messages through Kannel, the open-source SMS gateway, by its smsbox `sendsms` interface.

`kannel+http://USER:PASS@HOST:PORT/cgi-bin/sendsms?smsc=ID[&from=SENDER]`: every other query
parameter of the URL is passed on as it is. What costs time with Kannel:
- every value is URL-encoded (a bare `+` in `to` would be a space, and spaces separate
  recipients);
- a text that is not plain GSM goes as UCS-2 (`coding=2&charset=UTF-8`): 70 characters per SMS,
  67 per part of a longer one. Kannel splits a longer text into as many parts as its
  sendsms-user's `max-messages` allows (Kannel 1.4 takes no such URL parameter): set it above 1;
- delivery reports come back to a `dlr-url` for every status of `dlr-mask` 31 (delivered,
  failed, buffered, accepted by the SMSC, rejected by the SMSC). Kannel cannot sign them, so
  the URL carries a secret: a digest of the message's id under the service's key.
"""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from honnin.courier import reasons
from honnin.courier.channels.base import Outcome, Outgoing, Result
from honnin.courier.channels.http import Callback, Forbidden, HttpProvider, ReportUrl
from honnin.courier.reports import Report, Reported
from honnin.crypto import Keyring, same_any

# Kannel's DLR statuses (`%d`) and what each means for the message
DELIVERED, FAILED, BUFFERED, SMSC_SUBMIT, SMSC_REJECT = 1, 2, 4, 8, 16
# the `stat:` of an SMSC's delivery receipt (SMPP 3.4, appendix B), for a failed one
_RECEIPT_REASONS = {
    "UNDELIV": reasons.UNREACHABLE,
    "EXPIRED": reasons.EXPIRED,
    "REJECTD": reasons.CARRIER_REFUSED,
    "DELETED": reasons.CARRIER_REFUSED,
}
# SMPP command statuses an SMSC refuses a message with, as Kannel reports them (`NACK/0x…/…`)
_NACK_REASONS = {0x0B: reasons.INVALID_NUMBER, 0x0A: reasons.CARRIER_REFUSED}
# the GSM 03.38 default alphabet: a text of only these goes as 7-bit (160 characters per SMS)
_GSM = re.compile(
    r"^[A-Za-z0-9 \n\r@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,\-./:;<=>?¡ÄÖÑÜ§¿äöñüà]*$"
)


@dataclass(frozen=True)
class KannelTarget:
    sendsms: str  # http(s)://host:port/cgi-bin/sendsms
    username: str
    password: str
    params: tuple[tuple[str, str], ...]  # the URL's own query: smsc, from, …

    @classmethod
    def parse(cls, url: str) -> KannelTarget:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.removeprefix("kannel+")
        if scheme not in ("http", "https") or not parts.hostname or not parts.username:
            raise ValueError(
                "a Kannel provider looks like "
                "kannel+http://USER:PASS@HOST:PORT/cgi-bin/sendsms?smsc=ID"
            )
        port = f":{parts.port}" if parts.port else ""
        return cls(
            sendsms=f"{scheme}://{parts.hostname}{port}{parts.path or '/cgi-bin/sendsms'}",
            username=urllib.parse.unquote(parts.username),
            password=urllib.parse.unquote(parts.password or ""),
            params=tuple(urllib.parse.parse_qsl(parts.query)),
        )


class KannelChannel(HttpProvider):
    def __init__(
        self,
        target: KannelTarget,
        *,
        report_url: ReportUrl,
        key: str = "",
        keyring: Keyring,
        sender_for: Callable[[str], str | None],
    ) -> None:
        super().__init__(report_url, key)
        self.target = target
        self.keyring = keyring
        self.sender_for = sender_for
        self.name = "Kannel"

    def describe(self) -> str:
        smsc = dict(self.target.params).get("smsc")
        return f"kannel {self.target.sendsms}" + (f" (smsc {smsc})" if smsc else "")

    def _token(self, message_id: str) -> str:
        return self.keyring.digest("kannel-dlr", message_id).hex()

    def _dlr_url(self, message_id: str) -> str:
        # Kannel fills in %d (status), %A (the SMSC's reply) and %F (the SMSC's message id)
        secret = urllib.parse.quote(self._token(message_id))
        return f"{self.report_url(message_id)}?token={secret}&status=%d&reply=%A&smsc_id=%F"

    async def send(
        self, outgoing: Outgoing, on_the_wire: Callable[[], None] = lambda: None
    ) -> Result:
        assert isinstance(outgoing.body, str)
        params = dict(self.target.params)
        sender = self.sender_for(outgoing.recipient) or params.get("from")
        if not sender:
            why = "no sender for this country: set HONNIN_SMS_SENDER_IDS or from= in its URL"
            return Result(Outcome.PERMANENT, why)
        params.update(
            username=self.target.username,
            password=self.target.password,
            to=outgoing.recipient,
            text=outgoing.body,
            charset="UTF-8",
            coding="0" if _GSM.match(outgoing.body) else "2",
            **{"from": sender, "dlr-mask": "31", "dlr-url": self._dlr_url(outgoing.key)},
        )
        # every value URL-encoded (`+` as %2B), spaces as %20
        query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        url = f"{self.target.sendsms}?{query}"
        response = await self.request(lambda client: client.get(url), on_the_wire)
        if isinstance(response, Result):
            return response
        return _result(response)

    async def read_report(self, callback: Callback) -> Report:
        token = callback.query.get("token", "").encode()
        expected = self.keyring.digests("kannel-dlr", callback.message_id)
        if not same_any(token, [digest.hex().encode() for digest in expected]):
            raise Forbidden("the delivery report's token is not this message's")
        try:
            status = int(callback.query.get("status", ""))
        except ValueError:
            raise Forbidden("a delivery report without a status") from None
        reply = _without_text(callback.query.get("reply", ""))
        reported, reason = _reported(status, reply)
        detail = f"Kannel delivery report {status} ({_STATUS_WORDS.get(status, 'unknown')})"
        return Report(
            message_id=_uuid(callback.message_id),
            reported=reported,
            detail=f"{detail}: {reply}"[:1000] if reply else detail,
            code=status,
            reason=reason,
            reference=callback.query.get("smsc_id") or None,
        )


_STATUS_WORDS = {
    DELIVERED: "delivered to the phone",
    FAILED: "not delivered",
    BUFFERED: "queued by the SMSC",
    SMSC_SUBMIT: "accepted by the SMSC",
    SMSC_REJECT: "refused by the SMSC",
}


def _without_text(reply: str) -> str:
    """An SMSC's delivery receipt ends with `text:` and the first characters of the message
    (SMPP 3.4, appendix B) — the code itself: never kept, never shown."""
    return re.split(r"\s*\btext:", reply, maxsplit=1)[0][:300]


def _reported(status: int, reply: str) -> tuple[Reported, str | None]:
    if status == DELIVERED:
        return Reported.DELIVERED, None
    if status == FAILED:
        stat = re.search(r"stat:(\w+)", reply)
        return Reported.UNDELIVERED, _RECEIPT_REASONS.get(stat.group(1) if stat else "")
    if status == SMSC_REJECT:
        nack = re.match(r"NACK/0x([0-9a-fA-F]+)", reply)
        code = int(nack.group(1), 16) if nack else None
        return Reported.FAILED, _NACK_REASONS.get(code or -1, reasons.CARRIER_REFUSED)
    return Reported.PROGRESS, None


def _result(response: httpx.Response) -> Result:
    """What smsbox answered: 202 "0: Accepted for delivery" (or 200 "Sent."); 4xx a request it
    will never take (a missing or wrong value) — but 403, wrong credentials, is ours to fix and
    the message waits; 503 (queue full) and other 5xx: try again later."""
    reply = f"{response.status_code} {response.text.strip()}"[:500]
    code = response.status_code
    if code in (200, 202):
        return Result(Outcome.ACCEPTED, reply, code)
    if code in (401, 403):
        return Result(Outcome.UNAVAILABLE, f"Kannel refused our credentials: {reply}", code)
    if 400 <= code < 500:
        return Result(Outcome.PERMANENT, reply, code)
    return Result(Outcome.TEMPORARY, reply, code)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Forbidden("not a message id") from None
