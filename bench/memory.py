"""Memory of each server worker over many requests: is its RSS flat (≤ 10 % growth)?

    .venv/bin/python bench/memory.py [--db sqlite|postgresql] [--requests 1000000]

Starts `honnin serve` with 2 workers (and, in this process, the SMTP sink of
bench/harness.py that reads each code out of its email) and drives a mix of API requests
at concurrency 32 (closed loop). Each user, in turn: a verification (create, wait for the
email, check a wrong code, then the right one, get it); every 10th turn also a sign-in by
emailed code through `/api/v1/flows` (create, name, "email me a code", the code, whose session
is this, sign out); every 5th turn also some 4xx (bad JSON, unknown ids, a bad API key).

The RSS of each worker (VmRSS of /proc/PID/status) is sampled every (requests − warm-up) /
samples requests; the one at the end of the warm-up (5 % of the requests) is the baseline,
and the growth from it to the end is judged against 10 %. The last half's growth says
whether RSS is still climbing or has levelled off.

The throttles that would refuse a bench's rate are raised per *second*: the in-memory moving
window (`honnin.limits.local`) keeps one entry per hit in its window, so "100000000/hour"
would grow it by every request, which no deployment sees (there a window holds at most its
limit's amount).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    Server,
    Sink,
    children,
    drop_database,
    free_port,
    honnin_env,
    migrated_database,
    server,
)

WORKERS = 2
CONCURRENCY = 32
LIMIT = 0.10  # the bound on RSS growth
PG_DATABASE = "honnin_bench_memory"
MAIL_TIMEOUT_SECONDS = 30.0
console = Console()


# --- the worker processes and their memory --------------------------------------------------


def worker_pids(supervisor: int) -> list[int]:
    """The uvicorn workers: the supervisor's children started by multiprocessing."""
    pids = []
    for pid in children(supervisor):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.spawn" in cmdline:
            pids.append(pid)
    return sorted(pids)


