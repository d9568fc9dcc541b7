"""Does a response's timing tell whether a sign-in name has an account? Wall-clock figures.

    .venv/bin/python bench/enumeration_timing.py [-n 300] [--paths email_code password sign_up]

It starts honnin (`honnin serve`, one worker) on a fresh SQLite database, and a real SMTP relay
in a process of its own (aiosmtpd's Sink: one in this process would steal time from the
requests being timed). For each path it times one request per sample over the JSON API — the
request whose work differs behind the scenes — for a name with an account and one without,
in alternating order, each sample on a fresh name so that no limit or cooldown shortens a path:

- email_code: `POST /api/v1/flows/{id}` `{"action": "email_code"}` (a real message, or a decoy
  for the void channel);
- password: `{"action": "submit_password"}` with a wrong password (a hash, or a dummy hash);
- sign_up: `{"action": "submit_details"}` (the code, or "you already have an account").

It prints both distributions' percentiles, the difference of the medians and of the means, and
Welch's z for the means. The tests (tests/functional/test_enumeration_timing.py) count the work
instead; this shows what an attacker with a stopwatch would see on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import ROOT, free_port, honnin_env

PASSWORD = "correct horse battery staple"  # noqa: S105 - the bench accounts'
PATHS = ("email_code", "password", "sign_up")


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"{what} did not start: {stderr[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"{what} did not open port {port}")


@contextlib.contextmanager
def started(command: list[str], port: int, what: str, env: dict[str, str]) -> Iterator[None]:
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port, process, what)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


async def prepare(url: str, known: list[str]) -> str:
    """Migrate, create the API client and the accounts (one hash for all: it is only setup)."""
    from honnin.accounts.passwords import hash_password
    from honnin.accounts.service import AccountService
    from honnin.clients.service import ClientService
    from honnin.clock import SystemClock
    from honnin.db import Database
    from honnin.migrations import upgrade_async

    await upgrade_async(url)
    db = Database(url)
    try:
        key = (await ClientService(db, SystemClock()).create("bench")).api_key
        password_hash = await hash_password(PASSWORD)
        accounts = AccountService(db, SystemClock())
        async with db.transaction() as tx:
            for name in known:
                await accounts.insert(tx, name, password_hash, locale="en", email_verified=True)
    finally:
        await db.dispose()
    return key


async def one_sample(client: httpx.AsyncClient, path: str, name: str, pause: float) -> float:
    """Seconds the one request that differs takes; the steps before it are not timed."""
    kind = "sign_up" if path == "sign_up" else "sign_in"
    created = await client.post("/api/v1/flows", json={"kind": kind})
    created.raise_for_status()
    url = f"/api/v1/flows/{created.json()['id']}"
    if path == "sign_up":
        action = {"action": "submit_details", "email": name, "password": PASSWORD}
        expected = 200
    else:
        named = await client.post(url, json={"action": "submit_identifier", "name": name})
        named.raise_for_status()
        if path == "email_code":
            action, expected = {"action": "email_code"}, 200
        else:
            action, expected = {"action": "submit_password", "password": "wrong password"}, 400
    started_at = time.perf_counter()
    response = await client.post(url, json=action)
    elapsed = time.perf_counter() - started_at
    if response.status_code != expected:
        raise SystemExit(f"{path} for {name}: {response.status_code} {response.text[:300]}")
    await asyncio.sleep(pause)  # with a pause the courier's work ends before the next sample
    return elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(path: str, known: list[float], unknown: list[float]) -> None:
    quantiles = (0.10, 0.25, 0.50, 0.75, 0.90, 0.99)
    print(f"\n{path}: n = {len(known)} + {len(unknown)} (ms)")
    print("            " + "".join(f"{f'p{round(q * 100)}':>8}" for q in quantiles) + "    mean")
    for label, values in (("known", known), ("unknown", unknown)):
        cells = "".join(f"{pct(values, q) * 1000:8.2f}" for q in quantiles)
        print(f"  {label:<9} {cells}{statistics.fmean(values) * 1000:8.2f}")
    diff_median = (statistics.median(known) - statistics.median(unknown)) * 1000
    diff_mean = (statistics.fmean(known) - statistics.fmean(unknown)) * 1000
    se = math.sqrt(
        statistics.variance(known) / len(known) + statistics.variance(unknown) / len(unknown)
    )
    z = (statistics.fmean(known) - statistics.fmean(unknown)) / se if se else 0.0
    print(f"  known − unknown: median {diff_median:+.2f} ms, mean {diff_mean:+.2f} ms, "
          f"Welch z = {z:+.2f}")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="samples per name kind and path")
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument(
        "--pause", type=float, default=0.0,
        help="seconds between samples (0: the next request meets the courier at work)",
    )  # fmt: skip
    args = parser.parse_args()
    warm = 20
    run = secrets.token_hex(2)
    names = {
        path: {
            kind: [f"{kind[:2]}{p}{n:04d}.{run}@example.com" for n in range(args.n + warm)]
            for kind in ("known", "unknown")  # the same length: kn… / un…
        }
        for p, path in enumerate(args.paths)
    }
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/honnin.db"
        key = await prepare(url, [name for path in names.values() for name in path["known"]])
        smtp_port, http_port = free_port(), free_port()
        relay = [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                 "-l", f"127.0.0.1:{smtp_port}"]  # fmt: skip
        env = honnin_env(url, smtp_port, folder, raised=("CLIENT_SENDS", "CLIENT_CHECKS"))
        serve = [sys.executable, "-m", "honnin", "serve", "--port", str(http_port)]
        with (
            started(relay, smtp_port, "the SMTP relay", {}),
            started(serve, http_port, "honnin", env),
        ):
            print(
                f"{os.cpu_count()} cores; honnin (1 worker) and an aiosmtpd relay in their "
                f"own processes; {args.n} samples per name kind after {warm} to warm up"
            )
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{http_port}", headers=headers, timeout=30
            ) as client:
                for path in args.paths:
                    samples: dict[str, list[float]] = {"known": [], "unknown": []}
                    for n in range(args.n + warm):
                        order = ["known", "unknown"]
                        random.shuffle(order)
                        for kind in order:
                            elapsed = await one_sample(
                                client, path, names[path][kind][n], args.pause
                            )
                            if n >= warm:
                                samples[kind].append(elapsed)
                    report(path, samples["known"], samples["unknown"])


if __name__ == "__main__":
    asyncio.run(main())
