"""What the benchmarks in bench/ share: the SMTP sink, the server under test and its CPU time,
the CPU time of the PostgreSQL backends that serve it, and bench databases.

Server CPU per unit of work must include the database's: SQLite's work happens inside the
server's processes, but PostgreSQL's happens in its backends, processes of the postmaster.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg  # type: ignore[import-untyped]
from aiosmtpd.smtp import SMTP, Envelope, Session

ROOT = Path(__file__).resolve().parents[1]
HONNIN_CODE = re.compile(rb"Security code: (\d{6,8})")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(value: float) -> str:
    return f"{value * 1000:7.1f}"


# --- /proc ----------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (field 3 is index 0)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _ticks(fields: list[str]) -> int:
    return int(fields[11]) + int(fields[12])  # utime + stime


def children(pid: int) -> list[int]:
    """The direct children of a process (the kernel's list, or a scan of /proc without it)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
        return found
    except OSError:
        pass
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat(int(stat.parent.name))
        if fields is not None and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of a process and its live descendants."""
    ticks, pending = 0, [root]
    while pending:
        pid = pending.pop()
        fields = _stat(pid)
        if fields is None:
            continue
        ticks += _ticks(fields)
        pending += children(pid)
    return ticks / CLOCK_TICKS


@dataclass(frozen=True)
class MachineCpu:
    """The whole machine's CPU time, busy and in all (/proc/stat), to say how busy it was."""

    busy: int
    total: int

    @classmethod
    def now(cls) -> MachineCpu:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        idle = values[3] + values[4]  # idle + iowait
        return cls(sum(values) - idle, sum(values))

    def busy_since(self, before: MachineCpu) -> float:
        """The fraction of all cores' time that was busy between the two readings."""
        return (self.busy - before.busy) / max(1, self.total - before.total)


# --- the SMTP sink: receives mail in this process and hands codes to whoever waits ---------


class Sink:
    """An SMTP server that reads the code out of each message (the first of `patterns` that
    matches, group 1) and hands it, with the time of receipt, to the future of its recipient."""

    def __init__(self, patterns: Iterable[re.Pattern[bytes]] = (HONNIN_CODE,)) -> None:
        self.patterns = list(patterns)
        self.waiting: dict[str, asyncio.Future[tuple[float, str]]] = {}
        self.received = 0

    def expect(self, address: str) -> asyncio.Future[tuple[float, str]]:
        future: asyncio.Future[tuple[float, str]] = asyncio.get_running_loop().create_future()
        self.waiting[address] = future
        return future

    def forget(self, address: str) -> None:
        self.waiting.pop(address, None)

    def code_in(self, content: bytes) -> str | None:
        for pattern in self.patterns:
            match = pattern.search(content)
            if match:
                return match.group(1).decode()
        return None

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        now = time.perf_counter()
        self.received += 1
        content = envelope.original_content or envelope.content or b""
        assert isinstance(content, bytes)
        code = self.code_in(content)
        for rcpt in envelope.rcpt_tos:
            future = self.waiting.pop(rcpt, None)
            if future is not None and not future.done() and code:
                future.set_result((now, code))
        return "250 2.0.0 OK"

    async def serve(self, port: int) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(
            lambda: SMTP(self, decode_data=False, hostname="sink"), "127.0.0.1", port
        )


# --- the server under test ------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its worker processes."""
        return tree_cpu_seconds(self.process.pid)


@asynccontextmanager
async def server(
    command: list[str], env: dict[str, str], port: int, *, settle: float = 1.0
) -> AsyncIterator[Server]:
    """Start a server and wait for it without blocking this loop (the SMTP sink lives here).
    Its output goes to a file, not a pipe: a chatty server would fill a pipe and stall."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        try:
            await _until_it_answers(process, port, log)
            await asyncio.sleep(settle)  # let every worker finish its start-up
            yield Server(process, f"http://127.0.0.1:{port}")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


async def _until_it_answers(process: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise SystemExit(f"server did not start: {log.read().decode()[-2000:]}")
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)


# --- PostgreSQL: bench databases and the CPU of their backends ------------------------------


def pg_url(database: str, driver: str = "asyncpg") -> str:
    """The bench database's URL, for SQLAlchemy (`driver`) or libpq (`driver=""`)."""
    scheme = f"postgresql+{driver}" if driver else "postgresql"
    return f"{scheme}://postgres@127.0.0.1:5432/{database}"


async def create_database(name: str) -> None:
    """A new, empty database (dropped first if a run before left it)."""
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def migrated_database(kind: str, folder: Path, pg_database: str) -> str:
    """The URL of a fresh, migrated honnin database: a SQLite file in `folder`, or PostgreSQL's
    `pg_database` (re-created)."""
    from honnin.migrations import upgrade_async

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder}/honnin.db"
    else:
        await create_database(pg_database)
        url = pg_url(pg_database)
    await upgrade_async(url)
    return url


