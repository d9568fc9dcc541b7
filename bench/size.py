"""Flat with size: the same calls, as fast on a big history as on a small one.

    .venv/bin/python bench/size.py [--accounts 1000000] [--messages 10000000] [--reuse]
        [--rate 20] [--seconds 30] [--rounds 1]

Seeds (bench/seed.py) a small PostgreSQL database, `honnin_size_small` (10,000 accounts with
two proofs each, 100,000 messages of history), and a big one, `honnin_size_big` (`--accounts`,
`--messages`: 1,000,000 and 10,000,000 by default); `--reuse` keeps a database that already
holds that many accounts and messages. Against each in turn it starts `honnin serve` (2
workers, the courier in each, as `bench/verifications.py` does) with an SMTP sink in this
process, and sends at one fixed, moderate rate (open loop: requests start on schedule whether
or not earlier ones finished, so a slow server shows as latency, not as fewer requests):

- verification pairs (create, the email arrives, check) at `--rate` per second;
- sign-ins by emailed code through `/api/v1/flows` at a quarter of that, each on a seeded
  account used once (create, submit_identifier, email_code, the email arrives, submit_code).

It prints p50/p99 of each call — create, check, and the sign-in itself (submit_code: the code
checked, the session made) — and of a sign-in's four calls together, for both databases, and
the ratios big/small. The issue's target: each p99 ratio ≤ 1.2. With `--rounds 2` the
databases alternate twice and the samples of both rounds are pooled.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import uvloop

# run as a script, this folder (not the repository) is first on the path: `bench.` needs the root
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.harness import (  # noqa: E402
    Sink,
    free_port,
    honnin_command,
    honnin_env,
    ms,
    open_loop,
    pct,
    pg_url,
    server,
)
from bench.seed import SEEDED, seed  # noqa: E402
from honnin.clients.service import ClientService  # noqa: E402
from honnin.clock import SystemClock  # noqa: E402
from honnin.db import Database  # noqa: E402

WORKERS = 2
WARM_UP = 3.0  # seconds of load before the samples count
CALLS = ("create", "check", "sign_in", "sign_in_flow")
LABELS = {
    "create": "verification create",
    "check": "verification check",
    "sign_in": "sign-in (submit_code)",
    "sign_in_flow": "sign-in, its 4 calls",
}


@dataclass(frozen=True)
class Target:
    database: str
    accounts: int
    messages: int


@dataclass
class Samples:
    calls: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CALLS})
    errors: list[str] = field(default_factory=list)

    def extend(self, other: Samples) -> None:
        for call, values in other.calls.items():
            self.calls[call] += values
        self.errors += other.errors


class Failed(Exception):
    pass


class Client:
    """The calls an application makes, timed; the email read off the sink."""

    def __init__(self, session: aiohttp.ClientSession, base: str, key: str, sink: Sink) -> None:
        self.session = session
        self.base = base
        self.headers = {"Authorization": f"Bearer {key}"}
        self.sink = sink
        self.run = secrets.token_hex(3)
        self.counter = 0

    async def post(self, path: str, body: dict[str, Any], status: int) -> tuple[float, Any]:
        started = time.perf_counter()
        async with self.session.post(
            f"{self.base}{path}", json=body, headers=self.headers
        ) as response:
            answer = await response.json()
            if response.status != status:
                raise Failed(f"{path}: {response.status} {str(answer)[:200]}")
        return time.perf_counter() - started, answer

    async def email(self, arrival: asyncio.Future[tuple[float, str]]) -> str:
        try:
            return (await asyncio.wait_for(arrival, 30))[1]
        except TimeoutError:
            raise Failed("no email within 30 s") from None

    async def verification(self, samples: Samples) -> None:
        self.counter += 1
        to = f"v{self.counter}.{self.run}@size.example.com"
        arrival = self.sink.expect(to)
        try:
            create, body = await self.post("/api/v1/verifications", {"to": to}, 201)
            code = await self.email(arrival)
            path = f"/api/v1/verifications/{body['id']}/check"
            check, _ = await self.post(path, {"code": code}, 200)
        finally:
            self.sink.forget(to)
        samples.calls["create"].append(create)
        samples.calls["check"].append(check)

    async def sign_in(self, name: str, samples: Samples) -> None:
        laps, flow = [], "/api/v1/flows"
        took, body = await self.post(flow, {"kind": "sign_in"}, 201)
        laps.append(took)
        flow = f"{flow}/{body['id']}"
        took, _ = await self.post(flow, {"action": "submit_identifier", "name": name}, 200)
        laps.append(took)
        arrival = self.sink.expect(name)
        try:
            took, _ = await self.post(flow, {"action": "email_code"}, 200)
            laps.append(took)
            code = await self.email(arrival)
        finally:
            self.sink.forget(name)
        took, done = await self.post(flow, {"action": "submit_code", "code": code}, 200)
        if done["state"] != "done" or not done.get("session_token"):
            raise Failed(f"the sign-in did not complete: {done['state']}")
        samples.calls["sign_in"].append(took)
        samples.calls["sign_in_flow"].append(sum(laps) + took)


Work = Callable[[], Coroutine[Any, Any, None]]


def guarded(samples: Samples, work: Work) -> Work:
    async def run() -> None:
        try:
            await work()
        except (Failed, aiohttp.ClientError) as error:
            samples.errors.append(str(error))

    return run


# --- the databases ------------------------------------------------------------------------


async def seeded(target: Target) -> bool:
    """Whether the database holds the accounts and messages asked for (a `--reuse`)."""
    try:
        conn = await asyncpg.connect(pg_url(target.database, driver=""))
    except asyncpg.InvalidCatalogNameError:
        return False
    try:
        accounts = await conn.fetchval("SELECT count(*) FROM accounts")
        messages = await conn.fetchval("SELECT count(*) FROM messages")
    except asyncpg.UndefinedTableError:
        return False
    finally:
        await conn.close()
    return bool(accounts >= target.accounts and messages >= target.messages)


async def prepare(target: Target, reuse: bool) -> None:
    if reuse and await seeded(target):
        print(f"{target.database}: reused ({target.accounts:,} accounts)")
        return
    print(f"{target.database}: seeding {target.accounts:,} accounts, {target.messages:,} messages")
    summary = await seed(pg_url(target.database, driver=""), target.accounts, target.messages)
    summary.print()


# Read at random on the request path: every index, and the tables of accounts and what hangs
# off them (the outbox's tables are read and written at their recent end).
_PREWARM = """
    SELECT count(*), coalesce(sum(pg_prewarm(c.oid, 'read')), 0)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'
      AND (c.relkind = 'i' OR (c.relkind = 'r' AND c.relname NOT IN ('messages', 'message_events')))
