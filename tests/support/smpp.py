"""An SMPP 3.4 server (an SMSC simulator) on loopback that tests control and read from.

Kannel's own test SMSC (`smsc = fake` + the `fakesmsc` program) reports every message as
delivered. To see a *failed* delivery report come back, Kannel has to talk a real protocol to an
SMSC that can say no; this is that SMSC, in-process (its own asyncio loop in a thread, as the
SMTP sink in smtp.py runs aiosmtpd), written by hand from the SMPP 3.4 specification:

- bind_transmitter / bind_receiver / bind_transceiver (system_id + password checked),
  enquire_link, unbind, generic_nack for anything else;
- submit_sm → submit_sm_resp with a message id, or an error command_status for a recipient
  told to `refuse()`; then, after `receipt_delay` seconds and if the submit asked for one
  (registered_delivery), a delivery receipt: deliver_sm with esm_class 0x04 and the
  standard text ``id:… sub:001 dlvrd:… submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:…
  err:… text:…`` (stat DELIVRD unless `outcome_for()` says otherwise);
- the text of each submit_sm decoded (data_coding 0 = GSM 03.38, 1 = ASCII, 3 = Latin-1,
  8 = UCS-2/UTF-16-BE; short_message or the message_payload TLV; a UDH stripped) and long
  texts reassembled from their concatenation UDH (8- or 16-bit reference) or SAR TLVs.

Message ids: submit_sm_resp carries the id in hex (as many SMSCs do), the receipt text carries
it as 10 decimal digits (as SMPP 3.4 Appendix B shows). Kannel matches the two with
`msg-id-type = 1` (submit_sm_resp hex, deliver_sm decimal): `SmppServer.kannel_msg_id_type`.
With `receipt_tlvs=True` the receipt also has the TLVs receipted_message_id (the hex id),
message_state and network_error_code; Kannel then takes the id from the TLV, which is hex,
so the matching value is 3 (both hex). Kannel does not need the TLVs: it parses the text.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.support.smtp import free_port

# command ids (SMPP 3.4 §5.1.2.1)
GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
RESP = 0x80000000  # a response's id is its request's | RESP

# command_status values (§5.1.3)
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDID = 0x03
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RINVDSTADR = 0x0B
ESME_RSYSERR = 0x08
ESME_RTHROTTLED = 0x58

# TLV tags (§5.3.2)
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
TLV_NETWORK_ERROR_CODE = 0x0423
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_SC_INTERFACE_VERSION = 0x0210

# receipt stat → message_state (§5.2.28)
MESSAGE_STATES = {
    "ENROUTE": 1,
    "DELIVRD": 2,
    "EXPIRED": 3,
    "DELETED": 4,
    "UNDELIV": 5,
    "ACCEPTD": 6,
    "UNKNOWN": 7,
    "REJECTD": 8,
}

# GSM 03.38 default alphabet and its extension table (after 0x1B)
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
assert len(GSM_BASIC) == 128


def decode_gsm(data: bytes) -> str:
    """GSM 03.38 septets, one a byte (unpacked, as SMPP carries them)."""
    out: list[str] = []
    escaped = False
    for byte in data:
        if escaped:
            out.append(GSM_EXTENSION.get(byte, " "))
            escaped = False
        elif byte == 0x1B:
            escaped = True
        else:
            out.append(GSM_BASIC[byte & 0x7F])
    return "".join(out)


def decode_text(data: bytes, data_coding: int) -> str:
    """The text of a short message (without its UDH) under its data_coding."""
    if data_coding == 0x08:
        return data.decode("utf-16-be", errors="replace")
    if data_coding == 0x01:
        return data.decode("ascii", errors="replace")
    if data_coding in (0x03, 0x02, 0x04):
        return data.decode("latin-1")
    if data_coding & 0xF0 == 0xF0:  # message class coding group: bit 2 = 8-bit data
        return data.decode("latin-1") if data_coding & 0x04 else decode_gsm(data)
    if data_coding & 0xC0 == 0x00 and data_coding & 0x0C == 0x08:  # general group, UCS-2
        return data.decode("utf-16-be", errors="replace")
    return decode_gsm(data)


def split_udh(short_message: bytes) -> tuple[bytes, bytes]:
    """(UDH including its length byte, the rest) of a short_message with esm_class UDHI."""
    if not short_message:
        return b"", b""
    length = short_message[0] + 1
    return short_message[:length], short_message[length:]


def concat_info(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, total, sequence) from a UDH's concatenation element, if it has one."""
    i = 1
    while i + 1 < len(udh):
        iei, iel = udh[i], udh[i + 1]
        value = udh[i + 2 : i + 2 + iel]
        if iei == 0x00 and iel == 3:
            return value[0], value[1], value[2]
        if iei == 0x08 and iel == 4:
            return (value[0] << 8) | value[1], value[2], value[3]
        i += 2 + iel
    return None


