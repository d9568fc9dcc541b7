"""`EXPLAIN (ANALYZE, BUFFERS)` of every statement on the hot paths, on a seeded database.

    .venv/bin/python bench/seed.py --database-url postgresql://postgres@127.0.0.1/honnin_size_big \\
        --accounts 1000000 --messages 10000000
    .venv/bin/python bench/explain.py [--database-url …/honnin_size_big] [--full]

In this process it runs the service (the app over `honnin.runtime.Runtime`, driven in-process
over ASGI, and a courier of its own, as `honnin courier` runs) against the database, with an
SMTP sink on loopback, and records every statement the database receives (a SQLAlchemy
`before_cursor_execute` listener) with its parameters, by what caused it:

- a verification created (`POST /api/v1/verifications`) and checked with the emailed code;
- a sign-in by emailed code through `/api/v1/flows`, on a seeded account, and the same through
  the pages (a browser: device cookie, CSRF, the device token replaced as it signs in);
- the courier: polling, claiming, sending and recording those two messages;
- housekeeping (`honnin.housekeeping.prune`), which must keep up as the history grows. It is
  recorded with a clock 60 days behind (so that it deletes nothing here) and explained as if
  it ran a day from now: full batches, with their cascades.

Then it explains each distinct statement with the parameters it ran with, in a transaction
that is rolled back (writes too: their plans are what a growing table changes), and lists the
sequential scans of the large tables — the plans that would slow down as they grow.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import random
import re
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import event

# run as a script, this folder (not the repository) is first on the path: `bench.` needs the root
sys.path[0] = str(Path(__file__).resolve().parents[1])

from tests.support.journeys import client_for  # noqa: E402
from tests.support.pages import PageClient  # noqa: E402

from bench.harness import Sink, free_port, pg_url  # noqa: E402
from bench.seed import SEEDED  # noqa: E402
from honnin.app import create_app  # noqa: E402
from honnin.config import Settings  # noqa: E402
from honnin.courier.worker import Courier  # noqa: E402
from honnin.housekeeping import prune  # noqa: E402
from honnin.runtime import Runtime  # noqa: E402

LARGE = (
    "accounts", "sign_in_names", "proofs", "sessions", "messages", "message_events", "flows",
    "challenges", "codes", "failed_attempts",
)  # fmt: skip
cause: contextvars.ContextVar[str] = contextvars.ContextVar("cause", default="other")
HOUSEKEEPING = "housekeeping (a day from now)"
RECORDED_BEHIND = timedelta(days=60)  # housekeeping deletes nothing while it is recorded
EXPLAINED_AHEAD = timedelta(days=1)  # … and is explained as if it ran then


@dataclass
class Statement:
    cause: str
    sql: str
    params: Any
    runs: int = 1
    ids_of: Statement | None = None  # its one parameter: the ids this statement selects

    def arguments(self) -> list[Any]:
        """Its parameters; a housekeeping statement's moments moved to a day from now."""
        values = list(self.params or ())
        if self.cause != HOUSEKEEPING:
            return values
        shift = RECORDED_BEHIND + EXPLAINED_AHEAD
        return [v + shift if isinstance(v, datetime) else v for v in values]


@dataclass
class Recorder:
    """Every distinct statement by cause, with the parameters of its first run."""

    seen: dict[tuple[str, str], Statement] = field(default_factory=dict)

    def __call__(
        self, conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool
    ) -> None:
        words = sql.lstrip().split(None, 1)
        if not words or words[0].upper() not in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            return
        key = (cause.get(), sql)
        if key in self.seen:
            self.seen[key].runs += 1
        else:
            self.seen[key] = Statement(key[0], sql, params[0] if many and params else params)


class Behind:
    """The system clock, `RECORDED_BEHIND` ago."""

    def now(self) -> datetime:
        return datetime.now(UTC) - RECORDED_BEHIND


CHOSEN = re.compile(r"^SELECT (\w+)\.id FROM (\w+) ")
DELETED_ALONG = {"messages": [("message_events", "message_id")]}  # honnin.housekeeping's


