"""Verification API throughput and delivery latency, against a running service.

    .venv/bin/python bench/verifications.py [--channel email sms] [--db sqlite postgresql]
        [--seconds 10]

For each target it starts the server (2 uvicorn workers, uvloop + httptools) and reads each
code back from where the message went. A pair is what an application does: create a
verification, wait for the message, check the code. For each channel (`--channel`, email by
default; `email sms` runs both, one after the other, and prints them side by side) it prints:

- pairs/s at concurrency 32 (closed loop), p50/p99 of each call, p50/p99 create→receipt,
  and the server's CPU time per pair (on PostgreSQL also with its backends' CPU added);
- create→receipt p50/p99 at half that rate (open loop);

for: a bare FastAPI POST (req/s: the floor), the stand-in that does only the unavoidable work
(bench/standin_app.py: the ceiling), and honnin on SQLite and on PostgreSQL.

email: an SMTP sink on loopback, in this process, reads the code out of each email.

sms: `{"to": "+8190…", "channel": "sms"}`, a new valid Japanese mobile number for every pair,
sent through the real Kannel gateway (bearerbox + smsbox + Kannel's fakesmsc as the SMSC, as in
tests/support/kannel.py; a fresh one per target, its logs at `--kannel-log-level`), with
honnin's HONNIN_SMS_PROVIDERS pointing at its sendsms and HONNIN_BASE_URL at the server under
test, so that Kannel's delivery reports (dlr-mask 31: accepted by the SMSC, then delivered)
come back to /api/hooks/sms/0/<message id> during the run, and their cost is in the figures.
The code is read from fakesmsc's output file, followed incrementally (bench/sms.py). It also
prints Kannel's CPU per pair (bearerbox, smsbox, fakesmsc), the delivery reports honnin
recorded per pair, and the reader's own time. The stand-in sends by the same sendsms GET and
answers the reports without storing them. Needs `apt-get install kannel kannel-extras`;
without them the sms part is skipped.

The load generator, the sink (or Kannel) and the server share the machine's cores, as they
would in DESIGN.md's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sqlite3
import sys
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import uvloop

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    LIMITS,
    Backends,
    MachineCpu,
    Server,
    Sink,
    flamegraph,
    free_port,
    honnin_command,
    honnin_env,
    migrated_database,
    ms,
    open_loop,
    pct,
    pg_url,
    postmaster_pid,
    server,
)

if TYPE_CHECKING:
    from bench.sms import FakeSmscReader, KannelCpu

CONCURRENCY = 32
WORKERS = 2
CHANNELS = ("email", "sms")


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


class Receiver(Protocol):
    """Where codes come back: the SMTP sink, or what fakesmsc got."""

    def expect(self, address: str) -> asyncio.Future[tuple[float, str]]: ...

    def forget(self, address: str) -> None: ...


class Pairs:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base: str,
        receiver: Receiver,
        key: str,
        channel: str = "email",
        locale: str | None = None,
    ) -> None:
        self.session = session
        self.base = base
        self.receiver = receiver
        self.headers = {"Authorization": f"Bearer {key}"}
        self.run_id = secrets.token_hex(3)
        self.channel = channel
        self.locale = locale
        self.counter = 0

    def address(self) -> tuple[str, dict[str, str]]:
        """A new address, and the body that sends a code to it."""
        self.counter += 1
        if self.channel == "email":
            to = f"u{self.counter}.{self.run_id}@bench.example.com"
            return to, {"to": to}
        # +81 90 then 8 digits, the first not 0: a valid Japanese mobile number, new each time
        to = f"+8190{10_000_000 + self.counter:08d}"
        body = {"to": to, "channel": "sms"}
        if self.locale:
            body["locale"] = self.locale
        return to, body

    async def one(self, samples: Samples) -> None:
        to, request = self.address()
        arrival = self.receiver.expect(to)
        started = time.perf_counter()
        async with self.session.post(
            f"{self.base}/api/v1/verifications", json=request, headers=self.headers
        ) as response:
            body = await response.json()
            if response.status != 201:
                samples.errors += 1
                self.receiver.forget(to)
                return
        created = time.perf_counter()
        try:
            received_at, code = await asyncio.wait_for(arrival, 30)
        except TimeoutError:
            samples.errors += 1
            self.receiver.forget(to)
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


@dataclass
class Result:
    name: str
    rate: float
    cpu_ms: float | None = None
    db_cpu_ms: float | None = None  # of the PostgreSQL backends
    full: Samples | None = None
    half: Samples | None = None
    half_rate: float = 0.0
    channel: str = "email"
    kannel_ms: dict[str, float] | None = None  # CPU per pair of each Kannel process
    reports: int | None = None  # delivery reports the server recorded in the full-load phase
    reader_ms: float | None = None  # the reading of fakesmsc's output, per pair
    texts: int | None = None  # texts with a code the SMSC got in the full-load phase
    busy: float | None = None  # the share of all cores' time in use in the full-load phase
    others: float | None = None  # of which not by the processes counted here
    own_ms: float | None = None  # this process's CPU per pair: load generator, sink, reader


def report(result: Result) -> None:
    if result.full is None:
        print(f"\n{result.name}: {result.rate:8.0f} requests/s (concurrency {CONCURRENCY})")
        return
    full = result.full
    print(f"\n{result.name}: {result.rate:6.1f} pairs/s at concurrency {CONCURRENCY}"
          f" ({full.pairs} pairs, {full.errors} errors)"
          + (f", server CPU {result.cpu_ms:.2f} ms/pair" if result.cpu_ms else "")
          + (f" ({result.cpu_ms + result.db_cpu_ms:.2f} ms/pair incl. PostgreSQL backends)"
             if result.cpu_ms and result.db_cpu_ms is not None else ""))  # fmt: skip
    if result.busy is not None and result.own_ms is not None:
        print(f"  machine {result.busy:.0%} busy ({result.others or 0:.0%} by other processes"
              f" than those counted here); this process (load, sink, reader) "
              f"{result.own_ms:.2f} ms/pair")  # fmt: skip
    if result.kannel_ms is not None:
        parts = ", ".join(f"{name} {value:.2f}" for name, value in result.kannel_ms.items())
        print(f"  Kannel CPU {sum(result.kannel_ms.values()):.2f} ms/pair ({parts}); "
              f"{result.texts} texts reached the SMSC"
              + (f"; {result.reports} delivery reports recorded by the server"
                 f" ({result.reports / max(1, full.pairs):.2f}/pair)"
                 if result.reports is not None else "")
              + (f"; reading fakesmsc's output {result.reader_ms:.3f} ms/pair"
                 if result.reader_ms is not None else ""))  # fmt: skip
    receipt = "create→SMTP receipt" if result.channel == "email" else "create→SMSC receipt"
    print("                         p50 ms   p99 ms")
    print(f"  create call           {ms(pct(full.create, 0.5))}  {ms(pct(full.create, 0.99))}")
    print(f"  check call            {ms(pct(full.check, 0.5))}  {ms(pct(full.check, 0.99))}")
    print(f"  {receipt}   {ms(pct(full.receipt, 0.5))}  {ms(pct(full.receipt, 0.99))}")
    if result.half is not None:
        half = result.half
        print(f"  at half load ({result.half_rate:.0f} pairs/s, {half.pairs} pairs, "
              f"{half.errors} errors):")  # fmt: skip
        print(f"  {receipt}   {ms(pct(half.receipt, 0.5))}  {ms(pct(half.receipt, 0.99))}")


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


@dataclass
class Delivery:
    """Where one target's messages go (the sink, or a Kannel gateway of its own) and how their
    codes come back."""

    channel: str
    receiver: Receiver
    standin_env: dict[str, str]
    honnin_env: Callable[[int], dict[str, str]]  # honnin's settings, given its port
    kannel: KannelCpu | None = None
    reader: FakeSmscReader | None = None


@asynccontextmanager
async def by_email(sink: Sink, smtp_port: int) -> AsyncIterator[Delivery]:
    yield Delivery("email", sink, {"BENCH_SMTP_PORT": str(smtp_port)}, lambda port: {})


@asynccontextmanager
async def by_sms(log_level: int) -> AsyncIterator[Delivery]:
    """A fresh Kannel gateway (none of an earlier target's delivery reports still pending),
    and the reader of what its fake SMSC gets."""
    from bench.sms import SENDER, BenchGateway, FakeSmscReader, KannelCpu, provider

    with tempfile.TemporaryDirectory() as folder:
        gateway = BenchGateway(Path(folder), log_level=log_level)
        await asyncio.to_thread(gateway.start)
        try:
            sendsms = (f"{gateway.sendsms_base}?username={gateway.username}"
                       f"&password={gateway.password}&smsc={gateway.fake_smsc_id}"
                       f"&from={urllib.parse.quote(SENDER, safe='')}")  # fmt: skip
            async with FakeSmscReader(Path(folder) / "fakesmsc.out") as reader:
                yield Delivery(
                    "sms",
                    reader,
                    {"BENCH_SMS_SENDSMS": sendsms},
                    lambda port: {
                        "HONNIN_SMS_PROVIDERS": provider(gateway),
                        "HONNIN_BASE_URL": f"http://127.0.0.1:{port}",
                    },
                    KannelCpu(),
                    reader,
                )
        finally:
            await asyncio.to_thread(gateway.stop)


async def measure_pairs(
    name: str,
    target: Server,
    delivery: Delivery,
    key: str,
    seconds: float,
    backends: Backends | None = None,
    svg: Path | None = None,
    reports: Callable[[], Awaitable[int]] | None = None,
    locale: str | None = None,
) -> Result:
    channel = delivery.channel
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        pairs = Pairs(session, target.base, delivery.receiver, key, channel, locale)
        await closed_loop(pairs.one, 2)  # warm up
        if channel == "sms":
            await asyncio.sleep(0.5)  # the warm-up's delivery reports
        cpu_before = target.cpu_seconds()
        db_before = backends.cpu_seconds() if backends else 0.0
        kannel_before = delivery.kannel.seconds() if delivery.kannel else None
        reports_before = await reports() if reports else 0
        reader_before = delivery.reader.busy if delivery.reader else 0.0
        texts_before = delivery.reader.received if delivery.reader else 0
        machine_before, own_before = MachineCpu.now(), time.process_time()
        async with flamegraph(target, svg, seconds):
            if backends is None:
                full, elapsed = await closed_loop(pairs.one, seconds)
            else:
                async with backends.watch():
                    full, elapsed = await closed_loop(pairs.one, seconds)
        busy = MachineCpu.now().busy_since(machine_before)
        own = time.process_time() - own_before
        cpu = target.cpu_seconds() - cpu_before
        db_cpu = backends.cpu_seconds() - db_before if backends else None
        kannel = delivery.kannel.seconds() if delivery.kannel else None
        reported = await reports() - reports_before if reports else None
        reader = delivery.reader.busy - reader_before if delivery.reader else None
        texts = delivery.reader.received - texts_before if delivery.reader else None
        rate = full.pairs / elapsed
        await asyncio.sleep(1)
        half = Samples()
        await open_loop(lambda: pairs.one(half), rate / 2, seconds)
    per_pair = 1000 / max(1, full.pairs)
    db_ms = db_cpu * per_pair if db_cpu is not None else None
    counted = cpu + (db_cpu or 0.0) + own
    if kannel is not None and kannel_before is not None:
        counted += sum(kannel.values()) - sum(kannel_before.values())
    cores = os.cpu_count() or 1
    others = max(0.0, busy - counted / (elapsed * cores))
    label = name if channel == "email" else f"{name}, sms through Kannel"
    return Result(
        label, rate, cpu * per_pair, db_ms, full, half, rate / 2, channel,
        kannel_ms={p: (kannel[p] - kannel_before[p]) * per_pair for p in kannel}
        if kannel is not None and kannel_before is not None else None,
        reports=reported,
        reader_ms=reader * per_pair if reader is not None else None,
        texts=texts, busy=busy, others=others, own_ms=own * per_pair,
    )  # fmt: skip


async def standin(seconds: float, delivery: Delivery) -> Result:
    port = free_port()
    env = {**delivery.standin_env, "BENCH_BASE_URL": f"http://127.0.0.1:{port}"}
    async with server(uvicorn("bench.standin_app:app", port), env, port) as target:
        return await measure_pairs("stand-in (ceiling)", target, delivery, "none", seconds)


def delivery_reports(kind: str, url: str, pg_database: str) -> Callable[[], Awaitable[int]]:
    """The delivery reports honnin has recorded (each is a line of its message's timeline)."""
    query = "SELECT count(*) FROM message_events WHERE detail LIKE 'Kannel delivery report%'"

    async def count() -> int:
        if kind == "sqlite":
            path = url.split("///", 1)[1]

            def read() -> int:
                with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
                    return int(connection.execute(query).fetchone()[0])

            return await asyncio.to_thread(read)
        connection = await asyncpg.connect(pg_url(pg_database, driver=""))
        try:
            return int(await connection.fetchval(query))
        finally:
            await connection.close()

    return count


async def honnin(
    kind: str,
    seconds: float,
    delivery: Delivery,
    smtp_port: int,
    pg_database: str,
    workers: int = WORKERS,
    flamegraphs: Path | None = None,
    locale: str | None = None,
) -> Result:
    from honnin.clients.service import ClientService
    from honnin.clock import SystemClock
    from honnin.db import Database

    with tempfile.TemporaryDirectory() as folder:
        url = await migrated_database(kind, Path(folder), pg_database)
        db = Database(url)
        key = (await ClientService(db, SystemClock()).create("bench")).api_key
        await db.dispose()
        port = free_port()
        # the SMS-pumping limits (per number prefix, per country) raised as the others are
        raised = (*LIMITS, "PREFIX_SENDS", "COUNTRY_SENDS")
        env = {**honnin_env(url, smtp_port, folder, raised=raised), **delivery.honnin_env(port)}
        command = honnin_command(port, workers)
        backends = None
        if kind == "postgresql":
            backends = Backends(await postmaster_pid(), {pg_database})
        reports = delivery_reports(kind, url, pg_database) if delivery.channel == "sms" else None
        async with server(command, env, port) as target:
            suffix = "" if delivery.channel == "email" else f"-{delivery.channel}"
            svg = flamegraphs / f"verifications-{kind}{suffix}.svg" if flamegraphs else None
            return await measure_pairs(
                f"honnin on {kind}", target, delivery, key, seconds, backends, svg, reports,
                locale,
            )  # fmt: skip


def summary(results: list[Result], floor: float | None) -> None:
    """Each target's figures, the channels side by side, against that channel's stand-in."""
    channels = [c for c in CHANNELS if any(r.channel == c for r in results)]
    ceilings = {r.channel: r.rate for r in results if r.name.startswith("stand-in")}
    names: dict[str, dict[str, Result]] = {}
    for result in results:
        names.setdefault(result.name.split(",")[0], {})[result.channel] = result
    print("\nsummary: pairs/s (share of the channel's stand-in), server CPU per pair"
          + (" + Kannel's" if "sms" in channels else ""))  # fmt: skip
    print((f"  {'':22}" + "".join(f"{channel:44}" for channel in channels)).rstrip())
    for name, by_channel in names.items():
        cells = []
        for channel in channels:
            r = by_channel.get(channel)
            if r is None:
                cells.append(f"{'-':44}")
                continue
            share = (
                f" ({r.rate / ceilings[channel]:.0%})"
                if channel in ceilings and not name.startswith("stand-in")
                else ""
            )
            cpu = (r.cpu_ms or 0.0) + (r.db_cpu_ms or 0.0)
            kannel = f" + {sum(r.kannel_ms.values()):.2f}" if r.kannel_ms is not None else ""
            cells.append(f"{f'{r.rate:6.1f}{share}, {cpu:.2f}{kannel} ms':44}")
        print(f"  {name:22}" + "".join(cells).rstrip())
    if floor:
        for result in results:
            if not result.name.startswith("stand-in"):
                print(f"  {result.name}: pairs/s x 2 = {2 * result.rate / floor:.0%} "
                      "of the bare endpoint's req/s")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--channel", nargs="+", default=["email"], choices=CHANNELS,
                        help="email (the default), sms (Kannel), or both, in turn")  # fmt: skip
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--pg-database", default="honnin_bench",
                        help="the PostgreSQL database to (re)create for the run")  # fmt: skip
    parser.add_argument("--workers", type=int, default=WORKERS,
                        help="honnin's worker processes (the baselines keep 2)")  # fmt: skip
    parser.add_argument("--flamegraphs", type=Path, metavar="DIR",
                        help="profile honnin with py-spy during the full-load phase: "
                        "DIR/verifications-<db>[-sms].svg (e.g. bench/results)")  # fmt: skip
    parser.add_argument("--kannel-log-level", type=int, default=1, choices=range(5),
                        help="bearerbox's and smsbox's log-level (0 debug, as the tests "
                        "run it; 1 info, the default here; 2 warning)")  # fmt: skip
    parser.add_argument("--sms-locale", choices=["en", "ja"],
                        help="the texts' language (default: the service's, en: one 7-bit "
                        "SMS; ja goes as UCS-2)")  # fmt: skip
    args = parser.parse_args()
    channels: list[str] = list(dict.fromkeys(args.channel))
    if "sms" in channels:
        from bench.sms import kannel_missing

        if missing := kannel_missing():
            print(f"skipping --channel sms: {missing}")
            channels.remove("sms")

    sink = Sink()
    smtp_port = free_port()
    smtp = await sink.serve(smtp_port)
    kannel = f"; Kannel log-level {args.kannel_log_level}" if "sms" in channels else ""
    print(f"{os.cpu_count()} cores; {args.workers} honnin workers ({WORKERS} for the "
          f"baselines); load generator, SMTP sink and fakesmsc's reader in this process; "
          f"{args.seconds:.0f} s per phase; channels: {', '.join(channels) or 'none'}"
          f"{kannel}")  # fmt: skip
    results: list[Result] = []
    floor = None
    if not args.skip_baselines and channels:
        bare_result = await bare(args.seconds)
        report(bare_result)
        floor = bare_result.rate

    def delivery(channel: str) -> contextlib.AbstractAsyncContextManager[Delivery]:
        if channel == "email":
            return by_email(sink, smtp_port)
        return by_sms(args.kannel_log_level)

    for channel in channels:
        if not args.skip_baselines:
            async with delivery(channel) as d:
                results.append(await standin(args.seconds, d))
            report(results[-1])
        for kind in args.db:
            async with delivery(channel) as d:
                run = honnin(kind, args.seconds, d, smtp_port, args.pg_database, args.workers,
                             args.flamegraphs, args.sms_locale)  # fmt: skip
                results.append(await run)
            report(results[-1])
    smtp.close()
    if results:
        summary(results, floor)


if __name__ == "__main__":
    uvloop.run(main())
