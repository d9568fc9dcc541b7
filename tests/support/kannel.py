"""The real Kannel SMS gateway (Debian's `kannel` + `kannel-extras`), run for a test.

The service sends SMS through Kannel's smsbox HTTP interface (`/cgi-bin/sendsms`) and learns
their fate from delivery reports (DLRs) that smsbox fetches at the message's `dlr-url`. A fake
of that interface would only repeat what we believe Kannel does; this runs the real thing on
loopback, on free ports, from a config written into a temporary directory:

- bearerbox (the core) with two SMSC links: `smsc = fake`, answered by Kannel's own `fakesmsc`
  test program, which prints every message it gets (read back here by `received()` /
  `wait_for_message()`, text decoded) and makes Kannel report each one delivered; and, given an
  `SmppServer` (tests/support/smpp.py), `smsc = smpp` bound to it, for receipts that say
  UNDELIV/REJECTD/EXPIRED and for submits the SMSC refuses;
- smsbox, with the sendsms HTTP interface and one sendsms-user.

`DlrReceiver` is a small HTTP server that records the DLR requests smsbox makes.

Binaries absent: `kannel_missing()` says why, `require_kannel()` skips (fails with CI=true).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from honnin.courier.models import MessageStatus
from honnin.runtime import Runtime
from tests.support.ci import unavailable
from tests.support.smpp import SmppServer, concat_info
from tests.support.smtp import free_port

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")  # in kannel-extras
PACKAGES = "kannel kannel-extras"


def kannel_missing() -> str | None:
    """Why Kannel cannot run here, or None when it can."""
    absent = [str(p) for p in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(p, os.X_OK)]
    if absent:
        return f"Kannel is not installed (no {', '.join(absent)}): apt-get install {PACKAGES}"
    return None


def kannel_available() -> bool:
    return kannel_missing() is None


def require_kannel() -> None:
    """Skip the test when Kannel is absent, saying why; with CI=true, fail."""
    reason = kannel_missing()
    if reason is not None:
        unavailable(reason)


class KannelError(RuntimeError):
    """Kannel did not start (or stop) as it should; the message has the logs' tails."""


# ---------------------------------------------------------------------------------------------
# what fakesmsc received

# fakesmsc (-v 0) logs each line the fake SMSC sends it: "… DEBUG: Got message N: <LINE>", where
# LINE is "SENDER RECEIVER text TEXT" (7-bit, the text as is, in UTF-8), "… ucs-2 DATA"
# (UTF-16-BE, URL-encoded, '+' for the byte 0x20), "… data DATA" (8-bit, URL-encoded) or
# "… udh UDH data DATA" (any coding: a part of a long message; both URL-encoded).
_GOT = re.compile(r"DEBUG: Got message \d+: <(?P<line>.*)>$")
_LINE = re.compile(
    r"(?P<sender>.*?) (?P<receiver>\+?[0-9]+) (?P<type>text|ucs-2|data|udh) (?P<rest>.*)", re.DOTALL
)
# bearerbox's access log: one "Sent SMS" line per whole message (not per part), with its coding
# (the 2nd of the flags) and text (hex for UCS-2 and 8-bit)
_SENT = re.compile(
    r"Sent SMS \[SMSC:(?P<smsc>[^\]]*)\].*\[to:(?P<to>[^\]]*)\] \[flags:(?P<flags>[^\]]*)\] "
    r"\[msg:(?P<length>\d+):(?P<msg>.*)\] \[udh:\d+:[^\]]*\]$"
)


def _url_decode(data: str) -> bytes:
    """Kannel's octstr_url_encode, undone: %XX escapes, '+' for a space."""
    return urllib.parse.unquote_to_bytes(data.replace("+", "%20"))


@dataclass
class FakeSms:
    """A message as fakesmsc got it (the parts of a long one joined, in order)."""

    sender: str
    recipient: str  # as given to sendsms, "+" kept
    text: str  # decoded
    coding: str  # "text" (7-bit), "ucs-2" or "data" (8-bit)
    data: bytes  # the message's bytes: UTF-8 for "text", UTF-16-BE for "ucs-2"
    udh: list[bytes] = field(default_factory=list)  # each part's UDH, for a long message

    @property
    def parts(self) -> int:
        return max(1, len(self.udh))


@dataclass
class _Sent:
    smsc: str
    to: str
    coding: int
    length: int
    msg: str

    def matches(self, data: bytes) -> bool:
        if self.length != len(data):
            return False
        if self.msg == data.hex().upper():
            return True
        # text: bytes outside printable ASCII are logged as "."
        return all(c == "." or c == chr(b) for c, b in zip(self.msg, data, strict=False))


def _decode(data: bytes, coding: str) -> str:
    if coding == "ucs-2":
        return data.decode("utf-16-be", errors="replace")
    if coding == "data":
        return data.decode("latin-1")
    return data.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------