# ---------------------------------------------------------------------------------------------
# PDU reading and writing


class _Reader:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.pos = 0

    def cstring(self) -> str:
        end = self.body.index(b"\x00", self.pos)
        value = self.body[self.pos : end].decode("latin-1")
        self.pos = end + 1
        return value

    def u8(self) -> int:
        value = self.body[self.pos]
        self.pos += 1
        return value

    def octets(self, n: int) -> bytes:
        value = self.body[self.pos : self.pos + n]
        self.pos += n
        return value

    def tlvs(self) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        while self.pos + 4 <= len(self.body):
            tag, length = struct.unpack_from(">HH", self.body, self.pos)
            self.pos += 4
            found[tag] = self.octets(length)
        return found


def _cstring(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


def _tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


def _pdu(command_id: int, status: int, sequence: int, body: bytes = b"") -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


# ---------------------------------------------------------------------------------------------
# what the server saw


@dataclass
class Submitted:
    """One submit_sm as the server took it (a part, when the text was split)."""

    source: str
    source_ton: int
    source_npi: int
    destination: str
    dest_ton: int
    dest_npi: int
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes  # as sent, UDH included
    udh: bytes
    payload: bytes  # the message bytes, without UDH (from message_payload if that was used)
    tlvs: dict[int, bytes]
    system_id: str
    command_status: int  # what we answered: 0, or the refusal
    message_id: str | None  # None when refused
    at: float

    @property
    def text(self) -> str:
        return decode_text(self.payload, self.data_coding)

    @property
    def concat(self) -> tuple[int, int, int] | None:
        """(reference, total, sequence) from the UDH or the SAR TLVs, for a part."""
        info = concat_info(self.udh) if self.udh else None
        if info is None and TLV_SAR_MSG_REF_NUM in self.tlvs:
            return (
                int.from_bytes(self.tlvs[TLV_SAR_MSG_REF_NUM], "big"),
                self.tlvs[TLV_SAR_TOTAL_SEGMENTS][0],
                self.tlvs[TLV_SAR_SEGMENT_SEQNUM][0],
            )
        return info


@dataclass
class Message:
    """A whole message: one submit_sm, or all the parts of a concatenated one, joined."""

    recipient: str  # as Kannel put it in destination_addr: no leading "+" (TON says 1)
    sender: str
    text: str
    parts: list[Submitted]

    @property
    def message_ids(self) -> list[str | None]:
        return [p.message_id for p in self.parts]

    @property
    def refused(self) -> bool:
        return any(p.command_status != ESME_ROK for p in self.parts)


@dataclass
class Receipt:
    """A delivery receipt the server sent (deliver_sm, esm_class 0x04)."""

    message_id: str
    recipient: str
    stat: str
    err: int
    text: str  # the receipt's short_message
    command_status: int | None = None  # Kannel's deliver_sm_resp, once it came


@dataclass
class _Outcome:
    stat: str = "DELIVRD"
    err: int = 0
    delay: float | None = None


@dataclass
class _Session:
    bind: int
    system_id: str
    system_type: str
    interface_version: int
    writer: asyncio.StreamWriter
    sequence: int = 0
    waiting: dict[int, Receipt] = field(default_factory=dict)

    @property
    def receives(self) -> bool:
        return self.bind in (BIND_RECEIVER, BIND_TRANSCEIVER)

    def next_sequence(self) -> int:
        self.sequence = self.sequence % 0x7FFFFFFF + 1
        return self.sequence


def _number(address: str) -> str:
    return address.lstrip("+")


class SmppServer:
    """An SMSC on 127.0.0.1:`port` that ESMEs (Kannel's `smsc = smpp`) bind to.

    `outcome_for(recipient, stat=…, err=…)` sets the receipt a recipient's messages get,
    `refuse(recipient, command_status=…)` makes submit_sm to it fail at once; `messages()`,
    `wait_for_message()` and `receipts` tell what happened.
    """

    def __init__(
        self,
        *,
        system_id: str = "honnin",
        password: str = "secret",  # noqa: S107 - a throwaway test SMSC's
        port: int | None = None,
        receipt_delay: float = 0.05,
        receipt_tlvs: bool = False,
        first_message_id: int = 0x10000000,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.system_id = system_id
        self.password = password
        self.receipt_delay = receipt_delay
        self.receipt_tlvs = receipt_tlvs
        self.lock = threading.Lock()
        self.submitted: list[Submitted] = []
        self.receipts: list[Receipt] = []
        self.binds: list[tuple[str, str, str]] = []  # (kind, system_id, system_type)
        self._outcomes: dict[str, _Outcome] = {}
        self._refusals: dict[str, int] = {}
        self._next_id = first_message_id
        self._sessions: list[_Session] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._bound = threading.Condition(self.lock)

    @property
    def kannel_msg_id_type(self) -> int:
        """The `msg-id-type` that makes Kannel match this server's receipts to its submits."""
        return 3 if self.receipt_tlvs else 1

    # -- control -----------------------------------------------------------------------------

    def outcome_for(
        self, recipient: str, *, stat: str = "DELIVRD", err: int = 0, delay: float | None = None
    ) -> None:
        """Receipts for `recipient` say `stat` (DELIVRD, UNDELIV, REJECTD, EXPIRED, …) and
        `err` (three digits in the text), sent `delay` s (default `receipt_delay`) after."""
        if stat not in MESSAGE_STATES:
            raise ValueError(f"unknown receipt stat {stat!r}")
        with self.lock:
            self._outcomes[_number(recipient)] = _Outcome(stat, err, delay)

    def refuse(self, recipient: str, *, command_status: int = ESME_RINVDSTADR) -> None:
        """submit_sm to `recipient` is answered with `command_status` (no id, no receipt)."""
        with self.lock:
            self._refusals[_number(recipient)] = command_status

    def reset(self) -> None:
        """Forget outcomes, refusals and what was seen (the binds stay)."""
        with self.lock:
            self._outcomes.clear()
            self._refusals.clear()
            self.submitted.clear()
            self.receipts.clear()

    # -- reading -----------------------------------------------------------------------------

    def messages(self, recipient: str | None = None) -> list[Message]:
        """Whole messages so far (a concatenated one once all its parts came), in order."""
        with self.lock:
            parts = list(self.submitted)
        out: list[Message] = []
        groups: dict[tuple[str, str, int, int], dict[int, Submitted]] = {}
        for part in parts:
            info = part.concat
            if info is None or info[1] <= 1:
                out.append(Message(part.destination, part.source, part.text, [part]))
                continue
            ref, total, seq = info
            group = groups.setdefault((part.destination, part.source, ref, total), {})
            group[seq] = part
            if len(group) == total:
                ordered = [group[i] for i in sorted(group)]
                data = b"".join(p.payload for p in ordered)
                text = decode_text(data, ordered[0].data_coding)
                out.append(Message(part.destination, part.source, text, ordered))
                del groups[(part.destination, part.source, ref, total)]
        if recipient is not None:
            out = [m for m in out if m.recipient == _number(recipient)]
        return out

    def wait_for_message(self, recipient: str, timeout: float = 10.0, *, count: int = 1) -> Message:
        """The `count`-th whole message to `recipient`, waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(recipient)
            if len(found) >= count:
                return found[count - 1]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"SMPP server: no message #{count} for {recipient} within {timeout}s; "
                    f"got {[(m.recipient, m.text) for m in self.messages()]}"
                )
            time.sleep(0.02)

    def wait_for_receipt(self, recipient: str, timeout: float = 10.0) -> Receipt:
        """The first receipt to `recipient` that Kannel answered."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                for receipt in self.receipts:
                    if (
                        receipt.recipient == _number(recipient)
                        and receipt.command_status is not None
                    ):
                        return receipt
            if time.monotonic() > deadline:
                raise AssertionError(f"SMPP server: no receipt answered for {recipient}")
            time.sleep(0.02)

    def wait_bound(self, timeout: float = 10.0, *, receiver: bool = True) -> None:
        """Until an ESME is bound (one that can take receipts, with `receiver`)."""
        deadline = time.monotonic() + timeout
        with self._bound:
            while not any(s.receives or not receiver for s in self._sessions):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no ESME bound to the SMPP server within {timeout}s")
                self._bound.wait(left)

    # -- life --------------------------------------------------------------------------------

    def start(self) -> SmppServer:
        ready = threading.Event()
        problem: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve, self.host, self.port)
                )
            except BaseException as e:
                problem.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="smpp-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        if problem:
            raise problem[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for session in list(self._sessions):
                session.writer.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._server is not None:
                await self._server.wait_closed()

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> SmppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- protocol ----------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        session: _Session | None = None
        try:
            while True:
                header = await reader.readexactly(16)
                length, command_id, status, sequence = struct.unpack(">IIII", header)
                if length < 16 or length > 65536:
                    writer.write(_pdu(GENERIC_NACK, ESME_RINVMSGLEN, sequence))
                    break
                body = await reader.readexactly(length - 16)
                session, done = self._handle(session, writer, command_id, status, sequence, body)
                await writer.drain()
                if done:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if session is not None:
                with self._bound:
                    if session in self._sessions:
                        self._sessions.remove(session)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _handle(
        self,
        session: _Session | None,
        writer: asyncio.StreamWriter,
        command_id: int,
        status: int,
        sequence: int,
        body: bytes,
    ) -> tuple[_Session | None, bool]:
        if command_id in (BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER):
            return self._bind(session, writer, command_id, sequence, body), False
        if command_id == ENQUIRE_LINK:
            writer.write(_pdu(ENQUIRE_LINK | RESP, ESME_ROK, sequence))
            return session, False
        if command_id == UNBIND:
            writer.write(_pdu(UNBIND | RESP, ESME_ROK, sequence))
            return session, True
        if command_id == SUBMIT_SM and session is not None:
            self._submit(session, writer, sequence, body)
            return session, False
        if command_id == DELIVER_SM | RESP and session is not None:
            with self.lock:
                receipt = session.waiting.pop(sequence, None)
                if receipt is not None:
                    receipt.command_status = status
            return session, False
        if command_id & RESP:  # enquire_link_resp, unbind_resp, generic_nack: nothing to do
            return session, command_id == UNBIND | RESP
        writer.write(_pdu(GENERIC_NACK, ESME_RINVCMDID, sequence))
        return session, False

    def _bind(
        self,
        session: _Session | None,
        writer: asyncio.StreamWriter,
        command_id: int,
        sequence: int,
        body: bytes,
    ) -> _Session | None:
        r = _Reader(body)
        system_id, password, system_type = r.cstring(), r.cstring(), r.cstring()
        interface_version = r.u8()
        kind = {BIND_RECEIVER: "receiver", BIND_TRANSMITTER: "transmitter"}.get(
            command_id, "transceiver"
        )
        with self.lock:
            self.binds.append((kind, system_id, system_type))
        if session is not None:
            status = 0x05  # ESME_RALYBND
        elif system_id != self.system_id:
            status = ESME_RINVSYSID
        elif password != self.password:
            status = ESME_RINVPASWD
        else:
            status = ESME_ROK
        resp_body = _cstring("HONNINSMSC") + _tlv(TLV_SC_INTERFACE_VERSION, b"\x34")
        writer.write(_pdu(command_id | RESP, status, sequence, resp_body))
        if status != ESME_ROK:
            return session
        new = _Session(command_id, system_id, system_type, interface_version, writer)
        with self._bound:
            self._sessions.append(new)
            self._bound.notify_all()
        return new

    def _submit(
        self, session: _Session, writer: asyncio.StreamWriter, sequence: int, body: bytes
    ) -> None:
        r = _Reader(body)
        r.cstring()  # service_type
        source_ton, source_npi, source = r.u8(), r.u8(), r.cstring()
        dest_ton, dest_npi, destination = r.u8(), r.u8(), r.cstring()
        esm_class = r.u8()
        r.u8()  # protocol_id
        r.u8()  # priority_flag
        r.cstring()  # schedule_delivery_time
        r.cstring()  # validity_period
        registered_delivery = r.u8()
        r.u8()  # replace_if_present_flag
        data_coding = r.u8()
        r.u8()  # sm_default_msg_id
        short_message = r.octets(r.u8())
        tlvs = r.tlvs()
        message = short_message or tlvs.get(TLV_MESSAGE_PAYLOAD, b"")
        udh, payload = split_udh(message) if esm_class & 0x40 else (b"", message)
        with self.lock:
            refusal = self._refusals.get(destination, ESME_ROK)
            outcome = self._outcomes.get(destination, _Outcome())
            message_id: str | None = None
            if refusal == ESME_ROK:
                number = self._next_id
                self._next_id += 1
                message_id = f"{number:X}"
            part = Submitted(
                source,
                source_ton,
                source_npi,
                destination,
                dest_ton,
                dest_npi,
                esm_class,
                registered_delivery,
                data_coding,
                short_message,
                udh,
                payload,
                tlvs,
                session.system_id,
                refusal,
                message_id,
                time.time(),
            )
            self.submitted.append(part)
        if message_id is None:
            writer.write(_pdu(SUBMIT_SM | RESP, refusal, sequence))
            return
        writer.write(_pdu(SUBMIT_SM | RESP, ESME_ROK, sequence, _cstring(message_id)))
        if registered_delivery & 0x03:
            delay = self.receipt_delay if outcome.delay is None else outcome.delay
            self._spawn(self._send_receipt(part, outcome, delay))

    async def _send_receipt(self, part: Submitted, outcome: _Outcome, delay: float) -> None:
        await asyncio.sleep(delay)
        assert part.message_id is not None
        number = int(part.message_id, 16)
        stamp = time.strftime("%y%m%d%H%M", time.localtime(part.at))
        done = time.strftime("%y%m%d%H%M")
        excerpt = part.text[:20].encode("ascii", errors="replace").decode("ascii")
        text = (
            f"id:{number:010d} sub:001 dlvrd:{'001' if outcome.stat == 'DELIVRD' else '000'} "
            f"submit date:{stamp} done date:{done} stat:{outcome.stat} err:{outcome.err:03d} "
            f"text:{excerpt}"
        ).encode("ascii")
        tlvs = b""
        if self.receipt_tlvs:
            tlvs = (
                _tlv(TLV_RECEIPTED_MESSAGE_ID, _cstring(part.message_id))
                + _tlv(TLV_MESSAGE_STATE, bytes([MESSAGE_STATES[outcome.stat]]))
                + _tlv(TLV_NETWORK_ERROR_CODE, bytes([3]) + outcome.err.to_bytes(2, "big"))
            )
        body = (
            _cstring("")  # service_type
            + bytes([part.dest_ton, part.dest_npi])
            + _cstring(part.destination)  # the receipt comes from the handset…
            + bytes([part.source_ton, part.source_npi])
            + _cstring(part.source)  # …to the sender
            + bytes([0x04, 0, 0])  # esm_class: SMSC delivery receipt; protocol_id; priority
            + _cstring("")  # schedule_delivery_time
            + _cstring("")  # validity_period
            + bytes([0, 0, 0, 0])  # registered_delivery, replace, data_coding, default_msg_id
            + bytes([len(text)])
            + text
            + tlvs
        )
        receipt = Receipt(
            part.message_id, part.destination, outcome.stat, outcome.err, text.decode()
        )
        with self.lock:
            sessions = [s for s in self._sessions if s.receives]
            session = next((s for s in sessions if s.system_id == part.system_id), None)
            if session is None:
                return
            seq = session.next_sequence()
            session.waiting[seq] = receipt
            self.receipts.append(receipt)
        session.writer.write(_pdu(DELIVER_SM, ESME_ROK, seq, body))
        with contextlib.suppress(ConnectionError):
            await session.writer.drain()
