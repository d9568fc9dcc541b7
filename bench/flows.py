"""Sign-in by emailed code: honnin against django-allauth, on the same machine, in one run.

    .venv/bin/python bench/flows.py [--db sqlite postgresql] [--via api pages] [--seconds 10]
                                    [--workers 1 2] [--rounds 1] [--clients 8]

A flow is one person signing in with a code sent by email, each flow for an account of its own
(many are created before the timed phases); the code is read out of the mail that an SMTP sink
in this process receives.

- `--via api`: honnin's JSON flows API (create the flow, give the name, ask for the code, submit
  it, read the session with its token) against allauth's headless API for apps (ask for a code
  for the address, confirm it with the `X-Session-Token`, read the session);
- `--via pages`: each one's HTML pages, as a browser without JavaScript does it, a new browser
  per flow: get the page, read its form (with the CSRF field), post it, follow the redirects,
  keep the cookies; honnin's /signin … /account against allauth's /accounts/login/code/ …
  /accounts/email/.

8 clients (`--clients`) in a closed loop. honnin runs `honnin serve` with each `--workers` count
in turn; allauth a minimal Django project (bench/allauth/, its own virtual environment, made by
bench/allauth/setup when missing) under gunicorn with 2 sync workers. Runs alternate: for each
database and way in, honnin with each worker count, then allauth, `--rounds` times. SQLite for
both (honnin's file and allauth's, WAL), or PostgreSQL (one database, `honnin_bench_flows`:
honnin in `public`, allauth in the schema `allauth`).

For each it prints flows/s, the server's CPU per flow including the database's (PostgreSQL's
backends are processes of their own; SQLite's work is the server's), p50/p99 of each step and
the failures, then honnin's ratios to allauth (with several rounds: also each round's against
that round's allauth, and their median, since the machine's speed drifts between rounds). The
load generator and the sink share the machine's cores with the servers, and their CPU per flow
is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import uvloop

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.pages import Form, forms_in

from bench.harness import (
    HONNIN_CODE,
    ROOT,
    Backends,
    MachineCpu,
    Sink,
    create_database,
    drop_database,
    flamegraph,
    free_port,
    honnin_command,
    honnin_env,
    ms,
    pct,
    pg_url,
    postmaster_pid,
    server,
)
from honnin.accounts.service import AccountService
from honnin.clients.service import ClientService
from honnin.clock import SystemClock
from honnin.db import Database
from honnin.migrations import upgrade_async

CLIENTS = 8
WARMUP_SECONDS = 2.0
MAIL_TIMEOUT_SECONDS = 30.0
ALLAUTH_WORKERS = 2
ALLAUTH = ROOT / "bench" / "allauth"
ALLAUTH_BIN = ALLAUTH / ".venv" / "bin"
ALLAUTH_CODE = re.compile(rb"(?m)^([A-Z0-9]{3,}(?:-[A-Z0-9]{3,})+)\r?$")  # e.g. JQPD-SBTK
DOMAIN = "bench.example.com"
PG_DATABASE = "honnin_bench_flows"
ALLAUTH_SCHEMA = "allauth"
FIRST_GUESS_FLOWS_PER_SECOND = 300  # to make accounts for a target's first phase


# --- one flow's outcome -----------------------------------------------------------------------


class Failed(Exception):
    def __init__(self, step: str, what: str) -> None:
        super().__init__(f"{step}: {what}")
        self.step = step


class Laps:
    """The time each step of one flow took."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.mark = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.times[step] = now - self.mark
        self.mark = now


@dataclass
class Samples:
    steps: dict[str, list[float]] = field(default_factory=dict)
    flows: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    example: str = ""  # the first failure, in full

    def add(self, laps: Laps) -> None:
        self.flows += 1
        for step, seconds in laps.times.items():
            self.steps.setdefault(step, []).append(seconds)

    def fail(self, error: Failed) -> None:
        self.failures[error.step] += 1
        self.example = self.example or str(error)[:400]

    def merge(self, other: Samples) -> None:
        self.flows += other.flows
        self.failures.update(other.failures)
        self.example = self.example or other.example
        for step, values in other.steps.items():
            self.steps.setdefault(step, []).extend(values)


