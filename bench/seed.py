"""Fill a PostgreSQL database with a large, valid honnin history, fast.

    .venv/bin/python bench/seed.py --database-url postgresql://postgres@127.0.0.1/honnin_size_big \\
        --accounts 1000000 --messages 10000000

Drops and re-creates the database (so it can be run again), builds the schema with the
project's migrations, then fills it with `COPY` (asyncpg's `copy_records_to_table`) in
batches: accounts (one sign-in name and two verified email proofs each: `SEEDED.address(i)`
and `SEEDED.backup(i)`), sessions (browser and API ones, live and ended within the 30 days
housekeeping keeps them), one API client, and messages with their delivery timelines spread
over the past 90 days (mostly accepted; some failed, unknown or accepted after a deferral),
written in time order as the courier would have; the last 26 hours of them also with their
challenge, code and (for a sign-in) flow, as housekeeping keeps those a day.

Every row is one the service could have written: one Argon2id hash (of `SEEDED.password`)
serves every account (one in ten has two-step verification on: `i % 10 == 9`), addresses are
in `normalize_email`'s form, finished messages hold no sealed code, and the seeded codes'
digests are random (under the bench's secret key they match nothing, and count towards no
send limit of the bench's own requests). While the tables fill, their indexes and constraints
are dropped; they are made again afterwards from their own definitions (read from the catalog,
so the schema stays the migrations'), which is several times faster than keeping them up to
date row by row.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from asyncpg.pgproto import pgproto  # type: ignore[import-untyped]
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from sqlalchemy.engine import make_url

from honnin.db.base import uuid7
from honnin.masks import mask_email

ROOT = Path(__file__).resolve().parents[1]
BATCH = 20_000  # rows per COPY: large enough to amortise a round trip, small enough to show
HISTORY = timedelta(days=90)  # HONNIN_MESSAGE_HISTORY_SECONDS' default
SESSION_SPAN = timedelta(days=44)  # a 14-day session kept 30 days after it ended
FILLED = (
    "accounts", "sign_in_names", "proofs", "sessions", "messages", "message_events", "flows",
    "challenges", "codes",
)  # fmt: skip
console = Console()


@dataclass(frozen=True)
class Seeded:
    """What a bench needs to know of the seeded rows: how to name account `i`."""

    domain: str = "seed.example.com"
    backup_domain: str = "seed.example.org"
    password: str = "seeded account passphrase, never a real one"  # noqa: S105 - a bench's

    def address(self, i: int) -> str:
        return f"u{i}@{self.domain}"

    def backup(self, i: int) -> str:
        return f"u{i}.backup@{self.backup_domain}"


SEEDED = Seeded()


@dataclass
class Summary:
    rows: dict[str, int] = field(default_factory=dict)
    load_seconds: float = 0.0
    index_seconds: float = 0.0
    vacuum_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        return self.load_seconds + self.index_seconds + self.vacuum_seconds

    def print(self) -> None:
        total = sum(self.rows.values())
        for table, count in self.rows.items():
            console.print(f"  {table:<16} {count:>12,} rows")
        console.print(
            f"loaded {total:,} rows in {self.load_seconds:.0f} s "
            f"({total / max(self.load_seconds, 1e-9):,.0f} rows/s); indexes and constraints "
            f"{self.index_seconds:.0f} s; VACUUM ANALYZE {self.vacuum_seconds:.0f} s; "
            f"total {self.total_seconds:.0f} s"
        )


class RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:>9,.0f} rows/s" if speed else " " * 16, style="progress.data.speed")


# --- the database ---------------------------------------------------------------------------


def urls(database_url: str) -> tuple[str, str, str]:
    """(asyncpg URL of the database, asyncpg URL of the server's `postgres` database, its name)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql" or not url.database:
        raise SystemExit("--database-url must name a PostgreSQL database: postgresql://…/name")
    plain = url.set(drivername="postgresql")
    return (
        plain.render_as_string(hide_password=False),
        plain.set(database="postgres").render_as_string(hide_password=False),
        url.database,
    )


async def recreate(database_url: str) -> None:
    """Drop and create the database, then apply the migrations to it."""
    url, admin_url, name = urls(database_url)
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    from honnin.migrations import upgrade_async

    await upgrade_async(url.replace("postgresql://", "postgresql+asyncpg://", 1))


@dataclass(frozen=True)
class Ddl:
    drop: str
    create: str


async def loosen(conn: Any) -> tuple[list[Ddl], list[Ddl], list[Ddl]]:
    """Drop every foreign key, and the keys and indexes of the tables to fill; return what
    makes them again (keys, indexes, foreign keys: in that order)."""
    filled = list(FILLED)
    foreign = await conn.fetch(
        "SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS d "
        "FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    )
    keys = await conn.fetch(
        "SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS d "
        "FROM pg_constraint WHERE contype IN ('p', 'u') AND conrelid::regclass::text = ANY($1)",
        filled,
    )
    indexes = await conn.fetch(
        "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS d "
        "FROM pg_index i WHERE indrelid::regclass::text = ANY($1) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        filled,
    )

    def constraint(row: Any) -> Ddl:
        return Ddl(
            f'ALTER TABLE {row["t"]} DROP CONSTRAINT "{row["conname"]}"',
            f'ALTER TABLE {row["t"]} ADD CONSTRAINT "{row["conname"]}" {row["d"]}',
        )

    made = (
        [constraint(r) for r in keys],
        [Ddl(f'DROP INDEX "{r["name"]}"', r["d"]) for r in indexes],
        [constraint(r) for r in foreign],
    )
    for ddl in [*made[2], *made[1], *made[0]]:
        await conn.execute(ddl.drop)
    return made


async def tighten(url: str, keys: list[Ddl], indexes: list[Ddl], foreign: list[Ddl]) -> None:
    """Make the keys, indexes and foreign keys again; indexes two at a time (two cores)."""
    conns = [await asyncpg.connect(url) for _ in range(2)]
    try:
        for conn in conns:
            await conn.execute("SET maintenance_work_mem = '512MB'")

        async def run(conn: Any, queue: list[Ddl]) -> None:
            while queue:
                await conn.execute(queue.pop(0).create)

        for group in (keys, indexes, foreign):
            queue = list(group)
            await asyncio.gather(*(run(conn, queue) for conn in conns))
    finally:
        for conn in conns:
            await conn.close()


# --- the rows -----------------------------------------------------------------------------

Row = tuple[Any, ...]
_V4_MASK = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_V4_BITS = (0x4000 << 64) | (0x8000 << 48)
MINUTE = timedelta(minutes=1)


def spread(start: datetime, end: datetime, n: int) -> Iterator[datetime]:
    """n moments from start to end, in order, with a little jitter (rows written over time)."""
    step = (end - start).total_seconds() / max(n, 1)
    base = start.timestamp()
    for k in range(n):
        yield datetime.fromtimestamp(base + (k + random.random()) * step, UTC)


def uid(at: datetime) -> uuid.UUID:
    """A time-ordered (version 7) id made at `at`, as `honnin.db.new_id` makes them, from the
    seeded `random` (row ids are not secrets): rows of one moment sit together in the indexes,
    as a real history's do."""
    made = uuid7(int(at.timestamp() * 1000), random.getrandbits(74))
    value: uuid.UUID = pgproto.UUID(made.bytes)
    return value


def rid() -> uuid.UUID:
    """A random (version 4) id, as `honnin.db.random_id` makes them (accounts, names, proofs),
    five times faster, from the seeded `random`."""
    value: uuid.UUID = pgproto.UUID(
        ((random.getrandbits(128) & _V4_MASK) | _V4_BITS).to_bytes(16, "big")
    )
    return value


ACCOUNT_COLUMNS = ("id", "created_at", "status", "password_hash", "locale", "two_step")
NAME_COLUMNS = ("id", "account_id", "kind", "value", "created_at")
PROOF_COLUMNS = ("id", "account_id", "kind", "value", "created_at", "verified_at")


@dataclass
class Accounts:
    """Account `i` has the id `ids[i]` and the sign-in name `SEEDED.address(i)`."""

    ids: list[uuid.UUID]
    locales: bytearray  # 1 for ja

    def locale(self, i: int) -> str:
        return "ja" if self.locales[i] else "en"


@dataclass
class Batch:
    """Rows for several tables, made together."""

    rows: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, []).append(row)


def account_rows(
    start: int, created: Sequence[datetime], password_hash: str, accounts: Accounts
) -> Batch:
    batch = Batch()
    for offset, at in enumerate(created):
        i = start + offset
        account_id = accounts.ids[i]
        # one in ten uses two-step verification (a bench signs in by code with the others)
        batch.add(
            "accounts", (account_id, at, "active", password_hash, accounts.locale(i), i % 10 == 9)
        )
        batch.add("sign_in_names", (rid(), account_id, "email", SEEDED.address(i), at))
        verified = at + 3 * MINUTE
        batch.add("proofs", (rid(), account_id, "email", SEEDED.address(i), at, at))
        backup = SEEDED.backup(i)
        batch.add("proofs", (rid(), account_id, "email", backup, verified, verified))
    return batch


SESSION_COLUMNS = (
    "id", "account_id", "device_digest", "token_digest", "client_id", "method", "created_at",
    "expires_at", "revoked_at", "signed_out",
)  # fmt: skip
METHODS = ("password", "code", "password+code")
SESSION_TTL = timedelta(days=14)


def session_rows(
    created: Sequence[datetime], accounts: Accounts, client_id: uuid.UUID, now: datetime
) -> Batch:
    """Browser sessions (a device digest) and API ones (a token digest), a third of them ended."""
    batch = Batch()
    for at in created:
        account_id = accounts.ids[random.randrange(len(accounts.ids))]
        api = random.random() < 0.2
        ended = random.random() < 0.3 and at + 60 * MINUTE < now
        revoked = at + random.uniform(1, 60) * MINUTE if ended else None
        batch.add("sessions", (
            uid(at), account_id, None if api else os.urandom(32), os.urandom(32) if api else None,
            client_id if api else None, random.choice(METHODS), at, at + SESSION_TTL, revoked,
            ended and random.random() < 0.7,
        ))  # fmt: skip
    return batch


MESSAGE_COLUMNS = (
    "id", "channel", "recipient", "template", "locale", "params", "sealed", "status", "attempts",
    "created_at", "updated_at", "next_attempt_at", "expires_at", "claim_token", "claimed_by",
    "claim_expires_at", "accepted_at", "last_reply", "trouble", "header_message_id",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "message_id", "at", "kind", "attempt", "reply_code", "detail", "actor", "via",
)  # fmt: skip
RELAY = "smtp://relay.internal:587"
ACTORS = [f"app{n}:{1000 + n}" for n in range(4)]
PURPOSES = ("verification", "verification", "sign_in", "sign_in", "verify_identity")
CODE_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Outcome:
    """How a message ended, and its timeline: (after its creation, kind, reply code, detail)."""

    status: str
    attempts: int
    reply: str | None
    trouble: str | None
    events: tuple[tuple[timedelta, str, int | None, str], ...]

    @property
    def took(self) -> timedelta:
        return self.events[-1][0]

    def next_attempt(self, created: datetime) -> datetime | None:
        """As the courier leaves it: the last attempt's time, history once final; none for an
        unknown one that will not be sent again (with one, it would be due)."""
        if self.status == "unknown":
            return None
        return created + self.events[-1][0] if self.attempts > 1 else created


OK = "250 2.0.0 OK queued"
REFUSED = "550 5.1.1 No such user"
NO_REPLY = "no reply to the end of the message in 600 s; it may have been delivered"
# (cumulative share, outcome): mostly accepted at once
OUTCOMES: list[tuple[float, Outcome]] = [
    (0.955, Outcome("accepted", 1, OK, None, ((timedelta(milliseconds=10), "accepted", 250, OK),))),
    (0.975, Outcome("accepted", 2, OK, None, (
        (timedelta(milliseconds=10), "deferred", 451, "451 4.7.1 Try again later"),
        (timedelta(seconds=5), "accepted", 250, OK),
    ))),
    (0.992, Outcome("failed", 1, REFUSED, "mail_server", (
        (timedelta(milliseconds=10), "failed", 550, REFUSED),
    ))),
    (1.0, Outcome("unknown", 1, None, None, (
        (timedelta(seconds=600), "unknown", None, NO_REPLY),
    ))),
]  # fmt: skip


def outcome() -> Outcome:
    draw = random.random()
    return next(o for edge, o in OUTCOMES if draw < edge)


CHALLENGE_COLUMNS = (
    "id", "purpose", "channel", "destination", "destination_digest", "locale", "account_id",
    "client_id", "flow_id", "status", "created_at", "expires_at", "approved_at", "send_count",
    "last_sent_at",
)  # fmt: skip
CODE_COLUMNS = (
    "id", "challenge_id", "seq", "digest", "destination_digest", "account_id", "created_at",
    "expires_at", "attempts", "used_at", "message_id",
)  # fmt: skip
FLOW_COLUMNS = (
    "id", "kind", "state", "device_digest", "client_id", "account_id", "locale", "data",
    "created_at", "updated_at", "expires_at", "session_id",
)  # fmt: skip
FLOW_TTL = timedelta(minutes=30)


@dataclass(frozen=True)
class Recent:
    """Messages since `since` still have their code (and challenge, and flow): housekeeping
    keeps those a day after they expired."""

    since: datetime
    client_id: uuid.UUID


def code_rows(
    batch: Batch, recent: Recent, message_id: uuid.UUID, at: datetime, purpose: str,
    address: str, account_id: uuid.UUID, locale: str,
) -> None:  # fmt: skip
    """The challenge and code a message was sent for, and the sign-in flow that asked for it.
    Their digests are random: they match no address under the bench's secret key, so they
    count towards no send limit of the bench's own requests (as codes of other keys would)."""
    flow_id, challenge_id = None, uid(at)
    account = None if purpose == "verification" else account_id
    approved = at + timedelta(seconds=40) if random.random() < 0.75 else None
    if purpose != "verification":
        flow_id = uid(at - timedelta(seconds=20))
        browser = random.random() < 0.6
        start = at - timedelta(seconds=20)
        data = f'{{"name": "{address}", "challenge_id": "{challenge_id}"}}'
        batch.add("flows", (
            flow_id, "sign_in", "done" if approved else "code",
            os.urandom(32) if browser else None, None if browser else recent.client_id,
            account_id, locale, data, start, approved or at, start + FLOW_TTL, None,
        ))  # fmt: skip
    digest = os.urandom(32)
    batch.add("challenges", (
        challenge_id, purpose, "email", address, digest, locale, account,
        recent.client_id if purpose == "verification" else None, flow_id,
        "approved" if approved else "pending", at, at + CODE_TTL, approved, 1, at,
    ))  # fmt: skip
    batch.add("codes", (
        uid(at), challenge_id, 1, os.urandom(32), digest, account, at, at + CODE_TTL, 0, approved,
        message_id,
    ))  # fmt: skip


def message_rows(
    created: Sequence[datetime], accounts: Accounts, first_event: int, recent: Recent
) -> Batch:
    """Finished code messages to random seeded addresses, each with its timeline (and the
    recent ones with their codes)."""
    batch = Batch({"messages": [], "message_events": []})
    messages, events = batch.rows["messages"], batch.rows["message_events"]
    event_id = first_event
    n = len(accounts.ids)
    for at in created:
        i = int(random.random() * n)
        name = SEEDED.address(i)
        purpose = PURPOSES[int(random.random() * len(PURPOSES))]
        address = name if purpose == "sign_in" or random.random() < 0.6 else SEEDED.backup(i)
        params = (
            f'{{"purpose": "{purpose}", "destination_hint": "{mask_email(address)}", '
            f'"ttl_minutes": 10, "account_hint": "{mask_email(name)}"}}'
        )
        result = outcome()
        done = at + result.took
        actor = ACTORS[int(random.random() * 4)]
        message_id = uid(at)
        messages.append((
            message_id, "email", address, "code", accounts.locale(i), params, None, result.status,
            result.attempts, at, done, result.next_attempt(at), at + CODE_TTL, None, actor, None,
            done if result.status == "accepted" else None, result.reply, result.trouble,
            f"<{random.getrandbits(96):024x}@seed.example.com>",
        ))  # fmt: skip
        for attempt, (after, kind, code, detail) in enumerate(result.events, 1):
            events.append(
                (event_id, message_id, at + after, kind, attempt, code, detail, actor, RELAY)
            )
            event_id += 1
        if at >= recent.since:
            code_rows(
                batch, recent, message_id, at, purpose, address, accounts.ids[i],
                accounts.locale(i),
            )  # fmt: skip
    return batch


# --- filling ------------------------------------------------------------------------------

COLUMNS = {
    "accounts": ACCOUNT_COLUMNS,
    "sign_in_names": NAME_COLUMNS,
    "proofs": PROOF_COLUMNS,
    "sessions": SESSION_COLUMNS,
    "messages": MESSAGE_COLUMNS,
    "message_events": EVENT_COLUMNS,
    "flows": FLOW_COLUMNS,
    "challenges": CHALLENGE_COLUMNS,
    "codes": CODE_COLUMNS,
}


class Loader:
    """One connection and one COPY task per table, fed through short queues, so that the
    server stores one batch while this process makes the next (two cores at work, not one)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.queues: dict[str, asyncio.Queue[list[Row] | None]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.counts = dict.fromkeys(FILLED, 0)

    async def __aenter__(self) -> Loader:
        for table in FILLED:
            conn = await asyncpg.connect(self.url)
            await conn.execute("SET synchronous_commit = off")
            self.queues[table] = asyncio.Queue(maxsize=2)
            self.tasks.append(asyncio.create_task(self._copy(conn, table)))
        return self

    async def _copy(self, conn: Any, table: str) -> None:
        try:
            while (rows := await self.queues[table].get()) is not None:
                await conn.copy_records_to_table(table, records=rows, columns=list(COLUMNS[table]))
        finally:
            await conn.close()

    async def put(self, batch: Batch) -> None:
        for table, rows in batch.rows.items():
            self.counts[table] += len(rows)
            await self.queues[table].put(rows)
        await asyncio.sleep(0)  # let the writers send what they hold

    async def __aexit__(self, *exc: object) -> None:
        for queue in self.queues.values():
            await queue.put(None)
        await asyncio.gather(*self.tasks)


def batches(n: int, size: int = BATCH) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(size, n - start)


PROGRESS_COLUMNS = (
    TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(), RowsPerSecond(),
    TimeElapsedColumn(), TimeRemainingColumn(),
)  # fmt: skip


async def fill(
    url: str, accounts_n: int, messages_n: int, sessions_n: int, client_id: uuid.UUID
) -> dict[str, int]:
    from honnin.accounts.passwords import hash_password

    password_hash = await hash_password(SEEDED.password)
    now = datetime.now(UTC)
    accounts = Accounts(
        [rid() for _ in range(accounts_n)],
        bytearray(random.random() < 0.3 for _ in range(accounts_n)),
    )
    async with Loader(url) as loader:
        with Progress(*PROGRESS_COLUMNS, console=console) as progress:
            task = progress.add_task("accounts", total=accounts_n)
            created = spread(now - timedelta(days=730), now - timedelta(days=1), accounts_n)
            for start, size in batches(accounts_n):
                moments = [next(created) for _ in range(size)]
                await loader.put(account_rows(start, moments, password_hash, accounts))
                progress.advance(task, size)

            task = progress.add_task("sessions", total=sessions_n)
            created = spread(now - SESSION_SPAN, now - MINUTE, sessions_n)
            for _start, size in batches(sessions_n):
                moments = [next(created) for _ in range(size)]
                await loader.put(session_rows(moments, accounts, client_id, now))
                progress.advance(task, size)

            # codes are kept a day after they expired: a little more than a day of them
            recent = Recent(now - timedelta(hours=26), client_id)
            task = progress.add_task("messages", total=messages_n)
            created = spread(now - HISTORY + 60 * MINUTE, now - 15 * MINUTE, messages_n)
            for _start, size in batches(messages_n):
                moments = [next(created) for _ in range(size)]
                first_event = loader.counts["message_events"] + 1
                await loader.put(message_rows(moments, accounts, first_event, recent))
                progress.advance(task, size)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('message_events', 'id'), $1)",
            max(1, loader.counts["message_events"]),
        )
    finally:
        await conn.close()
    return loader.counts


async def seed(
    database_url: str, accounts: int, messages: int, *, sessions: int | None = None
) -> Summary:
    """Re-create the database at `database_url` and fill it; the figures of each step."""
    from honnin.clients.service import ClientService
    from honnin.clock import SystemClock
    from honnin.db import Database
    from honnin.destinations.emails import normalize_email

    for i in (0, accounts - 1, accounts // 2):
        for address in (SEEDED.address(i), SEEDED.backup(i)):
            assert normalize_email(address) == address, address
    await recreate(database_url)
    url = urls(database_url)[0]
    db = Database(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    client = await ClientService(db, SystemClock()).create("seed")
    await db.dispose()

    summary = Summary()
    conn = await asyncpg.connect(url)
    try:
        keys, indexes, foreign = await loosen(conn)
        started = time.perf_counter()
        summary.rows = await fill(
            url, accounts, messages, accounts // 2 if sessions is None else sessions,
            client.client.id,
        )  # fmt: skip
        summary.load_seconds = time.perf_counter() - started
        with console.status("making the indexes and constraints again"):
            started = time.perf_counter()
            await tighten(url, keys, indexes, foreign)
            summary.index_seconds = time.perf_counter() - started
        with console.status("VACUUM ANALYZE"):
            started = time.perf_counter()
            await conn.execute("VACUUM (ANALYZE)")
            summary.vacuum_seconds = time.perf_counter() - started
    finally:
        await conn.close()
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgresql://…/name (re-created)")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, help="default: one per two accounts")
    parser.add_argument("--random-seed", type=int, default=1)
    args = parser.parse_args(argv)
    random.seed(args.random_seed)
    summary = asyncio.run(
        seed(args.database_url, args.accounts, args.messages, sessions=args.sessions)
    )
    summary.print()


if __name__ == "__main__":
    main()