"""


async def prewarm(target: Target) -> None:
    """Read the database's randomly read relations into the OS cache (pg_prewarm), as a
    server whose memory holds its working set has them. On this machine the kernel's
    proactive reclaim (DAMON) evicts cold file cache, and PostgreSQL's 128 MB of buffers hold
    little of a 2 GB index set: a cold big database reads pages from disk on the request path
    (2.5 ms each), which measures the disk, not honnin."""
    conn = await asyncpg.connect(pg_url(target.database, driver=""))
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        started = time.monotonic()
        relations, blocks = await conn.fetchrow(_PREWARM)
    finally:
        await conn.close()
    print(f"{target.database}: prewarmed {relations} relations, {blocks * 8 // 1024} MB in "
          f"{time.monotonic() - started:.0f} s")  # fmt: skip


# --- one measurement ----------------------------------------------------------------------


async def measure(
    target: Target, names: list[int], rate: float, seconds: float, sink: Sink, smtp_port: int
) -> Samples:
    url = pg_url(target.database)
    db = Database(url)
    key = (await ClientService(db, SystemClock()).create("size bench")).api_key
    await db.dispose()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = honnin_env(url, smtp_port, folder)
        command = honnin_command(port, WORKERS)
        async with (
            server(command, env, port) as running,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
        ):
            client = Client(session, running.base, key, sink)
            unused = iter(names)

            async def load(samples: Samples, for_seconds: float) -> None:
                async def sign_in() -> None:
                    await client.sign_in(SEEDED.address(next(unused)), samples)

                await asyncio.gather(
                    open_loop(guarded(samples, lambda: client.verification(samples)), rate,
                              for_seconds),
                    open_loop(guarded(samples, sign_in), rate / 4, for_seconds),
                )  # fmt: skip

            await load(Samples(), WARM_UP)
            samples = Samples()
            await load(samples, seconds)
    return samples


def accounts_to_sign_in(target: Target, count: int) -> list[int]:
    """Seeded accounts without two-step verification (seed.py: not those ending in 9), each
    once: a sign-in's codes count towards its account's send limits."""
    picked = random.sample(range(target.accounts // 10), count)
    return [10 * i + random.randrange(9) for i in picked]


def report(results: dict[str, Samples], small: Target, big: Target) -> None:
    print(f"\n{'':24}{'small p50':>11}{'p99':>9}{'big p50':>11}{'p99':>9}{'p99 big/small':>15}")
    for call in CALLS:
        a, b = results[small.database].calls[call], results[big.database].calls[call]
        ratio = pct(b, 0.99) / pct(a, 0.99) if a and b else float("nan")
        print(f"{LABELS[call]:<24}{ms(pct(a, 0.5)):>11}{ms(pct(a, 0.99)):>9}"
              f"{ms(pct(b, 0.5)):>11}{ms(pct(b, 0.99)):>9}{ratio:>14.2f}x")  # fmt: skip
    for target in (small, big):
        samples = results[target.database]
        counts = ", ".join(f"{len(samples.calls[c])} {c}" for c in ("create", "sign_in"))
        print(f"{target.database}: {counts}; {len(samples.errors)} errors"
              + (f" (first: {samples.errors[0]})" if samples.errors else ""))  # fmt: skip
    print("milliseconds; the issue's target: each p99 ratio ≤ 1.2")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000, help="of the big database")
    parser.add_argument("--messages", type=int, default=10_000_000, help="of the big database")
    parser.add_argument("--reuse", action="store_true", help="keep databases already seeded")
    parser.add_argument("--rate", type=float, default=20.0, help="verification pairs per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--prewarm", action="store_true",
                        help="read indexes and account tables into the OS cache first")  # fmt: skip
    args = parser.parse_args()
    small = Target("honnin_size_small", 10_000, 100_000)
    big = Target("honnin_size_big", args.accounts, args.messages)
    for target in (small, big):
        await prepare(target, args.reuse)

    sink = Sink()
    smtp_port = free_port()
    smtp = await sink.serve(smtp_port)
    sign_ins = int(args.rate / 4 * (args.seconds + WARM_UP) * args.rounds) + 10
    results = {t.database: Samples() for t in (small, big)}
    print(f"{WORKERS} server workers; {args.rate:g} verification pairs/s and "
          f"{args.rate / 4:g} sign-ins/s, open loop, {args.seconds:g} s per database "
          f"(after {WARM_UP:g} s of warm-up), {args.rounds} round(s)")  # fmt: skip
    try:
        for _round in range(args.rounds):
            for target in (small, big):
                if args.prewarm:
                    await prewarm(target)
                names = accounts_to_sign_in(target, sign_ins)
                samples = await measure(target, names, args.rate, args.seconds, sink, smtp_port)
                results[target.database].extend(samples)
    finally:
        smtp.close()
    report(results, small, big)


if __name__ == "__main__":
    uvloop.run(main())