@dataclass
class Ctx:
    http: aiohttp.ClientSession
    base: str
    sink: Sink
    key: str = ""  # honnin's API key


Flow = Callable[[Ctx, str, Laps], Awaitable[None]]


async def call(
    ctx: Ctx,
    laps: Laps,
    step: str,
    method: str,
    path: str,
    expect: int,
    *,
    body: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One JSON call: its answer, after checking its status."""
    async with ctx.http.request(method, ctx.base + path, json=body, headers=headers) as response:
        raw = await response.read()
    if response.status != expect:
        raise Failed(step, f"{response.status} {raw[:300]!r}")
    laps.lap(step)
    return cast(dict[str, Any], json.loads(raw)) if raw else {}


async def mail(laps: Laps, arrival: asyncio.Future[tuple[float, str]]) -> str:
    """The code out of the mail the sink receives."""
    try:
        _at, code = await asyncio.wait_for(arrival, MAIL_TIMEOUT_SECONDS)
    except TimeoutError:
        raise Failed("code by mail", "no mail") from None
    laps.lap("code by mail")
    return code


# --- the JSON APIs ----------------------------------------------------------------------------


async def honnin_api(ctx: Ctx, address: str, laps: Laps) -> None:
    auth = {"Authorization": f"Bearer {ctx.key}"}
    flow = await call(
        ctx, laps, "create flow", "POST", "/api/v1/flows", 201,
        body={"kind": "sign_in"}, headers=auth,
    )  # fmt: skip
    url = f"/api/v1/flows/{flow['id']}"
    name = {"action": "submit_identifier", "name": address}
    await call(ctx, laps, "give name", "POST", url, 200, body=name, headers=auth)
    arrival = ctx.sink.expect(address)
    ask = {"action": "email_code"}
    await call(ctx, laps, "ask for code", "POST", url, 200, body=ask, headers=auth)
    submit = {"action": "submit_code", "code": await mail(laps, arrival)}
    done = await call(ctx, laps, "submit code", "POST", url, 200, body=submit, headers=auth)
    session = {**auth, "X-Session-Token": done["session_token"]}
    me = await call(
        ctx, laps, "read session", "GET", "/api/v1/sessions/current", 200, headers=session
    )
    if me["name"] != address:
        raise Failed("read session", f"signed in as {me['name']}")


ALLAUTH_APP = "/_allauth/app/v1/auth"


async def allauth_api(ctx: Ctx, address: str, laps: Laps) -> None:
    arrival = ctx.sink.expect(address)
    pending = await call(
        ctx, laps, "ask for code", "POST", f"{ALLAUTH_APP}/code/request", 401,
        body={"email": address},
    )  # fmt: skip
    token = {"X-Session-Token": pending["meta"]["session_token"]}
    code = {"code": await mail(laps, arrival)}
    path = f"{ALLAUTH_APP}/code/confirm"
    done = await call(ctx, laps, "submit code", "POST", path, 200, body=code, headers=token)
    token = {"X-Session-Token": done["meta"]["session_token"]}
    me = await call(ctx, laps, "read session", "GET", f"{ALLAUTH_APP}/session", 200, headers=token)
    if me["data"]["user"]["email"] != address:
        raise Failed("read session", f"signed in as {me['data']['user']['email']}")


# --- the pages, through a browser without JavaScript ------------------------------------------


@dataclass
class Page:
    url: str
    status: int
    html: str
    location: str | None = None

    def form(self, step: str, *, action: str = "", having: str = "") -> Form:
        """The form that performs `action` (honnin: a hidden field or a named button), or the
        first that has a field named `having`."""
        for form in forms_in(self.html):
            if action and ("action", action) in form.buttons:  # a named submit button
                form.fields["action"] = action
            if action and form.fields.get("action") == action:
                return form
            if having and having in form.fields:
                return form
        raise Failed(step, f"no form for {action or having} on {self.url} ({self.status})")

    def expect(self, step: str, status: int, path: str) -> None:
        shown = urlsplit(self.location or self.url).path
        if self.status != status or not shown.startswith(path):
            raise Failed(step, f"{self.status} at {self.url} → {self.location}, not {path}")


class Browser:
    """One browser: its cookies (sent back whatever their Secure flag: as if behind TLS), and
    redirects followed with GET."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.cookies: dict[str, str] = {}

    async def go(
        self, step: str, url: str, data: dict[str, str] | None = None, *, follow: bool = True
    ) -> Page:
        url = urljoin(self.ctx.base, url)
        method = "POST" if data is not None else "GET"
        for _hop in range(10):
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
            async with self.ctx.http.request(
                method, url, data=data, headers=headers, allow_redirects=False
            ) as response:
                html = await response.text()
                self._keep(response.headers.getall("Set-Cookie", []))
                page = Page(url, response.status, html, response.headers.get("Location"))
            if not (follow and page.status in (301, 302, 303) and page.location):
                return page
            url, method, data = urljoin(url, page.location), "GET", None
        raise Failed(step, f"too many redirects from {url}")

    async def submit(
        self, step: str, page: Page, form: Form, *, follow: bool = True, **fields: str
    ) -> Page:
        data = {**form.fields, **fields}
        return await self.go(step, urljoin(page.url, form.action or page.url), data, follow=follow)

    def _keep(self, headers: list[str]) -> None:
        for header in headers:
            pair, *attributes = header.split(";")
            name, _eq, value = pair.strip().partition("=")
            if any(a.strip().lower() == "max-age=0" for a in attributes):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value


async def honnin_pages(ctx: Ctx, address: str, laps: Laps) -> None:
    browser = Browser(ctx)
    page = await browser.go("open sign-in", "/signin")
    page.expect("open sign-in", 200, "/signin/")
    laps.lap("open sign-in")
    form = page.form("give name", action="submit_identifier")
    page = await browser.submit("give name", page, form, name=address)
    page.expect("give name", 200, "/signin/")
    laps.lap("give name")
    form = page.form("ask for code", action="email_code")
    arrival = ctx.sink.expect(address)
    page = await browser.submit("ask for code", page, form)
    page.expect("ask for code", 200, "/signin/")
    laps.lap("ask for code")
    code = await mail(laps, arrival)
    form = page.form("submit code", action="submit_code")
    done = await browser.submit("submit code", page, form, follow=False, code=code)
    done.expect("submit code", 303, "/account")
    laps.lap("submit code")
    assert done.location is not None
    page = await browser.go("read session", done.location)
    page.expect("read session", 200, "/account")
    laps.lap("read session")


async def allauth_pages(ctx: Ctx, address: str, laps: Laps) -> None:
    browser = Browser(ctx)
    page = await browser.go("open sign-in", "/accounts/login/code/")
    page.expect("open sign-in", 200, "/accounts/login/code/")
    laps.lap("open sign-in")
    form = page.form("ask for code", having="email")
    arrival = ctx.sink.expect(address)
    page = await browser.submit("ask for code", page, form, email=address)
    page.expect("ask for code", 200, "/accounts/login/code/confirm/")
    laps.lap("ask for code")
    code = await mail(laps, arrival)
    form = page.form("submit code", having="code")
    done = await browser.submit("submit code", page, form, follow=False, code=code)
    done.expect("submit code", 302, "/accounts/email/")
    laps.lap("submit code")
    assert done.location is not None
    page = await browser.go("read session", done.location)
    page.expect("read session", 200, "/accounts/email/")
    if address not in page.html:
        raise Failed("read session", "the page does not show the address")
    laps.lap("read session")


# --- load -------------------------------------------------------------------------------------


@dataclass
class Accounts:
    """Addresses of accounts made before the phase that uses them, each used once (if a phase
    outlasts them, again, and counted). `make(prefix, first, count)` makes more, between phases."""

    prefix: str
    make: Callable[[str, int, int], Awaitable[None]]
    made: int = 0
    fresh: int = 0  # the next never-used one
    reused: int = 0

    def next(self) -> str:
        if self.fresh < self.made:
            index = self.fresh
            self.fresh += 1
        else:
            index = self.reused % max(1, self.made)
            self.reused += 1
        return f"{self.prefix}{index}@{DOMAIN}"

    async def top_up(self, needed: int) -> None:
        """Make accounts until `needed` unused ones are ready."""
        missing = needed - (self.made - self.fresh)
        if missing > 0:
            await self.make(self.prefix, self.made, missing)
            self.made += missing


async def closed_loop(
    ctx: Ctx, flow: Flow, accounts: Accounts, seconds: float
) -> tuple[Samples, float]:
    samples = Samples()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            address = accounts.next()
            laps = Laps()
            try:
                # a new person's browser: connections of its own, so that the kernel spreads the
                # flows over the server's workers (kept-alive connections stay with one worker)
                async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
                    await flow(replace(ctx, http=http), address, laps)
            except Failed as error:
                samples.fail(error)
            except (aiohttp.ClientError, TimeoutError, KeyError, TypeError, ValueError) as error:
                samples.fail(Failed("(any)", repr(error)))
            else:
                samples.add(laps)
            finally:
                ctx.sink.forget(address)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return samples, time.perf_counter() - started


@dataclass
class Phase:
    label: str
    product: str
    samples: Samples
    elapsed: float
    server_cpu: float
    db_cpu: float | None  # PostgreSQL's backends
    client_cpu: float  # this process: load generator and sink
    busy: float  # of the whole machine, a fraction of all cores

    @property
    def rate(self) -> float:
        return self.samples.flows / self.elapsed

    def per_flow(self, seconds: float) -> float:
        return seconds * 1000 / max(1, self.samples.flows)

    @property
    def cpu_ms(self) -> float:
        """Server CPU per flow, the database's included."""
        return self.per_flow(self.server_cpu + (self.db_cpu or 0.0))

    def merge(self, other: Phase) -> Phase:
        return Phase(
            self.label,
            self.product,
            _merged(self.samples, other.samples),
            self.elapsed + other.elapsed,
            self.server_cpu + other.server_cpu,
            None if self.db_cpu is None else self.db_cpu + (other.db_cpu or 0.0),
            self.client_cpu + other.client_cpu,
            (self.busy * self.elapsed + other.busy * other.elapsed)
            / (self.elapsed + other.elapsed),
        )


def _merged(a: Samples, b: Samples) -> Samples:
    merged = Samples()
    merged.merge(a)
    merged.merge(b)
    return merged


def _process_cpu() -> float:
    times = os.times()
    return times.user + times.system


@dataclass
class Target:
    """One server to start for a phase, and the flow to drive through it."""

    label: str
    product: str
    command: Callable[[int], list[str]]  # to serve on this port
    env: dict[str, str]
    flow: Flow
    accounts: Accounts
    key: str = ""


async def run_phase(
    target: Target,
    port: int,
    sink: Sink,
    seconds: float,
    backends: Backends | None,
    svg: Path | None = None,
) -> Phase:
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        server(target.command(port), target.env, port) as running,
        aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http,
    ):
        ctx = Ctx(http, running.base, sink, target.key)
        await closed_loop(ctx, target.flow, target.accounts, WARMUP_SECONDS)
        server_before, client_before = running.cpu_seconds(), _process_cpu()
        db_before = backends.cpu_seconds() if backends else 0.0
        machine_before = MachineCpu.now()
        async with flamegraph(running, svg, seconds):
            if backends is None:
                samples, elapsed = await closed_loop(ctx, target.flow, target.accounts, seconds)
            else:
                async with backends.watch():
                    samples, elapsed = await closed_loop(ctx, target.flow, target.accounts, seconds)
        busy = MachineCpu.now().busy_since(machine_before)
        server_cpu = running.cpu_seconds() - server_before
        db_cpu = backends.cpu_seconds() - db_before if backends else None
        client_cpu = _process_cpu() - client_before
    return Phase(
        target.label, target.product, samples, elapsed, server_cpu, db_cpu, client_cpu, busy
    )


