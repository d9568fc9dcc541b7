"""Verification API throughput and delivery latency, against a running service.

    .venv/bin/python bench/verifications.py [--db sqlite postgresql] [--seconds 10]

For each target it starts the server (2 uvicorn workers, uvloop + httptools) and, in this
process, an SMTP sink on loopback that reads each code out of the email it receives. A pair is
what an application does: create a verification, wait for the email, check the code. It prints:

- pairs/s at concurrency 32 (closed loop), p50/p99 of each call, p50/p99 create→SMTP receipt,
  and the server's CPU time per pair (on PostgreSQL also with its backends' CPU added);
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
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import uvloop

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    Backends,
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
    postmaster_pid,
    server,
)

CONCURRENCY = 32
WORKERS = 2


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


@dataclass
class Result:
    name: str
    rate: float
    cpu_ms: float | None = None
    db_cpu_ms: float | None = None  # of the PostgreSQL backends
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
          + (f", server CPU {result.cpu_ms:.2f} ms/pair" if result.cpu_ms else "")
          + (f" ({result.cpu_ms + result.db_cpu_ms:.2f} ms/pair incl. PostgreSQL backends)"
             if result.cpu_ms and result.db_cpu_ms is not None else ""))  # fmt: skip
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


async def measure_pairs(
    name: str,
    target: Server,
    sink: Sink,
    key: str,
    seconds: float,
    backends: Backends | None = None,
    svg: Path | None = None,
) -> Result:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        pairs = Pairs(session, target.base, sink, key)
        await closed_loop(pairs.one, 2)  # warm up
        cpu_before = target.cpu_seconds()
        db_before = backends.cpu_seconds() if backends else 0.0
        async with flamegraph(target, svg, seconds):
            if backends is None:
                full, elapsed = await closed_loop(pairs.one, seconds)
            else:
                async with backends.watch():
                    full, elapsed = await closed_loop(pairs.one, seconds)
        cpu = target.cpu_seconds() - cpu_before
        db_cpu = backends.cpu_seconds() - db_before if backends else None
        rate = full.pairs / elapsed
        await asyncio.sleep(1)
        half = Samples()
        await open_loop(lambda: pairs.one(half), rate / 2, seconds)
    per_pair = 1000 / max(1, full.pairs)
    db_ms = db_cpu * per_pair if db_cpu is not None else None
    return Result(name, rate, cpu * per_pair, db_ms, full, half, rate / 2)


async def standin(seconds: float, sink: Sink, smtp_port: int) -> Result:
    port = free_port()
    env = {"BENCH_SMTP_PORT": str(smtp_port)}
    async with server(uvicorn("bench.standin_app:app", port), env, port) as target:
        return await measure_pairs("stand-in (ceiling)", target, sink, "none", seconds)


async def honnin(
    kind: str,
    seconds: float,
    sink: Sink,
    smtp_port: int,
    pg_database: str,
    workers: int = WORKERS,
    flamegraphs: Path | None = None,
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
        env = honnin_env(url, smtp_port, folder)
        command = honnin_command(port, workers)
        backends = None
        if kind == "postgresql":
            backends = Backends(await postmaster_pid(), {pg_database})
        async with server(command, env, port) as target:
            svg = flamegraphs / f"verifications-{kind}.svg" if flamegraphs else None
            return await measure_pairs(
                f"honnin on {kind}", target, sink, key, seconds, backends, svg
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
                        "DIR/verifications-<db>.svg (e.g. bench/results)")  # fmt: skip
    args = parser.parse_args()

    sink = Sink()
    smtp_port = free_port()
    smtp = await sink.serve(smtp_port)
    print(f"{os.cpu_count()} cores; {args.workers} honnin workers ({WORKERS} for the "
          f"baselines); load generator and SMTP sink in this process; "
          f"{args.seconds:.0f} s per phase")  # fmt: skip
    results: list[Result] = []
    if not args.skip_baselines:
        results.append(await bare(args.seconds))
        report(results[-1])
        results.append(await standin(args.seconds, sink, smtp_port))
        report(results[-1])
    for kind in args.db:
        run = honnin(kind, args.seconds, sink, smtp_port, args.pg_database, args.workers,
                     args.flamegraphs)  # fmt: skip
        results.append(await run)
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
    uvloop.run(main())
