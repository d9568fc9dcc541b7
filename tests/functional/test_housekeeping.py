"""Housekeeping: what is pruned and what is kept, at the edge of each age.

Every age is kept up to and including its edge, and pruned a microsecond after it: a flow (with
its challenges and codes) and a challenge of no flow a day after they expired (longer if a send
limit looks back further), a failed attempt as long as the longest failure limit, a session 30
days after it expired or was signed out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from honnin.codes.models import Challenge, Code
from honnin.flows.models import Flow
from honnin.housekeeping import Pruned, prune
from honnin.limits.models import FailedAttempt
from honnin.runtime import Runtime
from honnin.sessions.models import Session
from tests.support.clock import ShiftableClock, StoppedClock
from tests.support.journeys import EMMA, PASSWORD

TICK = timedelta(microseconds=1)
DAY = timedelta(days=1)
NOTHING = Pruned(flows=0, failed_attempts=0, sessions=0, challenges=0)


@pytest.fixture
def clock() -> ShiftableClock:
    return StoppedClock()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"courier_enabled": False}  # the messages are not what this is about


async def rows(runtime: Runtime) -> dict[str, int]:
    counts = {}
    async with runtime.db.transaction(write=False) as tx:
        for model in (Flow, Challenge, Code, FailedAttempt, Session):
            query = select(func.count()).select_from(model)
            counts[model.__tablename__] = int(await tx.conn.scalar(query) or 0)
    return counts


async def prune_at(runtime: Runtime, clock: StoppedClock, when: datetime) -> Pruned:
    clock.offset = when - clock.start
    return await prune(runtime.db, runtime.clock, runtime.settings)


async def one(runtime: Runtime, column: Any) -> datetime:
    async with runtime.db.transaction(write=False) as tx:
        value: datetime = (await tx.conn.execute(select(column))).scalar_one()
    return value


async def sign_in_flow(api: httpx.AsyncClient) -> str:
    created = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{created['id']}"
    assert (await api.post(url, json={"action": "submit_identifier", "name": EMMA})).is_success
    return url


async def test_a_flow_and_its_codes_are_kept_a_day_after_it_expired(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    url = await sign_in_flow(api)
    assert (await api.post(url, json={"action": "email_code"})).status_code == 200
    edge = await one(runtime, Flow.expires_at) + DAY
    assert await rows(runtime) == {
        "flows": 1, "challenges": 1, "codes": 1, "failed_attempts": 0, "sessions": 0,
    }  # fmt: skip

    assert await prune_at(runtime, clock, edge) == NOTHING
    assert (await rows(runtime))["codes"] == 1
    assert await prune_at(runtime, clock, edge + TICK) == Pruned(1, 0, 0, 0)
    assert await rows(runtime) == {
        "flows": 0, "challenges": 0, "codes": 0, "failed_attempts": 0, "sessions": 0,
    }  # fmt: skip


@pytest.mark.parametrize(
    "settings_overrides",
    [{"courier_enabled": False, "limit_destination_sends": "5/hour;10/2day"}],
)
async def test_codes_are_kept_while_the_longest_send_limit_counts_them(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock
) -> None:
    """A verification's challenge (it has no flow) ages the same way: here two days."""
    assert (await api.post("/api/v1/verifications", json={"to": EMMA})).status_code == 201
    edge = await one(runtime, Challenge.expires_at) + 2 * DAY

    assert await prune_at(runtime, clock, edge - DAY + TICK) == NOTHING  # past a day: kept
    assert await prune_at(runtime, clock, edge) == NOTHING
    assert (await rows(runtime))["codes"] == 1
    assert await prune_at(runtime, clock, edge + TICK) == Pruned(0, 0, 0, 1)
    assert ((await rows(runtime))["challenges"], (await rows(runtime))["codes"]) == (0, 0)


async def test_a_failed_attempt_is_kept_as_long_as_the_longest_failure_limit(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    """HONNIN_LIMIT_NAME_FAILURES is 10/15minutes,100/day: a day."""
    url = await sign_in_flow(api)
    wrong = await api.post(url, json={"action": "submit_password", "password": "not it"})
    assert wrong.status_code == 400
    edge = await one(runtime, FailedAttempt.at) + DAY

    assert await prune_at(runtime, clock, edge) == NOTHING
    assert (await rows(runtime))["failed_attempts"] == 1
    assert await prune_at(runtime, clock, edge + TICK) == Pruned(0, 1, 0, 0)
    # the flow it was typed in expired half an hour after it: it stays that much longer
    assert await rows(runtime) == {
        "flows": 1, "challenges": 0, "codes": 0, "failed_attempts": 0, "sessions": 0,
    }  # fmt: skip


async def test_a_session_is_kept_30_days_after_it_expired(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    url = await sign_in_flow(api)
    done = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
    assert done.json()["state"] == "done"
    edge = await one(runtime, Session.expires_at) + timedelta(days=30)

    assert (await prune_at(runtime, clock, edge)).sessions == 0
    assert (await rows(runtime))["sessions"] == 1
    assert (await prune_at(runtime, clock, edge + TICK)).sessions == 1
    assert (await rows(runtime))["sessions"] == 0


@pytest.mark.parametrize(
    "settings_overrides", [{"courier_enabled": False, "session_ttl_seconds": 90 * 86_400}]
)
async def test_a_signed_out_session_is_kept_30_days_after_it_was_signed_out(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    url = await sign_in_flow(api)
    done = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
    headers = {"X-Session-Token": done.json()["session_token"]}
    clock.advance(days=1)
    assert (await api.delete("/api/v1/sessions/current", headers=headers)).status_code == 204
    edge = await one(runtime, Session.revoked_at) + timedelta(days=30)
    assert await one(runtime, Session.expires_at) > edge + TICK  # not expired by then

    assert (await prune_at(runtime, clock, edge)).sessions == 0
    assert (await prune_at(runtime, clock, edge + TICK)).sessions == 1
    assert (await rows(runtime))["sessions"] == 0


async def test_what_is_still_in_use_is_never_pruned(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    url = await sign_in_flow(api)
    await api.post(url, json={"action": "submit_password", "password": "not it"})
    await api.post(url, json={"action": "email_code"})
    before = await rows(runtime)

    assert await prune_at(runtime, clock, clock.now()) == NOTHING
    assert await rows(runtime) == before == {
        "flows": 1, "challenges": 1, "codes": 1, "failed_attempts": 1, "sessions": 0,
    }  # fmt: skip