# --- preparing each product -------------------------------------------------------------------


async def honnin_database(url: str) -> str:
    """Migrate, and make an API key."""
    await upgrade_async(url)
    db = Database(url)
    try:
        return (await ClientService(db, SystemClock()).create("bench")).api_key
    finally:
        await db.dispose()


def honnin_accounts(url: str) -> Callable[[str, int, int], Awaitable[None]]:
    async def make(prefix: str, first: int, count: int) -> None:
        """Accounts with a verified address and no password (they sign in by code)."""
        db = Database(url)
        service = AccountService(db, SystemClock())
        try:
            for start in range(first, first + count, 500):
                async with db.transaction() as tx:
                    for i in range(start, min(first + count, start + 500)):
                        address = f"{prefix}{i}@{DOMAIN}"
                        await service.insert(tx, address, None, locale="en", email_verified=True)
        finally:
            await db.dispose()

    return make


def allauth_env(database: str, smtp_port: int, pages: bool) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "benchsite.settings",
        "BENCH_DATABASE": database,
        "BENCH_SMTP_PORT": str(smtp_port),
        "BENCH_ALLAUTH_PAGES": "1" if pages else "0",
    }


def allauth_command(port: int) -> list[str]:
    return [
        str(ALLAUTH_BIN / "gunicorn"), "--chdir", str(ALLAUTH / "project"),
        "--workers", str(ALLAUTH_WORKERS), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        "django.core.wsgi:get_wsgi_application()",
    ]  # fmt: skip


