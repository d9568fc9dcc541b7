"""Password sign-ins: their rate against the machine's raw Argon2 rate, and what they do to
everything else.

    .venv/bin/python bench/passwords.py [--db postgresql sqlite] [--seconds 10]
                                        [--variants pool to_thread nice0]

It prints:

(a) the raw rate: argon2-cffi's `PasswordHasher.verify` with honnin's parameters in as many OS
    processes as the machine has cores → verifies/s, just before and just after (b) while the
    server idles (on a shared machine the other load changes: (b) is compared to their mean);
    once at the start, the same with honnin's own `Argon2id` (its reused memory areas);
(b) honnin (`honnin serve`, 2 workers): password sign-ins through the JSON flows API (create
    a flow, submit the name, submit the password) at a concurrency that keeps every core busy
    → sign-ins/s and their ratio to (a), the submit_password call's p50/p99, and the CPU
    (server + PostgreSQL backends) per sign-in against a raw verify's;
(c) verification creates (`POST /api/v1/verifications`) at a fixed rate (open loop), alone
    and during such a storm → p50/p99 of the call.

Variants (for comparison; each starts the server with a `sitecustomize` that patches
`honnin.accounts.passwords` before anything imports it): `pool` is the code as it is (a
bounded pool of low-priority threads, each hashing in a reused memory area); `nice0` the same
pool at normal priority, `nice19` at the lowest; `cores` a pool of as many threads as cores
(instead of cores / Argon2's lanes); `library` the pool with argon2-cffi's `PasswordHasher`
(fresh memory per hash); `before` what honnin did before (`PasswordHasher` in
`asyncio.to_thread`, the loop's shared default executor); `nohash` compares the password
instead of hashing it: what a sign-in costs besides Argon2.

The load generator, the SMTP sink, the database and the server share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import aiohttp
import uvloop

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    Backends,
    Server,
    Sink,
    drop_database,
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

PASSWORD = "correct horse battery staple"  # noqa: S105 - the bench accounts'
ACCOUNTS = 16
CONCURRENCY = 16  # sign-ins in flight: several hashes queued per worker, every core busy
RATE = 20.0  # verification creates per second during (c)
KEEPALIVE = 4.0  # seconds, below uvicorn's 5: no request on a connection the server closed
WORKERS = 2
PG_DATABASE = "honnin_bench_passwords"
LIBRARY = "passwords._hasher = passwords.PasswordHasher.from_parameters(passwords.PARAMETERS)\n"
PATCHES = {
    "pool": "",
    "nice0": "passwords.HASH_THREADS_NICE = 0\n",
    "nice19": "passwords.HASH_THREADS_NICE = 19\n",
    "cores": "passwords.HASH_THREADS = passwords.usable_cores()\n",
    "library": LIBRARY,
    "before": (
        "import asyncio\n\n"
        "async def _to_thread(work):\n"
        "    return await asyncio.to_thread(work)\n\n"
        "passwords._off_loop = _to_thread\n" + LIBRARY
    ),
    "nohash": f"passwords._verify = lambda _hash, password: password == {PASSWORD!r}\n",
}


# --- (a) the raw rate -----------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    processes: int
    rate: float  # verifies/s of the machine
    cpu_ms: float  # CPU per verify: less sensitive than the rate to what else the machine runs


def _raw_verifies(start_at: float, seconds: float, honnins: bool) -> tuple[int, float, float]:
    """In a process of its own: (verifies, seconds, CPU seconds) from `start_at` (wall clock)
    for `seconds`, with argon2-cffi's `PasswordHasher` or honnin's `Argon2id`."""
    from argon2 import PasswordHasher

    from honnin.accounts.passwords import PARAMETERS, Argon2id

    hasher = Argon2id() if honnins else PasswordHasher.from_parameters(PARAMETERS)
    hashed = hasher.hash(PASSWORD)
    time.sleep(max(0.0, start_at - time.time()))
    started, cpu = time.perf_counter(), time.process_time()  # every thread of the process
    done = 0
    while time.perf_counter() - started < seconds:
        hasher.verify(hashed, PASSWORD)
        done += 1
    return done, time.perf_counter() - started, time.process_time() - cpu


def raw_rate(seconds: float, honnins: bool = False) -> Raw:
    from honnin.accounts.passwords import usable_cores

    processes = usable_cores()
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        start_at = time.time() + 2.0  # every process imported and hashed once by then
        futures = [pool.submit(_raw_verifies, start_at, seconds, honnins) for _ in range(processes)]
        results = [f.result() for f in futures]
    done = sum(r[0] for r in results)
    rate = sum(done / elapsed for done, elapsed, _cpu in results)
    return Raw(processes, rate, sum(r[2] for r in results) * 1000 / max(1, done))


# --- the service under test -----------------------------------------------------------------


async def seed(url: str) -> tuple[str, list[str]]:
    """An API key and the sign-in names of `ACCOUNTS` accounts whose password is PASSWORD."""
    from honnin.accounts.service import AccountService
    from honnin.clients.service import ClientService
    from honnin.clock import SystemClock
    from honnin.db import Database

    db = Database(url)
    try:
        key = (await ClientService(db, SystemClock()).create("bench")).api_key
        names = [f"signin{i}@bench.example.com" for i in range(ACCOUNTS)]
        accounts = AccountService(db, SystemClock())
        await asyncio.gather(*(accounts.create(n, PASSWORD, email_verified=True) for n in names))
    finally:
        await db.dispose()
    return key, names


def patched_path(variant: str, folder: Path) -> str:
    """A PYTHONPATH whose sitecustomize applies `variant` in every server process."""
    patch = PATCHES[variant]
    if not patch:
        return os.environ.get("PYTHONPATH", "")
    site = folder / f"site-{variant}"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "from honnin.accounts import passwords\n\n" + patch, encoding="utf-8"
    )
    return os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")]))


# --- load -----------------------------------------------------------------------------------


@dataclass
class Calls:
    latency: list[float] = field(default_factory=list)
    done: int = 0
    errors: int = 0


class Load:
    def __init__(self, session: aiohttp.ClientSession, base: str, key: str) -> None:
        self.session = session
        self.base = base
        self.headers = {"Authorization": f"Bearer {key}"}
        self.run_id = secrets.token_hex(3)
        self.counter = 0

    async def _post(self, path: str, body: dict[str, str], expect: int) -> dict[str, str] | None:
        """The response's body, or None for another status or a broken connection (counted as
        an error by the caller: e.g. a kept-alive connection the server closed meanwhile)."""
        try:
            async with self.session.post(
                f"{self.base}{path}", json=body, headers=self.headers
            ) as response:
                data = await response.json(content_type=None)
                return data if response.status == expect else None
        except aiohttp.ClientError:
            return None

    async def sign_in(self, name: str, calls: Calls) -> None:
        flow = await self._post("/api/v1/flows", {"kind": "sign_in"}, 201)
        if flow is None:
            calls.errors += 1
            return
        url = f"/api/v1/flows/{flow['id']}"
        if await self._post(url, {"action": "submit_identifier", "name": name}, 200) is None:
            calls.errors += 1
            return
        started = time.perf_counter()
        done = await self._post(url, {"action": "submit_password", "password": PASSWORD}, 200)
        if done is None or not done.get("session_token"):
            calls.errors += 1
            return
        calls.latency.append(time.perf_counter() - started)
        calls.done += 1

    async def create_verification(self, calls: Calls) -> None:
        self.counter += 1
        to = f"v{self.counter}.{self.run_id}@bench.example.com"
        started = time.perf_counter()
        if await self._post("/api/v1/verifications", {"to": to}, 201) is None:
            calls.errors += 1
            return
        calls.latency.append(time.perf_counter() - started)
        calls.done += 1


async def storm(load: Load, names: list[str], stop: asyncio.Event) -> tuple[Calls, float]:
    """Sign-ins at `CONCURRENCY` (closed loop) until `stop`: (calls, seconds)."""
    calls = Calls()

    async def user(i: int) -> None:
        n = i
        while not stop.is_set():
            await load.sign_in(names[n % len(names)], calls)
            n += CONCURRENCY

    started = time.perf_counter()
    await asyncio.gather(*(user(i) for i in range(CONCURRENCY)))
    return calls, time.perf_counter() - started


async def timed_storm(load: Load, names: list[str], seconds: float) -> tuple[Calls, float]:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    return await storm(load, names, stop)


@dataclass
class Figures:
    name: str
    signins: Calls
    signin_rate: float
    cpu_ms: float
    db_cpu_ms: float | None
    alone: Calls
    during: Calls
    storm_rate: float
    raw: list[Raw]  # just before and just after (b), while the server idles


async def measure(
    target: Server, backends: Backends | None, key: str, names: list[str], seconds: float
) -> Figures:
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE)
    async with aiohttp.ClientSession(connector=connector) as session:
        load = Load(session, target.base, key)
        await timed_storm(load, names, 2.0)  # warm up: pools, connections, the dummy hash
        await open_loop(lambda: load.create_verification(Calls()), RATE, 1.0)
        raw = [await asyncio.to_thread(raw_rate, seconds)]
        cpu_before = target.cpu_seconds()
        db_before = backends.cpu_seconds() if backends else 0.0
        if backends is None:
            signins, elapsed = await timed_storm(load, names, seconds)
        else:
            async with backends.watch():
                signins, elapsed = await timed_storm(load, names, seconds)
        per_signin = 1000 / max(1, signins.done)
        cpu_ms = (target.cpu_seconds() - cpu_before) * per_signin
        db_cpu_ms = (backends.cpu_seconds() - db_before) * per_signin if backends else None
        raw.append(await asyncio.to_thread(raw_rate, seconds))
        alone = Calls()
        await open_loop(lambda: load.create_verification(alone), RATE, seconds)
        await asyncio.sleep(1.0)
        stop = asyncio.Event()
        storming = asyncio.ensure_future(storm(load, names, stop))
        await asyncio.sleep(1.0)  # the storm is at full strength
        during = Calls()
        await open_loop(lambda: load.create_verification(during), RATE, seconds)
        stop.set()
        background, storm_elapsed = await storming
    return Figures(
        "", signins, signins.done / elapsed, cpu_ms, db_cpu_ms, alone, during,
        background.done / storm_elapsed, raw,
    )  # fmt: skip


def report(figures: Figures) -> None:
    s = figures.signins
    raw = Raw(
        figures.raw[0].processes,
        statistics.fmean(r.rate for r in figures.raw),
        statistics.fmean(r.cpu_ms for r in figures.raw),
    )
    cpu = figures.cpu_ms + (figures.db_cpu_ms or 0.0)
    db = f" + database {figures.db_cpu_ms:.1f} ms" if figures.db_cpu_ms is not None else ""
    print(f"\n{figures.name}")
    print(f"  (a) raw, before and after (b): "
          f"{' and '.join(f'{r.rate:.2f}' for r in figures.raw)} verifies/s, "
          f"CPU {' and '.join(f'{r.cpu_ms:.0f}' for r in figures.raw)} ms/verify")  # fmt: skip
    print(f"  (b) {figures.signin_rate:6.2f} sign-ins/s at concurrency {CONCURRENCY} "
          f"({s.done} sign-ins, {s.errors} errors) = {figures.signin_rate / raw.rate:.0%} of the "
          f"raw rate")  # fmt: skip
    print(f"      CPU per sign-in: server {figures.cpu_ms:.0f} ms{db}: a raw verify's CPU is "
          f"{raw.cpu_ms / cpu:.0%} of it")  # fmt: skip
    print(f"      submit_password p50 {ms(pct(s.latency, 0.5))} ms, "
          f"p99 {ms(pct(s.latency, 0.99))} ms")  # fmt: skip
    print(f"  (c) verification creates at {RATE:.0f}/s       p50 ms   p99 ms   max ms  errors")
    for label, calls in (("alone", figures.alone), ("during a sign-in storm", figures.during)):
        print(f"      {label:27} {ms(pct(calls.latency, 0.5))}  {ms(pct(calls.latency, 0.99))}  "
              f"{ms(max(calls.latency, default=float('nan')))}  {calls.errors:6d}")  # fmt: skip
    print(f"      (the storm: {figures.storm_rate:.2f} sign-ins/s meanwhile)")


async def honnin(
    kind: str, variant: str, url: str, key: str, names: list[str], folder: Path,
    smtp_port: int, seconds: float,
) -> Figures:  # fmt: skip
    port = free_port()
    env = honnin_env(url, smtp_port, folder, PYTHONPATH=patched_path(variant, folder))
    command = honnin_command(port, WORKERS)
    backends = Backends(await postmaster_pid(), {PG_DATABASE}) if kind == "postgresql" else None
    async with server(command, env, port) as target:
        figures = await measure(target, backends, key, names, seconds)
    figures.name = f"honnin ({variant}) on {kind}, {WORKERS} workers"
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", nargs="+", default=["postgresql"],
                        choices=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--variants", nargs="+", default=["pool"], choices=list(PATCHES))
    args = parser.parse_args()

    from honnin.accounts.passwords import PARAMETERS, usable_cores

    p = PARAMETERS
    print(f"{usable_cores()} cores; Argon2id t={p.time_cost} m={p.memory_cost} KiB "
          f"p={p.parallelism}; {args.seconds:.0f} s per phase")  # fmt: skip
    for label, honnins in (("argon2-cffi's PasswordHasher", False), ("honnin's Argon2id", True)):
        raw = raw_rate(args.seconds, honnins)
        print(f"raw, {raw.processes} processes, {label}: {raw.rate:.2f} verifies/s, "
              f"CPU {raw.cpu_ms:.0f} ms/verify")  # fmt: skip
    sink = Sink()
    smtp_port = free_port()
    smtp = await sink.serve(smtp_port)
    for kind in args.db:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            url = await migrated_database(kind, folder, PG_DATABASE)
            try:
                key, names = await seed(url)
                for variant in args.variants:
                    report(
                        await honnin(
                            kind, variant, url, key, names, folder, smtp_port, args.seconds
                        )
                    )
            finally:
                if kind == "postgresql":
                    await drop_database(PG_DATABASE)
    smtp.close()


if __name__ == "__main__":
    uvloop.run(main())