async def postmaster_pid() -> int:
    """The PostgreSQL server's main process: the parent of the backend that answers us."""
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        fields = _stat(int(await admin.fetchval("SELECT pg_backend_pid()")))
    finally:
        await admin.close()
    if fields is None:
        raise SystemExit("the PostgreSQL server's processes are not visible in /proc")
    return int(fields[1])


# "postgres: [cluster: ]user database host(port) state", as backends name themselves
_BACKEND_TITLE = re.compile(r"^postgres: (?:\S+: )?(\S+) (\S+) ")


def _database_of(pid: int) -> str | None:
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode()
    except (OSError, UnicodeDecodeError):
        return None
    match = _BACKEND_TITLE.match(title)
    return match.group(2) if match else None


@dataclass
class Backends:
    """CPU of the PostgreSQL backends connected to some databases (other databases of the same
    server, e.g. other people's tests, are left out; so are the server's shared background
    processes). Backends come and go: each is remembered by (pid, start time) with the CPU it
    had when last seen, and `watch` samples often enough that one that exits loses little."""

    postmaster: int
    databases: Collection[str]
    seen: dict[tuple[int, str], int] = field(default_factory=dict)

    def sample(self) -> None:
        for pid in children(self.postmaster):
            fields = _stat(pid)
            if fields is None or _database_of(pid) not in self.databases:
                continue
            self.seen[(pid, fields[19])] = _ticks(fields)  # fields[19]: start time

    def cpu_seconds(self) -> float:
        """CPU of every backend seen so far, up to now: the difference of two readings is
        the backends' CPU between them."""
        self.sample()
        return sum(self.seen.values()) / CLOCK_TICKS

    @asynccontextmanager
    async def watch(self, interval: float = 0.25) -> AsyncIterator[Backends]:
        async def sampling() -> None:
            while True:
                self.sample()
                await asyncio.sleep(interval)

        task = asyncio.create_task(sampling())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# --- profiles ---------------------------------------------------------------------------------


@asynccontextmanager
async def flamegraph(target: Server, svg: Path | None, seconds: float) -> AsyncIterator[None]:
    """Sample the server's processes with py-spy while the block runs (a flame graph as SVG);
    nothing if `svg` is None. py-spy costs the server little: it reads the processes' memory
    from outside, 100 times a second."""
    if svg is None:
        yield
        return
    svg.parent.mkdir(parents=True, exist_ok=True)
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(target.process.pid),
        "--subprocesses", "--nonblocking", "--rate", "100", "--duration", str(int(seconds)),
        "--format", "flamegraph", "--output", str(svg),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        yield
    finally:
        _out, err = await spy.communicate()
        if spy.returncode != 0:
            print(f"py-spy failed ({spy.returncode}): {err.decode()[-500:]}")
        else:
            print(f"  flame graph: {svg.relative_to(ROOT) if svg.is_relative_to(ROOT) else svg}")


# --- honnin under test --------------------------------------------------------------------------

# Every throttle raised so that none refuses: per second, because `limits`' in-memory moving
# window keeps one entry per hit for the whole window (an hourly window grows the worker's
# memory and slows each hit as a run goes on, which no real deployment sees).
RAISED_LIMIT = "1000000/second"
LIMITS = (
    "CLIENT_SENDS", "CLIENT_CHECKS", "IP_SENDS", "IP_CHECKS", "DESTINATION_SENDS",
    "ACCOUNT_SENDS", "NAME_FAILURES",
)  # fmt: skip


def honnin_env(
    url: str, smtp_port: int, folder: str | Path, *, raised: Iterable[str] = LIMITS, **settings: str
) -> dict[str, str]:
    """The environment of a honnin server under test: a fresh secret, its database, the sink
    as its relay, its own data folder, the `raised` limits; `settings`: more, by name."""
    return {
        "HONNIN_SECRET_KEY": secrets.token_urlsafe(48),
        "HONNIN_DATABASE_URL": url,
        "HONNIN_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "HONNIN_DATA_DIR": str(folder),
        **{f"HONNIN_LIMIT_{name}": RAISED_LIMIT for name in raised},
        **settings,
    }


def honnin_command(port: int, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "honnin", "serve", "--port", str(port),
            "--workers", str(workers)]  # fmt: skip


async def open_loop(work: Callable[[], Awaitable[None]], rate: float, seconds: float) -> None:
    """Start `work` `rate` times a second for `seconds`, on schedule whether or not earlier
    ones finished (a slow server shows as latency, not as fewer requests); wait for all."""
    tasks: set[asyncio.Future[None]] = set()
    started = time.perf_counter()
    n = 0
    while (now := time.perf_counter()) < started + seconds:
        due = started + n / rate
        if due > now:
            await asyncio.sleep(due - now)
        task = asyncio.ensure_future(work())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
    await asyncio.gather(*tasks)