async def in_allauth(env: dict[str, str], *args: str) -> None:
    """Run the allauth project's Python (migrations, users) to the end."""
    process = await asyncio.create_subprocess_exec(
        str(ALLAUTH_BIN / "python"), *args, cwd=ALLAUTH / "project",
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"allauth {' '.join(args)} failed: {output.decode()[-2000:]}")


async def allauth_database(database: str) -> None:
    await in_allauth(allauth_env(database, 0, pages=False), "-m", "django", "migrate", "-v0")


def allauth_accounts(database: str) -> Callable[[str, int, int], Awaitable[None]]:
    async def make(prefix: str, first: int, count: int) -> None:
        env = allauth_env(database, 0, pages=False)
        await in_allauth(env, "-m", "benchsite.users", prefix, str(first), str(count))

    return make


def ensure_allauth() -> None:
    if not (ALLAUTH_BIN / "gunicorn").exists():
        print("creating bench/allauth/.venv (bench/allauth/setup)…", flush=True)
        subprocess.run([str(ALLAUTH / "setup")], check=True)


# --- a run ------------------------------------------------------------------------------------


@dataclass
class Plan:
    dbs: list[str]
    vias: list[str]
    workers: list[int]
    seconds: float
    rounds: int
    flamegraphs: Path | None = None  # honnin's phases profiled into this folder
    rates: dict[str, float] = field(default_factory=dict)  # the last flows/s of each target

    def accounts_for(self, label: str) -> int:
        """Enough fresh accounts for a phase: half as many again as the last one used."""
        rate = self.rates.get(label, FIRST_GUESS_FLOWS_PER_SECOND)
        return int(1.5 * rate * (WARMUP_SECONDS + self.seconds)) + 4 * CLIENTS

    def flamegraph(self, target: Target, kind: str, via: str) -> Path | None:
        if self.flamegraphs is None or target.product != "honnin":
            return None
        workers = target.label.split()[1]  # "honnin, 2 workers"
        return self.flamegraphs / f"flows-{kind}-{via}-{workers}w.svg"