def status_kib(pid: int, name: str) -> int:
    """A `kB` line of /proc/PID/status (VmRSS, VmHWM); 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Sample:
    label: str
    requests: int
    seconds: float
    rss_kib: list[int]


@dataclass
class Memory:
    """RSS samples of each worker, taken as the request count passes each mark."""

    pids: list[int]
    warmup: int
    every: int
    started: float = field(default_factory=time.perf_counter)
    samples: list[Sample] = field(default_factory=list)
    next_mark: int = 0

    def __post_init__(self) -> None:
        self.next_mark = self.warmup

    def take(self, label: str, requests: int) -> Sample:
        rss = [status_kib(pid, "VmRSS") for pid in self.pids]
        sample = Sample(label, requests, time.perf_counter() - self.started, rss)
        self.samples.append(sample)
        return sample

    def passed(self, requests: int) -> Sample | None:
        if requests < self.next_mark:
            return None
        label = "warm-up" if self.next_mark == self.warmup else ""
        self.next_mark += self.every
        return self.take(label, requests)

    @property
    def baseline(self) -> Sample:
        return next(s for s in self.samples if s.label == "warm-up")


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    unexpected: Counter[tuple[str, int]] = field(default_factory=Counter)
    lost_mail: int = 0


class Load:
    """The request mix of one user after another; counts every request and its status."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base: str,
        sink: Sink,
        key: str,
        on_request: Callable[[int], None],
    ) -> None:
        self.session = session
        self.base = base
        self.sink = sink
        self.auth = {"Authorization": f"Bearer {key}"}
        self.on_request = on_request
        self.tally = Tally()
        self.run_id = secrets.token_hex(3)
        self.serial = 0

    async def call(
        self,
        kind: str,
        method: str,
        path: str,
        expected: tuple[int, ...],
        *,
        body: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One request; its JSON body (empty when it has none, or on an unexpected status)."""
        async with self.session.request(
            method, f"{self.base}{path}", json=body, data=data,
            headers={**self.auth, **(headers or {})},
        ) as response:  # fmt: skip
            raw = await response.read()
            status = response.status
        self.tally.requests += 1
        self.tally.statuses[(kind, status)] += 1
        self.on_request(self.tally.requests)
        if status not in expected:
            self.tally.unexpected[(kind, status)] += 1
            return {}
        parsed: dict[str, Any] = json.loads(raw) if raw else {}
        return parsed

    async def code_for(self, address: str, send: Awaitable[dict[str, Any]]) -> str | None:
        """Make the request that sends a code to `address`, and read the code from the sink."""
        arrival = self.sink.expect(address)
        if not await send:
            self.sink.waiting.pop(address, None)
            return None
        try:
            _received_at, code = await asyncio.wait_for(arrival, MAIL_TIMEOUT_SECONDS)
        except TimeoutError:
            self.tally.lost_mail += 1
            return None
        return code

    async def verification(self) -> None:
        self.serial += 1
        to = f"m{self.serial}.{self.run_id}@bench.example.com"
        created: dict[str, Any] = {}

        async def create() -> dict[str, Any]:
            created.update(await self.call(
                "verification create", "POST", "/api/v1/verifications", (201,), body={"to": to}
            ))  # fmt: skip
            return created

        code = await self.code_for(to, create())
        if code is None:
            return
        path = f"/api/v1/verifications/{created['id']}"
        wrong = "".join(str((int(d) + 1) % 10) for d in code)
        await self.call("check (wrong)", "POST", f"{path}/check", (400,), body={"code": wrong})
        await self.call("check (right)", "POST", f"{path}/check", (200,), body={"code": code})
        await self.call("verification get", "GET", path, (200,))

    async def sign_in(self, name: str) -> None:
        flow = await self.call("flow create", "POST", "/api/v1/flows", (201,),
                               body={"kind": "sign_in"})  # fmt: skip
        if not flow:
            return
        path = f"/api/v1/flows/{flow['id']}"
        if not await self.call("flow act", "POST", path, (200,),
                               body={"action": "submit_identifier", "name": name}):  # fmt: skip
            return
        send = self.call("flow act", "POST", path, (200,), body={"action": "email_code"})
        code = await self.code_for(name, send)
        if code is None:
            return
        done = await self.call("flow act", "POST", path, (200,),
                               body={"action": "submit_code", "code": code})  # fmt: skip
        if not done.get("session_token"):
            return
        token = {"X-Session-Token": done["session_token"]}
        current = "/api/v1/sessions/current"
        await self.call("session get", "GET", current, (200,), headers=token)
        await self.call("session sign-out", "DELETE", current, (204,), headers=token)

    async def errors(self) -> None:
        unknown = str(uuid.uuid4())
        path = "/api/v1/verifications"
        json_type = {"Content-Type": "application/json"}
        bad_key = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
        await self.call("4xx bad JSON", "POST", path, (400, 422), data=b'{"to": "a@',
                        headers=json_type)  # fmt: skip
        await self.call("4xx unknown id", "GET", f"{path}/{unknown}", (404,))
        await self.call("4xx unknown id", "GET", f"/api/v1/flows/{unknown}", (404,))
        await self.call("4xx bad key", "GET", f"{path}/{unknown}", (401,), headers=bad_key)

    async def user(self, name: str, requests: int) -> None:
        turn = 0
        while self.tally.requests < requests:
            turn += 1
            await self.verification()
            if turn % 10 == 0:
                await self.sign_in(name)
            if turn % 5 == 0:
                await self.errors()


# --- the service --------------------------------------------------------------------------------


async def seed(url: str, names: list[str]) -> str:
    """An API key, and an account (its address verified, no password) per sign-in name."""
    from honnin.accounts.service import AccountService
    from honnin.clients.service import ClientService
    from honnin.clock import SystemClock
    from honnin.db import Database

    db = Database(url)
    try:
        key = (await ClientService(db, SystemClock()).create("bench")).api_key
        accounts = AccountService(db, SystemClock())
        async with db.transaction() as tx:
            for name in names:
                await accounts.insert(tx, name, None, locale="en", email_verified=True)
    finally:
        await db.dispose()
    return key


# --- running and reporting -------------------------------------------------------------------


async def ready_workers(target: Server) -> list[int]:
    """The workers, once both run and serve: the supervisor listens before it starts them."""
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as session:
        while len(pids := worker_pids(target.process.pid)) != WORKERS:
            if time.monotonic() > deadline:
                raise SystemExit(f"expected {WORKERS} workers, found {pids}")
            await asyncio.sleep(0.2)
        for _ in range(2 * WORKERS):
            async with session.get(f"{target.base}/healthz") as response:
                response.raise_for_status()
    await asyncio.sleep(2)  # the other worker, too
    return pids


async def drive(target: Server, sink: Sink, key: str, names: list[str], args: Any) -> None:
    pids = await ready_workers(target)
    warmup = max(1, int(args.requests * args.warmup))
    memory = Memory(pids, warmup, max(1, (args.requests - warmup) // args.samples))
    memory.take("start", 0)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("warming up", total=args.requests)

        def on_request(requests: int) -> None:
            progress.update(task, completed=requests)
            sample = memory.passed(requests)
            if sample is not None:
                rss = " / ".join(f"{kib / 1024:.1f}" for kib in sample.rss_kib)
                progress.update(task, description=f"RSS {rss} MiB")

        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            load = Load(session, target.base, sink, key, on_request)
            memory.started = time.perf_counter()
            await asyncio.gather(*(load.user(name, args.requests) for name in names))
        memory.take("end", load.tally.requests)
    report(memory, load.tally, pids)


def mib(kib: int) -> str:
    return f"{kib / 1024:8.1f}"


def report(memory: Memory, tally: Tally, pids: list[int]) -> None:
    table = Table(title="RSS of each worker (MiB)")
    table.add_column("at", justify="left")
    table.add_column("requests", justify="right")
    table.add_column("seconds", justify="right")
    for pid in pids:
        table.add_column(f"worker {pid}", justify="right")
    for s in memory.samples:
        table.add_row(s.label, f"{s.requests:,}", f"{s.seconds:.0f}", *(mib(k) for k in s.rss_kib))
    console.print(table)

    base, end = memory.baseline, memory.samples[-1]
    middle = min(memory.samples, key=lambda s: abs(s.requests - (base.requests + end.requests) / 2))
    elapsed = end.seconds or 1.0
    print(f"{tally.requests:,} requests in {elapsed:.0f} s ({tally.requests / elapsed:.0f} req/s)")
    worst = 0.0
    for i, pid in enumerate(pids):
        growth = (end.rss_kib[i] - base.rss_kib[i]) / base.rss_kib[i]
        late = (end.rss_kib[i] - middle.rss_kib[i]) / base.rss_kib[i]
        worst = max(worst, growth)
        print(f"worker {pid}: {mib(base.rss_kib[i]).strip()} → {mib(end.rss_kib[i]).strip()} MiB "
              f"from the warm-up to the end: {growth:+.1%} ({late:+.1%} in the last half); "
              f"peak {mib(status_kib(pid, 'VmHWM')).strip()} MiB")  # fmt: skip
    if any(0 in s.rss_kib for s in memory.samples):
        print("a worker exited during the run: its RSS after that is 0 (see the table)")
    print(f"verdict: {'PASS' if worst <= LIMIT else 'FAIL'} (largest growth {worst:+.1%}, "
          f"bound {LIMIT:.0%})")  # fmt: skip
    counts = sorted(tally.statuses.items())
    print("responses: " + ", ".join(f"{kind} {status}: {n:,}" for (kind, status), n in counts))
    if tally.unexpected or tally.lost_mail:
        print(f"UNEXPECTED: {dict(tally.unexpected)}; emails not received: {tally.lost_mail}")


async def run(kind: str, args: Any) -> None:
    sink = Sink()
    smtp_port = free_port()
    smtp = await sink.serve(smtp_port)
    names = [f"user{i}.{secrets.token_hex(3)}@bench.example.com" for i in range(args.concurrency)]
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = await migrated_database(kind, Path(folder), PG_DATABASE)
            key = await seed(url, names)
            port = free_port()
            command = [sys.executable, "-m", "honnin", "serve", "--port", str(port),
                       "--workers", str(WORKERS)]  # fmt: skip
            print(f"honnin on {kind}, {WORKERS} workers; {args.requests:,} requests at "
                  f"concurrency {args.concurrency}; load, SMTP sink in this process")  # fmt: skip
            async with server(command, honnin_env(url, smtp_port, folder), port) as target:
                await drive(target, sink, key, names, args)
    finally:
        smtp.close()
        if kind == "postgresql":
            await drop_database(PG_DATABASE)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--warmup", type=float, default=0.05, help="share of the requests")
    parser.add_argument("--samples", type=int, default=20, help="samples after the warm-up")
    args = parser.parse_args()
    await run(args.db, args)


if __name__ == "__main__":
    uvloop.run(main())
