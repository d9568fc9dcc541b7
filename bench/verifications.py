"""Verification API throughput and delivery latency, against a running service.

    .venv/bin/python bench/verifications.py [--db sqlite postgresql] [--seconds 10]

For each target it starts the server (2 uvicorn workers, uvloop + httptools) and, in this
process, an SMTP sink on loopback that reads each code out of the email it receives. A pair is
what an application does: create a verification, wait for the email, check the code. It prints:

- pairs/s at concurrency 32 (closed loop), p50/p99 of each call, p50/p99 create→SMTP receipt,
  and the server's CPU time per pair;
- create→SMTP receipt p50/p99 at half that rate (open loop);

for: a bare FastAPI POST (req/s: the floor), the stand-in that does only the unavoidable work
(bench/standin_app.py: the ceiling), and honnin on SQLite and on PostgreSQL. The load
generator, the sink and the server share the machine's cores, as they would in DESIGN.md's
figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import uvloop
from aiosmtpd.smtp import SMTP, Envelope, Session

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 32
WORKERS = 2
CODE = re.compile(rb"Security code: (\d{6,8})")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+asyncpg://postgres@127.0.0.1:5432/honnin_bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the SMTP sink: receives mail in this process and hands codes to waiting pairs ---------


class Sink:
    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[tuple[float, str]]] = {}
        self.received = 0

    def expect(self, address: str) -> asyncio.Future[tuple[float, str]]:
        future: asyncio.Future[tuple[float, str]] = asyncio.get_running_loop().create_future()
        self.waiting[address] = future
        return future

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        now = time.perf_counter()
        self.received += 1
        content = envelope.original_content or envelope.content or b""
        assert isinstance(content, bytes)
        match = CODE.search(content)
        for rcpt in envelope.rcpt_tos:
            future = self.waiting.pop(rcpt, None)
            if future is not None and not future.done() and match:
                future.set_result((now, match.group(1).decode()))
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
        pids = {self.process.pid}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.add(int(stat.parent.name))
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def server(command: list[str], env: dict[str, str], port: int) -> AsyncIterator[Server]:
    """Start a server and wait for it without blocking this loop (the SMTP sink lives here)."""
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise SystemExit(f"server did not start: {stderr[-2000:]}")
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # let every worker finish its start-up
        yield Server(process, base)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def uvicorn(app: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", app, "--port", str(port), "--workers", str(WORKERS),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


# --- load ---------------------------------------------------------------------------------


@dataclass
class Samples:
    create: list[float] = field(default_factory=list)
    check: list[float] = field(default_factory=list)
    receipt: list[float] = field(default_factory=list)
    pairs: int = 0
    errors: int = 0


class Pairs:
    def __init__(self, session: aiohttp.ClientSession, base: str, sink: Sink, key: str) -> None:
        self.session = session
        self.base = base
        self.sink = sink
        self.headers = {"Authorization": f"Bearer {key}"}
        self.run_id = secrets.token_hex(3)
        self.counter = 0

    async def one(self, samples: Samples) -> None:
        self.counter += 1
        to = f"u{self.counter}.{self.run_id}@bench.example.com"
        arrival = self.sink.expect(to)
        started = time.perf_counter()
        async with self.session.post(
            f"{self.base}/api/v1/verifications", json={"to": to}, headers=self.headers
        ) as response:
            body = await response.json()
            if response.status != 201:
                samples.errors += 1
                self.sink.waiting.pop(to, None)
                return
        created = time.perf_counter()
        try:
            received_at, code = await asyncio.wait_for(arrival, 30)
        except TimeoutError:
            samples.errors += 1
            return
        before_check = time.perf_counter()
        async with self.session.post(
            f"{self.base}/api/v1/verifications/{body['id']}/check",
            json={"code": code},
            headers=self.headers,
        ) as response:
            await response.read()
            if response.status != 200:
                samples.errors += 1
                return
        samples.create.append(created - started)
        samples.receipt.append(received_at - started)
        samples.check.append(time.perf_counter() - before_check)
        samples.pairs += 1


async def closed_loop(
    work: Callable[[Samples], Awaitable[None]], seconds: float, concurrency: int = CONCURRENCY
) -> tuple[Samples, float]:
    samples = Samples()
    deadline = time.perf_counter() + seconds

    async def user() -> None:
        while time.perf_counter() < deadline:
            await work(samples)

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    return samples, time.perf_counter() - started


async def open_loop(
    work: Callable[[Samples], Coroutine[Any, Any, None]], rate: float, seconds: float
) -> Samples:
    samples = Samples()
    tasks: set[asyncio.Task[None]] = set()
    started = time.perf_counter()
    n = 0
    while (now := time.perf_counter()) - started < seconds:
        due = started + n / rate
        if due > now:
            await asyncio.sleep(due - now)
        task = asyncio.create_task(work(samples))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
    await asyncio.gather(*tasks)
    return samples


def ms(value: float) -> str:
    return f"{value * 1000:7.1f}"


@dataclass
class Result:
    name: str
    rate: float
    cpu_ms: float | None = None
    full: Samples | None = None
    half: Samples | None = None
    half_rate: float = 0.0


def report(result: Result) -> None:
    if result.full is None:
        print(f"\n{result.name}: {result.rate:8.0f} requests/s (concurrency {CONCURRENCY})")
        return
    full = result.full
    print(f"\n{result.name}: {result.rate:6.1f} pairs/s at concurrency {CONCURRENCY}"
          f" ({full.pairs} pairs, {full.errors} errors)"
          + (f", server CPU {result.cpu_ms:.2f} ms/pair" if result.cpu_ms else ""))  # fmt: skip
    print("                         p50 ms   p99 ms")
    print(f"  create call           {ms(pct(full.create, 0.5))}  {ms(pct(full.create, 0.99))}")
    print(f"  check call            {ms(pct(full.check, 0.5))}  {ms(pct(full.check, 0.99))}")
    print(f"  create→SMTP receipt   {ms(pct(full.receipt, 0.5))}  {ms(pct(full.receipt, 0.99))}")
    if result.half is not None:
        half = result.half
        print(f"  at half load ({result.half_rate:.0f} pairs/s, {half.pairs} pairs, "
              f"{half.errors} errors):")  # fmt: skip
        print(
            f"  create→SMTP receipt   {ms(pct(half.receipt, 0.5))}  {ms(pct(half.receipt, 0.99))}"
        )


# --- the targets --------------------------------------------------------------------------


async def bare(seconds: float) -> Result:
    port = free_port()
    async with (
        server(uvicorn("bench.bare_app:app", port), {}, port) as target,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session,
    ):

        async def one(samples: Samples) -> None:
            async with session.post(
                f"{target.base}/api/v1/verifications", json={"to": "a@example.com"}
            ) as response:
                await response.read()
            samples.pairs += 1

        await closed_loop(one, 1)
        samples, elapsed = await closed_loop(one, seconds)
    return Result("bare FastAPI POST", samples.pairs / elapsed)


async def measure_pairs(name: str, target: Server, sink: Sink, key: str, seconds: float) -> Result:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        pairs = Pairs(session, target.base, sink, key)
        await closed_loop(pairs.one, 2)  # warm up
        cpu_before = target.cpu_seconds()
        full, elapsed = await closed_loop(pairs.one, seconds)
        cpu = target.cpu_seconds() - cpu_before
        rate = full.pairs / elapsed
        await asyncio.sleep(1)
        half = await open_loop(pairs.one, rate / 2, seconds)
    return Result(name, rate, cpu * 1000 / max(1, full.pairs), full, half, rate / 2)


async def standin(seconds: float, sink: Sink, smtp_port: int) -> Result:
    port = free_port()
    env = {"BENCH_SMTP_PORT": str(smtp_port)}
    async with server(uvicorn("bench.standin_app:app", port), env, port) as target:
        return await measure_pairs("stand-in (ceiling)", target, sink, "none", seconds)


async def prepare_database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder}/honnin.db"
    else:
        admin = await asyncpg.connect(PG_ADMIN)
        try:
            await admin.execute("DROP DATABASE IF EXISTS honnin_bench WITH (FORCE)")
            await admin.execute("CREATE DATABASE honnin_bench")
        finally:
            await admin.close()
        url = PG_BENCH
    from honnin.migrations import upgrade_async

    await upgrade_async(url)
    return url


async def honnin(kind: str, seconds: float, sink: Sink, smtp_port: int) -> Result:
    from honnin.clients.service import ClientService
    from honnin.clock import SystemClock
    from honnin.db import Database

    with tempfile.TemporaryDirectory() as folder:
        url = await prepare_database(kind, Path(folder))
        db = Database(url)
        key = (await ClientService(db, SystemClock()).create("bench")).api_key
        await db.dispose()
        port = free_port()
        env = {
            "HONNIN_SECRET_KEY": secrets.token_urlsafe(48),
            "HONNIN_DATABASE_URL": url,
            "HONNIN_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "HONNIN_DATA_DIR": folder,
            "HONNIN_LIMIT_CLIENT_SENDS": "100000000/hour",
            "HONNIN_LIMIT_CLIENT_CHECKS": "100000000/hour",
        }
        command = [sys.executable, "-m", "honnin", "serve", "--port", str(port),
                   "--workers", str(WORKERS)]  # fmt: skip
        async with server(command, env, port) as target:
            return await measure_pairs(f"honnin on {kind}", target, sink, key, seconds)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()

    sink = Sink()
    smtp_port = free_port()
    smtp = await sink.serve(smtp_port)
    print(f"{os.cpu_count()} cores; {WORKERS} server workers; load generator and SMTP sink in "
          f"this process; {args.seconds:.0f} s per phase")  # fmt: skip
    results: list[Result] = []
    if not args.skip_baselines:
        results.append(await bare(args.seconds))
        report(results[-1])
        results.append(await standin(args.seconds, sink, smtp_port))
        report(results[-1])
    for kind in args.db:
        results.append(await honnin(kind, args.seconds, sink, smtp_port))
        report(results[-1])
    smtp.close()

    if not args.skip_baselines:
        floor, ceiling = results[0].rate, results[1].rate
        print("\nsummary")
        for result in results[2:]:
            print(
                f"  {result.name}: {result.rate / ceiling:.0%} of the stand-in's pairs/s; "
                f"pairs/s x 2 = {2 * result.rate / floor:.0%} of the bare endpoint's req/s"
            )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    uvloop.run(main())