FLOWS: dict[tuple[str, str], Flow] = {
    ("honnin", "api"): honnin_api,
    ("allauth", "api"): allauth_api,
    ("honnin", "pages"): honnin_pages,
    ("allauth", "pages"): allauth_pages,
}


async def run_database(kind: str, plan: Plan, sink: Sink, smtp_port: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        backends = None
        if kind == "sqlite":
            honnin_url = f"sqlite+aiosqlite:///{folder}/honnin.db"
            allauth_url = f"sqlite:///{folder}/allauth.db"
        else:
            await create_database(PG_DATABASE)
            admin = await asyncpg.connect(pg_url(PG_DATABASE, ""))
            try:
                await admin.execute(f"CREATE SCHEMA {ALLAUTH_SCHEMA}")
            finally:
                await admin.close()
            honnin_url = pg_url(PG_DATABASE)
            allauth_url = f"{pg_url(PG_DATABASE, '')}?schema={ALLAUTH_SCHEMA}"
            backends = Backends(await postmaster_pid(), {PG_DATABASE})
        try:
            print(f"\n{kind}: migrating…", flush=True)
            key, _ = await asyncio.gather(
                honnin_database(honnin_url), allauth_database(allauth_url)
            )
            for_honnin = Accounts("h", honnin_accounts(honnin_url))
            for_allauth = Accounts("a", allauth_accounts(allauth_url))
            for via in plan.vias:
                targets = [
                    Target(
                        f"honnin, {w} worker{'s' if w > 1 else ''}",
                        "honnin",
                        functools.partial(honnin_command, workers=w),
                        honnin_env(honnin_url, smtp_port, folder),
                        FLOWS["honnin", via],
                        for_honnin,
                        key,
                    )
                    for w in plan.workers
                ]
                targets.append(
                    Target(
                        f"allauth, {ALLAUTH_WORKERS} workers",
                        "allauth",
                        allauth_command,
                        allauth_env(allauth_url, smtp_port, pages=via == "pages"),
                        FLOWS["allauth", via],
                        for_allauth,
                    )
                )
                phases: list[Phase] = []
                for _round in range(plan.rounds):
                    for target in targets:
                        svg = plan.flamegraph(target, kind, via)
                        phases.append(await run_target(target, sink, plan, backends, svg))
                report(kind, via, phases)
            for accounts in (for_honnin, for_allauth):
                if accounts.reused:
                    print(f"  note: {accounts.reused} flows reused an account (too few made)")
        finally:
            if kind == "postgresql":
                await drop_database(PG_DATABASE)


async def run_target(
    target: Target, sink: Sink, plan: Plan, backends: Backends | None, svg: Path | None
) -> Phase:
    await target.accounts.top_up(plan.accounts_for(target.label))
    phase = await run_phase(target, free_port(), sink, plan.seconds, backends, svg)
    plan.rates[target.label] = phase.rate
    print(f"  {phase.label}: {phase.rate:.1f} flows/s, {phase.cpu_ms:.1f} ms CPU/flow", flush=True)
    return phase


# --- the report -------------------------------------------------------------------------------


def combined(phases: list[Phase]) -> list[Phase]:
    """One line per label: its rounds added up."""
    by_label: dict[str, Phase] = {}
    for phase in phases:
        by_label[phase.label] = (
            by_label[phase.label].merge(phase) if phase.label in by_label else phase
        )
    return list(by_label.values())


def report(kind: str, via: str, phases: list[Phase]) -> None:
    rows = combined(phases)
    print(f"\n== {kind}, via {via} ({CLIENTS} clients, closed loop) ==")
    print(
        f"{'':22} {'flows/s':>8} {'server CPU':>11} {'of which DB':>12} "
        f"{'client CPU':>11} {'machine':>8} {'failures':>9}"
    )
    print(f"{'':22} {'':>8} {'ms/flow':>11} {'ms/flow':>12} {'ms/flow':>11} {'busy':>8}")
    for row in rows:
        db = f"{row.per_flow(row.db_cpu):12.1f}" if row.db_cpu is not None else f"{'-':>12}"
        failures = sum(row.samples.failures.values())
        print(
            f"{row.label:22} {row.rate:8.1f} {row.cpu_ms:11.1f} {db} "
            f"{row.per_flow(row.client_cpu):11.1f} {row.busy:8.0%} {failures:9d}"
        )
    for row in rows:
        print(f"  {row.label} ({row.samples.flows} flows)   p50 ms   p99 ms")
        for step, values in row.samples.steps.items():
            print(f"    {step:22} {ms(pct(values, 0.5))}  {ms(pct(values, 0.99))}")
        if row.samples.failures:
            print(f"    failures: {dict(row.samples.failures)}; first: {row.samples.example}")
    allauth = next((r for r in rows if r.product == "allauth"), None)
    if allauth is None or allauth.rate == 0:
        return
    for row in rows:
        if row.product == "honnin":
            print(
                f"  {row.label} / allauth: {row.rate / allauth.rate:.2f}× the flows/s, "
                f"{row.cpu_ms / allauth.cpu_ms:.2f}× the server CPU per flow "
                f"(goal: ≥ 3×, ≤ 0.33×)"
            )
    rounds = by_round(phases)
    if len(rounds) > 1:
        print("  each round against that round's allauth (the machine's speed drifts):")
        for label in (row.label for row in rows if row.product == "honnin"):
            pairs = [ratios(r[label], r[allauth.label]) for r in rounds]
            listed = ", ".join(f"{rate:.2f}×/{cpu:.2f}×" for rate, cpu in pairs)
            median = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
            print(f"    {label}: {listed}; median {median[0]:.2f}×/{median[1]:.2f}×")


def by_round(phases: list[Phase]) -> list[dict[str, Phase]]:
    """The phases of each round (a round runs every target once, in the same order)."""
    rounds: list[dict[str, Phase]] = []
    for phase in phases:
        if not rounds or phase.label in rounds[-1]:
            rounds.append({})
        rounds[-1][phase.label] = phase
    return rounds


def ratios(honnin: Phase, allauth: Phase) -> tuple[float, float]:
    """honnin's flows/s and server CPU per flow, as multiples of allauth's."""
    return honnin.rate / max(allauth.rate, 1e-9), honnin.cpu_ms / max(allauth.cpu_ms, 1e-9)


async def main() -> None:
    global CLIENTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--via", nargs="+", default=["api", "pages"], choices=["api", "pages"])
    parser.add_argument("--seconds", type=float, default=10.0, help="per timed phase")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2],
                        help="honnin's worker processes: each count is a phase")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1, help="alternations per database/via")
    parser.add_argument("--clients", type=int, default=CLIENTS,
                        help="people signing in at once (closed loop)")  # fmt: skip
    parser.add_argument("--flamegraphs", type=Path, metavar="DIR",
                        help="py-spy profiles: DIR/flows-<db>-<via>-<n>w.svg")  # fmt: skip
    args = parser.parse_args()
    CLIENTS = args.clients
    ensure_allauth()
    plan = Plan(args.db, args.via, args.workers, args.seconds, args.rounds, args.flamegraphs)

    sink = Sink([HONNIN_CODE, ALLAUTH_CODE])
    smtp_port = free_port()
    smtp = await sink.serve(smtp_port)
    print(
        f"{os.cpu_count()} cores; {CLIENTS} clients; load generator and SMTP sink in this "
        f"process; {WARMUP_SECONDS:.0f} s warm-up + {args.seconds:.0f} s per phase"
    )
    try:
        for kind in plan.dbs:
            await run_database(kind, plan, sink, smtp_port)
    finally:
        smtp.close()


if __name__ == "__main__":
    uvloop.run(main())
