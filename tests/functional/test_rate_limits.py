"""Rate limits on sending and checking codes: each refusal says when to try again."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from honnin.errors import RateLimited
from honnin.limits.service import Requester
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.smtp import Sink

ADDRESS = "emma@example.com"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "limit_destination_sends": "3/hour;4/day",
        "limit_account_sends": "5/hour;6/day",
        "limit_client_sends": "6/hour",
        "limit_client_checks": "8/hour",
    }


async def send(api: httpx.AsyncClient, to: str = ADDRESS) -> httpx.Response:
    return await api.post("/api/v1/verifications", json={"to": to})


def assert_rate_limited(response: httpx.Response, at_most: int) -> int:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] == "rate_limited"
    assert 1 <= body["retry_after"] <= at_most
    assert response.headers["retry-after"] == str(body["retry_after"])
    assert str(body["retry_after"]) in body["message"]
    return int(body["retry_after"])


async def test_a_resend_inside_the_cooldown_is_refused(
    api: httpx.AsyncClient, sink: Sink, clock: ShiftableClock
) -> None:
    assert (await send(api)).status_code == 201
    clock.advance(seconds=10)

    retry_after = assert_rate_limited(await send(api), at_most=30)

    assert 19 <= retry_after <= 20
    clock.advance(seconds=retry_after)
    assert (await send(api)).status_code == 201


async def test_sends_per_destination_are_limited_per_hour_and_per_day(
    api: httpx.AsyncClient, sink: Sink, clock: ShiftableClock, runtime: Any
) -> None:
    # each code is delivered before the clock moves on: a newer code would supersede an email
    # still waiting for the courier, and a moved clock expire it
    for sent in range(1, 4):
        assert (await send(api)).status_code == 201
        await sink.wait_for(ADDRESS, count=sent)
        clock.advance(seconds=31)
    hourly = assert_rate_limited(await send(api), at_most=3600)
    assert hourly > 3000

    clock.advance(seconds=hourly)
    assert (await send(api)).status_code == 201
    await sink.wait_for(ADDRESS, count=4)
    clock.advance(seconds=31)
    daily = assert_rate_limited(await send(api), at_most=86400)
    assert daily > 3600
    # the four sends let through, each delivered once; the two refused ones wrote nothing
    assert len(await runtime.messages.recent()) == 4
    assert len(sink.to(ADDRESS)) == 4


async def test_a_refused_send_writes_nothing(
    api: httpx.AsyncClient, sink: Sink, runtime: Any
) -> None:
    assert (await send(api)).status_code == 201
    before = await runtime.messages.recent()
    assert_rate_limited(await send(api), at_most=30)
    assert len(await runtime.messages.recent()) == len(before) == 1


async def test_sends_per_client_are_limited(api: httpx.AsyncClient, sink: Sink) -> None:
    for n in range(6):
        assert (await send(api, f"person{n}@example.com")).status_code == 201
    assert_rate_limited(await send(api, "person6@example.com"), at_most=3600)


async def test_checks_per_client_are_limited(api: httpx.AsyncClient, sink: Sink) -> None:
    ids = [(await send(api, f"p{n}@example.com")).json()["id"] for n in range(2)]
    for n in range(8):
        verification = ids[n % 2]
        response = await api.post(
            f"/api/v1/verifications/{verification}/check", json={"code": "000000"}
        )
        assert response.json()["error"] in ("invalid_code", "too_many_attempts")
    response = await api.post(f"/api/v1/verifications/{ids[0]}/check", json={"code": "000000"})
    assert_rate_limited(response, at_most=3600)


async def test_an_account_s_sends_are_limited_across_its_addresses(
    runtime: Runtime, sink: Sink, clock: ShiftableClock
) -> None:
    """The destination's quota and the account's are counted in one statement: the account's
    bites across addresses, and the destination's is the one reported while both are full."""
    account = await runtime.accounts.create(ADDRESS, "correct horse battery", email_verified=True)

    async def send_to(address: str) -> None:
        async with runtime.db.transaction() as tx:
            await runtime.codes.send(
                tx, purpose="sign_in", channel="email", destination=address, locale="en",
                requester=Requester(ip="198.51.100.9"), account_id=account.id,
            )  # fmt: skip
        clock.advance(seconds=31)  # past the resend cooldown

    for address in ("a0@example.com",) * 3 + ("a1@example.com", "a2@example.com"):
        await send_to(address)  # a0's three for the hour, the account's five
    for address, full in (("a0@example.com", "destination"), ("a3@example.com", "account")):
        with pytest.raises(RateLimited) as refused:
            await send_to(address)
        assert (refused.value.scope, refused.value.retry_after > 3000) == (full, True)


async def test_an_account_s_quota_holds_when_its_addresses_are_sent_to_at_once(
    runtime: Runtime, sink: Sink
) -> None:
    """Sends to different addresses of one account take no common destination lock: the
    account's own lock keeps them from all counting the quota before any of them is written."""
    account = await runtime.accounts.create(ADDRESS, "correct horse battery", email_verified=True)

    async def send_to(address: str) -> str:
        try:
            async with runtime.db.transaction() as tx:
                await runtime.codes.send(
                    tx, purpose="sign_in", channel="email", destination=address, locale="en",
                    requester=Requester(ip="198.51.100.10"), account_id=account.id,
                )  # fmt: skip
        except RateLimited as refused:
            return refused.scope
        return "sent"

    outcomes = await asyncio.gather(*(send_to(f"b{n}@example.com") for n in range(10)))
    assert sorted(outcomes) == ["account"] * 5 + ["sent"] * 5
