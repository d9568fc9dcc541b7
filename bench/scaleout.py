"""Beyond one machine, on one: 1 vs 2 app processes behind a round-robin client, and a courier
of its own, on one PostgreSQL database — throughput grows with processes, nothing is sent twice.

    .venv/bin/python bench/scaleout.py [--seconds 10] [--concurrency 32] [--couriers 1]

What `compose.yaml` runs (docs/deploy.md), on loopback ports instead of machines: each app
process is `honnin serve --workers 1` on a port of its own with `HONNIN_COURIER_ENABLED=false`
(it only writes messages to the outbox), and `honnin courier` runs apart and sends them
(several with `--couriers N`: they share the outbox by claims with fencing tokens). The client
is the load balancer: each call goes to the next app port in turn, so a verification is often
created by one process and checked by the other. A pair is create → the email reaches the SMTP
sink (in this process) → check, at `--concurrency` pairs in flight (closed loop).

It prints pairs/s for 1 and 2 app processes, the servers' and the database's CPU per pair, and
what the sink received: every address of the run must have received exactly one message
(duplicates and missing ones are counted once the courier has gone quiet).

The database is `honnin_scaleout`, created afresh for each phase and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from aiosmtpd.smtp import SMTP, Envelope, Session

# run as a script, this folder (not the repository) is first on the path: `bench.` needs the root
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.harness import (  # noqa: E402
    ROOT,
    Backends,
    Server,
    Sink,
    create_database,
    drop_database,
    free_port,
    honnin_env,
    ms,
    pct,
    pg_url,
    postmaster_pid,
    server,
    tree_cpu_seconds,
)
from honnin.clients.service import ClientService  # noqa: E402
from honnin.clock import SystemClock  # noqa: E402
from honnin.db import Database  # noqa: E402
from honnin.migrations import upgrade_async  # noqa: E402

DATABASE = "honnin_scaleout"
QUIET = 3.0  # seconds without a new message: the courier has sent everything it will


class CountingSink(Sink):
    """The bench's SMTP sink, also counting the messages each address receives."""

    def __init__(self) -> None:
        super().__init__()
        self.per_address: Counter[str] = Counter()
        self.arrived = asyncio.Event()

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.per_address.update(envelope.rcpt_tos)
        self.arrived.set()
        return await super().handle_DATA(server, session, envelope)

    async def quiet(self, seconds: float = QUIET) -> None:
        """Return once no message has arrived for `seconds`."""
        while True:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), seconds)
            except TimeoutError:
                return


@dataclass
class Phase:
    apps: int
    pairs: int = 0
    errors: int = 0
    seconds: float = 0.0
    create: list[float] = field(default_factory=list)
    receipt: list[float] = field(default_factory=list)
    check: list[float] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    server_cpu: float = 0.0
    db_cpu: float = 0.0
    duplicates: int = 0
    missing: int = 0
    per_port: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.pairs / self.seconds if self.seconds else 0.0


class RoundRobin:
    """The load balancer's part: every call to the next app process."""

    def __init__(
        self, session: aiohttp.ClientSession, bases: list[str], key: str, sink: Sink
    ) -> None:
        self.session = session
        self.next_base = itertools.cycle(bases).__next__
        self.headers = {"Authorization": f"Bearer {key}"}
        self.sink = sink
        self.run = secrets.token_hex(3)
        self.counter = 0

    async def post(self, path: str, body: dict[str, Any], phase: Phase) -> tuple[int, Any]:
        base = self.next_base()
        phase.per_port[base.rsplit(":", 1)[1]] += 1
        async with self.session.post(f"{base}{path}", json=body, headers=self.headers) as reply:
            return reply.status, await reply.json()

    async def pair(self, phase: Phase, record: bool) -> None:
        self.counter += 1
        to = f"s{self.counter}.{self.run}@scaleout.example.com"
        phase.addresses.append(to)  # every address the run asked a message for
        arrival = self.sink.expect(to)
        started = time.perf_counter()
        status, body = await self.post("/api/v1/verifications", {"to": to}, phase)
        created = time.perf_counter()
        if status != 201:
            self.sink.forget(to)
            phase.errors += 1
            return
        try:
            received_at, code = await asyncio.wait_for(arrival, 30)
        except TimeoutError:
            phase.errors += 1
            return
        before_check = time.perf_counter()
        path = f"/api/v1/verifications/{body['id']}/check"
        status, _ = await self.post(path, {"code": code}, phase)
        if status != 200:
            phase.errors += 1
            return
        if record:
            phase.create.append(created - started)
            phase.receipt.append(received_at - started)
            phase.check.append(time.perf_counter() - before_check)
            phase.pairs += 1


async def closed_loop(
    client: RoundRobin, phase: Phase, seconds: float, concurrency: int, record: bool
) -> float:
    deadline = time.perf_counter() + seconds

    async def user() -> None:
        while time.perf_counter() < deadline:
            await client.pair(phase, record)

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    return time.perf_counter() - started


# --- processes ----------------------------------------------------------------------------