# delivery reports


@dataclass
class Dlr:
    """One request smsbox made to a dlr-url."""

    path: str
    params: dict[str, str]
    at: float

    @property
    def tag(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def status(self) -> int:
        return int(self.params["status"])

    @property
    def reply(self) -> str:
        return self.params.get("reply", "")


class DlrReceiver:
    """An HTTP server on loopback recording the DLR requests smsbox makes (answers 200).

    `url(tag)` is a dlr-url for one message (or test): Kannel fills its escapes in —
    status=%d (1 delivered, 2 failed, 4 buffered, 8 SMSC accepted, 16 SMSC rejected),
    reply=%A (the SMSC's words: "ACK/…", "NACK/…" or the receipt text), smsc=%i,
    smsc_id=%F (the SMSC's message id), phone=%p (the handset: the original recipient),
    sender=%P (the original sender), ts=%T (unix time), meta=%D (e.g. "?smpp?dlr_err=…&").
    """

    ESCAPES = "status=%d&reply=%A&smsc=%i&smsc_id=%F&phone=%p&sender=%P&ts=%T&meta=%D"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.received: list[Dlr] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                with receiver.lock:
                    receiver.received.append(Dlr(parts.path, params, time.time()))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    def url(self, tag: str, escapes: str | None = None) -> str:
        return f"http://127.0.0.1:{self.port}/dlr/{tag}?{escapes or self.ESCAPES}"

    def start(self) -> DlrReceiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> DlrReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def for_tag(self, tag: str) -> list[Dlr]:
        with self.lock:
            return [d for d in self.received if d.tag == tag]

    def wait_for(self, tag: str, status: int | None = None, timeout: float = 10.0) -> Dlr:
        """The first DLR for `tag` (with that `status`), waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            for dlr in self.for_tag(tag):
                if status is None or dlr.status == status:
                    return dlr
            if time.monotonic() > deadline:
                got = [(d.status, d.reply) for d in self.for_tag(tag)]
                raise AssertionError(
                    f"no DLR{f' {status}' if status else ''} for {tag!r} within {timeout}s;"
                    f" got {got}"
                )
            time.sleep(0.02)


# ---------------------------------------------------------------------------------------------
# the gateway


class KannelGateway:
    """bearerbox + smsbox + fakesmsc (and an SMPP link to `smpp`, if given) from `workdir`.

    Use as a context manager, or `start()` / `stop()`. Send with GET `sendsms_base` and
    `username` / `password` (or build the URL with `sendsms_url()`); `smsc=fake_smsc_id`
    (the default route) or `smsc=smpp_smsc_id`.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        smpp: SmppServer | None = None,
        username: str = "honnin",
        password: str = "kannel-secret",  # noqa: S107 - a throwaway test gateway's
        max_messages: int = 10,
        start_timeout: float = 15.0,
    ) -> None:
        if missing := kannel_missing():
            raise KannelError(missing)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.smpp = smpp
        self.username = username
        self.password = password
        self.max_messages = max_messages
        self.start_timeout = start_timeout
        self.admin_port = free_port()
        self.smsbox_port = free_port()
        self.fake_port = free_port()
        self.sendsms_port = free_port()
        self.admin_password = "admin-secret"
        self.status_password = "status-secret"
        self.fake_smsc_id = "fake"
        self.smpp_smsc_id = "smpp"  # routes to the SMPP link (only when `smpp` is given)
        self.config_path = self.workdir / "kannel.conf"
        self.access_log = self.workdir / "access.log"
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._outputs: list[IO[bytes]] = []
        self.crashes: list[str] = []  # what `ensure_running` found dead, with the logs' tails

    # -- addresses ---------------------------------------------------------------------------

    @property
    def sendsms_base(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def admin_base(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def sendsms_url(
        self, *, to: str, text: str, sender: str | None = None, **params: str | int
    ) -> str:
        """The full sendsms URL for `to`, `text` and `sender` ("from": Kannel answers 400
        without one) and e.g. coding=2, dlr_url=…, every value URL-encoded (a bare "+" in
        `to` would be a space). Underscores in keyword names become dashes (dlr_url →
        dlr-url, dlr_mask → dlr-mask)."""
        query = {"username": self.username, "password": self.password, "to": to, "text": text}
        if sender is not None:
            query["from"] = sender
        query.update({k.replace("_", "-"): str(v) for k, v in params.items()})
        return f"{self.sendsms_base}?{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}"

    # -- config ------------------------------------------------------------------------------

    def config(self) -> str:
        w = self.workdir
        groups = [
            f"""group = core
admin-port = {self.admin_port}
admin-interface = 127.0.0.1
admin-password = {self.admin_password}
status-password = {self.status_password}
smsbox-port = {self.smsbox_port}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
dlr-storage = internal
log-file = "{w / "bearerbox.log"}"
log-level = 0
access-log = "{self.access_log}"
""",
            f"""group = smsc
smsc = fake
smsc-id = {self.fake_smsc_id}
allowed-smsc-id = {self.fake_smsc_id}
our-host = 127.0.0.1
port = {self.fake_port}
""",
        ]
        if self.smpp is not None:
            groups.append(
                f"""group = smsc
smsc = smpp
smsc-id = {self.smpp_smsc_id}
allowed-smsc-id = {self.smpp_smsc_id}
host = {self.smpp.host}
port = {self.smpp.port}
transceiver-mode = true
smsc-username = {self.smpp.system_id}
smsc-password = {self.smpp.password}
system-type = honnin
msg-id-type = {self.smpp.kannel_msg_id_type}
reconnect-delay = 1
"""
            )
        groups += [
            f"""group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.smsbox_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{w / "smsbox.log"}"
log-level = 0
access-log = "{w / "smsbox-access.log"}"
""",
            f"""group = sendsms-user
username = {self.username}
password = {self.password}
max-messages = {self.max_messages}
concatenation = true
default-smsc = {self.fake_smsc_id}
""",
        ]
        return "\n".join(groups)

    # -- life --------------------------------------------------------------------------------

    def start(self) -> KannelGateway:
        self.config_path.write_text(self.config())
        try:
            self._spawn("bearerbox", [str(BEARERBOX), "-v", "2", str(self.config_path)])
            self._wait("bearerbox's admin interface", lambda: self.status() is not None)
            self._spawn("smsbox", [str(SMSBOX), "-v", "2", str(self.config_path)])
            self._wait("smsbox", self._smsbox_ready)
            fake = [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.fake_port)]
            # -m 0: send no MO message (the one given is never used); -v 0: log what it gets
            self._spawn("fakesmsc", [*fake, "-m", "0", "-v", "0", "0 0 text unused"])
            self._wait("the fake SMSC link", lambda: self._smsc_online(self.fake_smsc_id))
            if self.smpp is not None:
                self._wait("the SMPP link", lambda: self._smsc_online(self.smpp_smsc_id))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop fakesmsc, smsbox, then bearerbox, each in turn: SIGTERM, SIGKILL after 10 s.
        (In turn, as signalled all at once bearerbox takes a second longer to go.)"""
        for name in ("fakesmsc", "smsbox", "bearerbox"):
            process = self._processes.pop(name, None)
            if process is None:
                continue
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for output in self._outputs:
            output.close()
        self._outputs.clear()

    def ensure_running(self) -> None:
        """Start the gateway again if one of its programs died. smsbox 1.4.5 panics
        (`conn_unregister: Assertion conn != NULL`) when the server it is sending a delivery
        report to closes the connection mid-request — here, a test's app shutting down; one
        such crash must fail that test alone, not every later test of the module."""
        dead = [name for name, p in self._processes.items() if p.poll() is not None]
        if not dead:
            return
        self.crashes.append(f"{', '.join(dead)} died\n" + self.log_tails(10))
        self.stop()
        self.start()

    def __enter__(self) -> KannelGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, argv: list[str]) -> None:
        output = (self.workdir / f"{name}.out").open("ab")
        self._outputs.append(output)
        self._processes[name] = subprocess.Popen(
            argv,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )

    def _wait(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            for name, process in self._processes.items():
                if process.poll() is not None:
                    raise KannelError(
                        f"{name} exited ({process.returncode}) while waiting for {what}\n"
                        + self.log_tails()
                    )
            if ready():
                return
            if time.monotonic() > deadline:
                raise KannelError(
                    f"{what} not ready within {self.start_timeout}s\n" + self.log_tails()
                )
            time.sleep(0.02)

    def status(self) -> str | None:
        """bearerbox's status.txt, or None when it does not answer."""
        url = f"{self.admin_base}/status.txt?password={self.status_password}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                return bytes(response.read()).decode("utf-8", errors="replace")
        except OSError:
            return None

    def _smsbox_ready(self) -> bool:
        status = self.status() or ""
        if not re.search(r"^\s+smsbox:", status, re.MULTILINE):
            return False
        with socket.socket() as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", self.sendsms_port)) == 0

    def _smsc_online(self, smsc_id: str) -> bool:
        status = self.status() or ""
        pattern = rf"^\s+{re.escape(smsc_id)}\[[^\]]*\]\s+\S+\s+\(online"
        return re.search(pattern, status, re.MULTILINE) is not None

    def log_tails(self, lines: int = 25) -> str:
        """The last `lines` of each log and output file, and their last errors and warnings
        (the tail of a log is often the status polling's debug lines), for an error message."""
        out: list[str] = []
        for path in sorted(self.workdir.glob("*.log")) + sorted(self.workdir.glob("*.out")):
            if "access" in path.name or not path.is_file():
                continue
            all_lines = path.read_text(errors="replace").splitlines()
            tail = all_lines[-lines:]
            problems = [
                line
                for line in all_lines[:-lines]
                if re.search(r"\] (PANIC|ERROR|WARNING): ", line)
            ][-10:]
            if problems:
                out.append(
                    f"--- {path.name} (its last errors and warnings)\n" + "\n".join(problems)
                )
            out.append(f"--- {path.name} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(out)

    # -- what fakesmsc received --------------------------------------------------------------

    def _lines(self) -> list[str]:
        """The lines the fake SMSC sent to fakesmsc, in order (a line with a newline in its
        text is joined back to one)."""
        path = self.workdir / "fakesmsc.out"
        lines: list[str] = []
        with contextlib.suppress(FileNotFoundError):
            for raw in path.read_text(errors="replace").splitlines():
                got = _GOT.search(raw)
                if got is None:
                    continue
                line = got.group("line")
                # a 7-bit text with a newline reaches fakesmsc as two lines
                previous = _LINE.fullmatch(lines[-1]) if lines else None
                if previous and previous["type"] == "text" and not _LINE.fullmatch(line):
                    lines[-1] += "\n" + line
                    continue
                lines.append(line)
        return lines

    def _sent(self) -> list[_Sent]:
        sent: list[_Sent] = []
        with contextlib.suppress(FileNotFoundError):
            for raw in self.access_log.read_text(errors="replace").splitlines():
                m = _SENT.search(raw)
                if m is None:
                    continue
                coding = int(m["flags"].split(":")[1])
                sent.append(_Sent(m["smsc"], m["to"], coding, int(m["length"]), m["msg"]))
        return sent

    def received(self) -> list[FakeSms]:
        """Whole messages fakesmsc got so far, in order. A long one (parts with a
        concatenation UDH) counts once all its parts came and bearerbox logged it as sent
        (the log tells its coding, which the parts' lines do not)."""
        out: list[FakeSms] = []
        groups: dict[tuple[str, str, int, int], dict[int, tuple[bytes, bytes]]] = {}
        sent: list[_Sent] | None = None
        for line in self._lines():
            m = _LINE.fullmatch(line)
            if m is None:
                continue
            sender, receiver, kind, rest = m["sender"], m["receiver"], m["type"], m["rest"]
            if kind == "text":
                data = rest.encode("utf-8")
                out.append(FakeSms(sender, receiver, rest, kind, data))
                continue
            if kind in ("ucs-2", "data"):
                data = _url_decode(rest)
                out.append(FakeSms(sender, receiver, _decode(data, kind), kind, data))
                continue
            udh_text, _, data_text = rest.partition(" data ")
            udh, data = _url_decode(udh_text), _url_decode(data_text)
            info = concat_info(udh)
            ref, total, seq = info if info is not None else (-1, 1, 1)
            group = groups.setdefault((sender, receiver, ref, total), {})
            group[seq] = (udh, data)
            if len(group) < total:
                continue
            del groups[(sender, receiver, ref, total)]
            ordered = [group[i] for i in sorted(group)]
            whole = b"".join(d for _, d in ordered)
            if sent is None:
                sent = self._sent()
            entry = next(
                (
                    s
                    for s in sent
                    if s.smsc == self.fake_smsc_id and s.to == receiver and s.matches(whole)
                ),
                None,
            )
            if entry is None:
                continue  # not logged yet: its coding is not known yet
            sent.remove(entry)
            coding = {2: "ucs-2", 1: "data"}.get(entry.coding, "text")
            udhs = [u for u, _ in ordered]
            out.append(FakeSms(sender, receiver, _decode(whole, coding), coding, whole, udhs))
        return out

    def wait_for_message(self, to: str, timeout: float = 10.0, *, count: int = 1) -> FakeSms:
        """The `count`-th whole message fakesmsc got for `to`, waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.received() if m.recipient == to]
            if len(found) >= count:
                return found[count - 1]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"fakesmsc got no message #{count} for {to} within {timeout}s; it got "
                    f"{self._lines()}\n" + self.log_tails(10)
                )
            time.sleep(0.02)


async def reports_in(runtime: Runtime, timeout: float = 10.0) -> None:
    """Wait until every text of `runtime` has its final report (delivered, undelivered, failed),
    so that smsbox is not left fetching a report URL from an app that is shutting down (see
    `KannelGateway.ensure_running`). Gives up quietly after `timeout`: the test decides."""
    final = {MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = [m for m in await runtime.messages.recent(limit=100) if m.channel == "sms"]
        if all(m.status in final for m in texts):
            return
        await asyncio.sleep(0.05)
