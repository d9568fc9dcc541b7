"""Texts through the real Kannel gateway, for bench/verifications.py --channel sms.

The gateway is the tests' (tests/support/kannel.py: bearerbox + smsbox + Kannel's fakesmsc,
which takes every text and has Kannel report it delivered), with its logs at a production
level instead of debug. What fakesmsc got is read back here incrementally: the tests'
`received()` reads and parses its whole output file on every call, which costs more with
every text of a run (4.7 ms of CPU a call after 500 texts: polled for 32 waiting clients, it
would take more of the cores than the server); `FakeSmscReader` keeps its place in the file
and parses only new lines (under 0.1 ms per pair), every 2 ms (which a receipt's time may
be late by), then hands each code, with the time it saw it, to whoever waits for that number.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
import urllib.parse
from pathlib import Path

from tests.support.kannel import _GOT, _LINE, KannelGateway, _url_decode, kannel_missing
from tests.support.smpp import concat_info

from bench.harness import CLOCK_TICKS, _stat, _ticks, children

__all__ = ["SENDER", "BenchGateway", "FakeSmscReader", "KannelCpu", "kannel_missing", "provider"]

SENDER = "+815012340000"
# the WebOTP line honnin ends a text with ("@host #code"), and the stand-in too
WEBOTP = re.compile(r"@\S+ #(\d{6,8})\s*$")
KANNEL_PROCESSES = ("bearerbox", "smsbox", "fakesmsc")


class BenchGateway(KannelGateway):
    """The tests' gateway with bearerbox's and smsbox's logs at `log_level` (Kannel's 0 is
    debug: a dozen lines per text; 1 info; 2 warning). bearerbox's access log (a line per
    text) stays, as in production; fakesmsc logs what it gets at debug, which is how it is
    read back."""

    def __init__(self, workdir: Path, *, log_level: int = 1, max_messages: int = 10) -> None:
        super().__init__(workdir, max_messages=max_messages)
        self.log_level = log_level

    def config(self) -> str:
        return super().config().replace("log-level = 0", f"log-level = {self.log_level}")


def provider(gateway: KannelGateway) -> str:
    """honnin's HONNIN_SMS_PROVIDERS for the gateway's fake SMSC (as the functional tests')."""
    sender = urllib.parse.quote(SENDER, safe="")
    address = gateway.sendsms_base.removeprefix("http://")
    user, password = gateway.username, gateway.password
    return f"kannel+http://{user}:{password}@{address}?smsc={gateway.fake_smsc_id}&from={sender}"


class FakeSmscReader:
    """Follows fakesmsc's output file, every `interval` seconds, from where it stopped: each
    whole text (a 7-bit text with a newline comes as two lines; a long one as parts with a
    concatenation UDH) whose last line is the WebOTP line resolves the future `expect` gave
    for its number with (time seen, code). `busy` is the time spent reading and parsing."""

    def __init__(self, path: Path, interval: float = 0.002) -> None:
        self.path = path
        self.interval = interval
        self.waiting: dict[str, asyncio.Future[tuple[float, str]]] = {}
        self.received = 0  # texts with a code
        self.busy = 0.0
        self._offset = 0
        self._partial = b""
        self._text_of: str | None = None  # the number a 7-bit text's next line continues
        self._texts: dict[str, str] = {}
        self._parts: dict[tuple[str, int, int], dict[int, bytes]] = {}
        self._task: asyncio.Task[None] | None = None

    def expect(self, number: str) -> asyncio.Future[tuple[float, str]]:
        future: asyncio.Future[tuple[float, str]] = asyncio.get_running_loop().create_future()
        self.waiting[number] = future
        return future

    def forget(self, number: str) -> None:
        self.waiting.pop(number, None)

    async def __aenter__(self) -> FakeSmscReader:
        with contextlib.suppress(FileNotFoundError):
            self._offset = self.path.stat().st_size  # what came before is not ours
        self._task = asyncio.create_task(self._follow())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self) -> None:
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            while True:
                started = time.perf_counter()
                self.poll(fd, started)
                self.busy += time.perf_counter() - started
                await asyncio.sleep(self.interval)
        finally:
            os.close(fd)

    def poll(self, fd: int, now: float) -> None:
        chunks = []
        while chunk := os.pread(fd, 1 << 20, self._offset):
            chunks.append(chunk)
            self._offset += len(chunk)
        if not chunks:
            return
        data = self._partial + b"".join(chunks)
        *lines, self._partial = data.split(b"\n")
        for raw in lines:
            got = _GOT.search(raw.decode("utf-8", errors="replace"))
            if got is not None:
                self._line(got.group("line"), now)

    def _line(self, line: str, now: float) -> None:
        m = _LINE.fullmatch(line)
        if m is None:  # the next line of a 7-bit text
            if self._text_of is not None and self._text_of in self._texts:
                self._texts[self._text_of] += "\n" + line
                self._resolve(self._text_of, self._texts[self._text_of], now)
            return
        receiver, kind, rest = m["receiver"], m["type"], m["rest"]
        self._text_of = receiver if kind == "text" else None
        if kind == "text":
            self._texts[receiver] = rest
            self._resolve(receiver, rest, now)
        elif kind == "ucs-2":
            self._resolve(receiver, _url_decode(rest).decode("utf-16-be", "replace"), now)
        elif kind == "data":
            self._resolve(receiver, _url_decode(rest).decode("latin-1"), now)
        else:  # udh: one part of a long text
            udh_text, _, data_text = rest.partition(" data ")
            udh, part = _url_decode(udh_text), _url_decode(data_text)
            ref, total, seq = concat_info(udh) or (-1, 1, 1)
            parts = self._parts.setdefault((receiver, ref, total), {})
            parts[seq] = part
            if len(parts) == total:
                del self._parts[(receiver, ref, total)]
                whole = b"".join(parts[i] for i in sorted(parts))
                # the parts do not say their coding: the WebOTP line is ASCII, so whichever
                # reading finds it is the right one
                for text in (whole.decode("utf-16-be", "replace"), whole.decode("latin-1")):
                    if self._resolve(receiver, text, now):
                        break

    def _resolve(self, receiver: str, text: str, now: float) -> bool:
        found = WEBOTP.search(text)
        if found is None:
            return False
        self._texts.pop(receiver, None)
        self.received += 1
        future = self.waiting.pop(receiver, None)
        if future is not None and not future.done():
            future.set_result((now, found.group(1)))
        return True


class KannelCpu:
    """User + system CPU of Kannel's processes (bearerbox, smsbox, fakesmsc), each: the
    children of this process with those names."""

    def __init__(self) -> None:
        self.pids = {
            pid: name for pid in children(os.getpid()) if (name := _name(pid)) in KANNEL_PROCESSES
        }

    def seconds(self) -> dict[str, float]:
        ticks = dict.fromkeys(KANNEL_PROCESSES, 0)
        for pid, name in self.pids.items():
            fields = _stat(pid)
            if fields is not None:
                ticks[name] += _ticks(fields)
        return {name: value / CLOCK_TICKS for name, value in ticks.items()}


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