@asynccontextmanager
async def courier(env: dict[str, str], log: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`honnin courier` (no port to wait for: it is up once it says so, or soon after). Its
    log goes to a file: a pipe nobody reads would fill and stop it mid-run."""
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: ASYNC220 - started before any load
            [sys.executable, "-m", "honnin", "courier"], cwd=ROOT, env={**os.environ, **env},
            stdout=output, stderr=output, start_new_session=True,
        )  # fmt: skip
    try:
        await asyncio.sleep(2.0)
        if process.poll() is not None:
            raise SystemExit(f"the courier did not start: {tail(log)}")
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


async def prepare() -> str:
    """A fresh, migrated database and an API key."""
    await create_database(DATABASE)
    await upgrade_async(pg_url(DATABASE))
    db = Database(pg_url(DATABASE))
    key = (await ClientService(db, SystemClock()).create("scaleout")).api_key
    await db.dispose()
    return key


def environment(folder: str, smtp_port: int) -> dict[str, str]:
    # a courier of its own learns of new messages only by polling: poll often, and keep
    # enough in flight that polling, not sending, is what it waits for
    return honnin_env(
        pg_url(DATABASE), smtp_port, folder,
        HONNIN_COURIER_POLL_SECONDS="0.05", HONNIN_COURIER_CONCURRENCY="64",
    )  # fmt: skip


async def phase(
    apps: int, couriers: int, seconds: float, concurrency: int, sink: CountingSink, smtp_port: int
) -> Phase:
    key = await prepare()
    result = Phase(apps)
    backends = Backends(await postmaster_pid(), {DATABASE})
    with tempfile.TemporaryDirectory() as folder:
        env = environment(folder, smtp_port)
        app_env = {**env, "HONNIN_COURIER_ENABLED": "false"}
        async with contextlib.AsyncExitStack() as stack:
            running: list[Server] = []
            for _ in range(apps):
                port = free_port()
                command = [sys.executable, "-m", "honnin", "serve", "--port", str(port),
                           "--workers", "1"]  # fmt: skip
                running.append(await stack.enter_async_context(server(command, app_env, port)))
            log = Path(folder) / "couriers.log"
            sending = [await stack.enter_async_context(courier(env, log)) for _ in range(couriers)]
            session = await stack.enter_async_context(
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            )
            await stack.enter_async_context(backends.watch())
            client = RoundRobin(session, [s.base for s in running], key, sink)
            await closed_loop(client, result, 2.0, concurrency, record=False)  # warm up
            result.per_port.clear()

            def cpu() -> float:
                return sum(s.cpu_seconds() for s in running) + sum(
                    tree_cpu_seconds(c.pid) for c in sending
                )

            cpu_before, db_before = cpu(), backends.cpu_seconds()
            result.seconds = await closed_loop(client, result, seconds, concurrency, record=True)
            result.server_cpu = cpu() - cpu_before
            result.db_cpu = backends.cpu_seconds() - db_before
            await sink.quiet()  # anything sent late (a retry, a duplicate) arrives by now
            if result.errors:
                print(f"the couriers' log ends with:\n{tail(log)}")
    counts = [sink.per_address[a] for a in result.addresses]
    result.duplicates = sum(n - 1 for n in counts if n > 1)
    result.missing = sum(1 for n in counts if n == 0)
    return result


def report(result: Phase, couriers: int) -> None:
    per_pair = 1000 / max(1, result.pairs)
    spread = ", ".join(f":{port} {n}" for port, n in sorted(result.per_port.items()))
    print(f"\n{result.apps} app process(es) + {couriers} courier(s): {result.rate:6.1f} pairs/s"
          f" ({result.pairs} pairs, {result.errors} errors); CPU per pair: servers and "
          f"couriers {result.server_cpu * per_pair:.2f} ms, PostgreSQL "
          f"{result.db_cpu * per_pair:.2f} ms")  # fmt: skip
    print(f"  calls per app port: {spread}")
    print("                         p50 ms   p99 ms")
    for name, values in (("create", result.create), ("create→SMTP receipt", result.receipt),
                         ("check", result.check)):  # fmt: skip
        print(f"  {name:<21}{ms(pct(values, 0.5))}  {ms(pct(values, 0.99))}")
    print(f"  sink: {len(result.addresses)} addresses asked for a message; duplicates "
          f"{result.duplicates}, missing {result.missing}")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--couriers", type=int, default=1)
    args = parser.parse_args()
    sink = CountingSink()
    smtp_port = free_port()
    smtp = await sink.serve(smtp_port)
    print(f"{os.cpu_count()} cores shared by the app processes, the courier, PostgreSQL, and "
          f"this process (load and SMTP sink); {args.concurrency} pairs in flight, "
          f"{args.seconds:g} s per phase")  # fmt: skip
    results = []
    try:
        for apps in (1, 2):
            result = await phase(
                apps, args.couriers, args.seconds, args.concurrency, sink, smtp_port
            )
            report(result, args.couriers)
            results.append(result)
    finally:
        smtp.close()
        await drop_database(DATABASE)
    one, two = results
    print(
        f"\n2 app processes: {two.rate / max(one.rate, 1e-9):.2f}x the pairs/s of 1; "
        f"duplicates {one.duplicates + two.duplicates}, missing {one.missing + two.missing}"
    )


if __name__ == "__main__":
    uvloop.run(main())