def derive_deletes(recorder: Recorder) -> None:
    """Housekeeping selects a batch of ids, then deletes those rows (and what points at them);
    with nothing old enough while recording, the deletes did not run: explain them on the ids
    the select would choose a day from now."""
    seen, recorder.seen = recorder.seen, {}
    for (current, sql), statement in seen.items():
        recorder.seen[(current, sql)] = statement
        chosen = CHOSEN.match(" ".join(sql.split()))
        if current != HOUSEKEEPING or not chosen:
            continue
        table = chosen.group(1)
        kind = "bigint" if table == "failed_attempts" else "uuid"
        for target, column in [*DELETED_ALONG.get(table, []), (table, "id")]:
            delete = f"DELETE FROM {target} WHERE {target}.{column} = ANY($1::{kind}[])"  # noqa: S608
            recorder.seen[(current, delete)] = Statement(current, delete, (), ids_of=statement)


@asynccontextmanager
async def service(
    url: str, sink_port: int
) -> AsyncIterator[tuple[httpx.AsyncClient, PageClient, Runtime]]:
    """The app without an in-process courier (`HONNIN_COURIER_ENABLED=false`), an API key."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            secret_key=secrets.token_urlsafe(48),
            database_url=url,
            smtp_url=f"smtp://127.0.0.1:{sink_port}",
            data_dir=Path(folder),
            courier_enabled=False,
            courier_poll_seconds=0.1,
        )
        app = create_app(settings)
        runtime: Runtime = app.state.runtime
        async with app.router.lifespan_context(app):
            key = (await runtime.clients.create("explain")).api_key
            transport = httpx.ASGITransport(app=app)
            async with (
                httpx.AsyncClient(
                    transport=transport,
                    base_url="http://testserver",
                    headers={"Authorization": f"Bearer {key}"},
                ) as api,
                client_for(app) as browser,
            ):
                yield api, PageClient(browser), runtime


def expect_ok(response: httpx.Response) -> dict[str, Any]:
    if not response.is_success:
        raise SystemExit(f"{response.request.url}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


async def verification(api: httpx.AsyncClient, sink: Sink, to: str) -> None:
    arrival = sink.expect(to)
    cause.set("verification create")
    created = expect_ok(await api.post("/api/v1/verifications", json={"to": to}))
    cause.set("other")
    _at, code = await asyncio.wait_for(arrival, 30)
    cause.set("verification check")
    check = {"code": code}
    expect_ok(await api.post(f"/api/v1/verifications/{created['id']}/check", json=check))
    cause.set("other")


async def sign_in_by_code(api: httpx.AsyncClient, sink: Sink, name: str) -> None:
    cause.set("sign-in by code")
    flow = expect_ok(await api.post("/api/v1/flows", json={"kind": "sign_in"}))
    url = f"/api/v1/flows/{flow['id']}"
    expect_ok(await api.post(url, json={"action": "submit_identifier", "name": name}))
    arrival = sink.expect(name)
    expect_ok(await api.post(url, json={"action": "email_code"}))
    cause.set("other")
    _at, code = await asyncio.wait_for(arrival, 30)
    cause.set("sign-in by code")
    done = expect_ok(await api.post(url, json={"action": "submit_code", "code": code}))
    cause.set("other")
    if done["state"] != "done":
        raise SystemExit(f"the sign-in did not complete: {done}")


async def browser_sign_in_by_code(browser: PageClient, sink: Sink, name: str) -> None:
    cause.set("browser sign-in by code")
    page = await browser.get("/signin")
    page = await browser.submit(page, "submit_identifier", name=name)
    arrival = sink.expect(name)
    page = await browser.submit(page, "email_code")
    cause.set("other")
    _at, code = await asyncio.wait_for(arrival, 30)
    cause.set("browser sign-in by code")
    page = await browser.submit(page, "submit_code", code=code)
    cause.set("other")
    if page.path != "/account":
        raise SystemExit(f"the browser did not sign in: {page.path} {page.text[:300]}")


async def record(url: str, accounts: list[int]) -> list[Statement]:
    sink = Sink()
    sink_port = free_port()
    smtp = await sink.serve(sink_port)
    recorder = Recorder()
    try:
        async with service(url, sink_port) as (api, browser, runtime):
            event.listen(runtime.db.write_engine.sync_engine, "before_cursor_execute", recorder)
            token = cause.set("courier")  # its tasks keep this cause
            courier: Courier = runtime.make_courier()
            await courier.start()
            cause.reset(token)
            try:
                await verification(api, sink, f"explain.{secrets.token_hex(4)}@example.com")
                await sign_in_by_code(api, sink, SEEDED.address(accounts[0]))
                await browser_sign_in_by_code(browser, sink, SEEDED.address(accounts[1]))
            finally:
                await courier.stop()
            cause.set(HOUSEKEEPING)
            await prune(runtime.db, Behind(), runtime.settings)
            cause.set("other")
            derive_deletes(recorder)
            event.remove(runtime.db.write_engine.sync_engine, "before_cursor_execute", recorder)
    finally:
        smtp.close()
    return [s for s in recorder.seen.values() if s.cause != "other"]


# --- explaining ---------------------------------------------------------------------------


async def connect(url: str) -> Any:
    conn = await asyncpg.connect(url)
    for kind in ("json", "jsonb"):  # as SQLAlchemy's asyncpg dialect passes them
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    return conn


async def explain(conn: Any, statement: Statement) -> str:
    """The plan, run for real and rolled back; a plain EXPLAIN where running it again fails
    (an INSERT of a row that now exists)."""
    for options in ("ANALYZE, BUFFERS", "COSTS"):
        transaction = conn.transaction()
        await transaction.start()
        try:
            params = statement.arguments()
            if statement.ids_of is not None:
                chosen = await conn.fetch(statement.ids_of.sql, *statement.ids_of.arguments())
                params = [[row[0] for row in chosen]]
            rows = await conn.fetch(f"EXPLAIN ({options}) {statement.sql}", *params)
            return "\n".join(shorten(row[0]) for row in rows) + (
                "" if options.startswith("ANALYZE") else "\n(not run again: it would fail now)"
            )
        except asyncpg.PostgresError:
            continue
        finally:
            await transaction.rollback()
    return "(could not be explained)"


def shorten(line: str, width: int = 300) -> str:
    """A plan line, without the thousands of ids of a batch."""
    return line if len(line) <= width else line[:width] + " …"


def seq_scans(plan: str) -> list[str]:
    return [
        table
        for table in LARGE
        for line in plan.splitlines()
        if f"Seq Scan on {table} " in f"{line} " or line.strip().endswith(f"Seq Scan on {table}")
    ]


def one_line(sql: str, full: bool) -> str:
    flat = " ".join(sql.split())
    return flat if full or len(flat) <= 400 else flat[:400] + " …"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=pg_url("honnin_size_big"))
    parser.add_argument("--accounts", type=int, default=1_000_000, help="how many were seeded")
    parser.add_argument("--full", action="store_true", help="print each statement whole")
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    # not ones with two-step verification (seed.py: one in ten)
    accounts = [random.randrange(args.accounts // 10) * 10 for _ in range(2)]
    statements = await record(url, accounts)

    conn = await connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    scans: list[tuple[str, str, str]] = []
    try:
        for current in dict.fromkeys(s.cause for s in statements):
            group = [s for s in statements if s.cause == current]
            print(f"\n{'=' * 100}\n{current}: {len(group)} distinct statements\n{'=' * 100}")
            for n, statement in enumerate(group, 1):
                plan = await explain(conn, statement)
                runs = f" (ran {statement.runs}×)" if statement.runs > 1 else ""
                print(f"\n-- {current} [{n}]{runs}: {one_line(statement.sql, args.full)}")
                print("   " + plan.replace("\n", "\n   "))
                scans += [(current, str(n), table) for table in seq_scans(plan)]
    finally:
        await conn.close()
    print(f"\n{'=' * 100}\nsequential scans of large tables ({', '.join(LARGE)}):")
    for current, number, table in scans:
        print(f"  {current} [{number}]: {table}")
    if not scans:
        print("  none")


if __name__ == "__main__":
    asyncio.run(main())
