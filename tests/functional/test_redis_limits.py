"""Per-client and per-IP throttles kept in a real Redis, shared by several processes.

Needs `HONNIN_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379/15`; CI sets it); without it, or
when that Redis does not answer, the tests are skipped and say why (in CI they fail). Every key
a test writes holds a marker of that test (a fresh API client id, an IP made from it) and is
deleted after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import coredis
import httpx
import pytest

from honnin.app import create_app
from honnin.config import Settings
from honnin.errors import ConfigurationError, RateLimited
from honnin.limits.local import LocalWindows
from honnin.limits.service import Requester, Throttle, redis_storage_uri
from tests.functional.conftest import SECRET
from tests.support.ci import unavailable
from tests.support.clock import ShiftableClock
from tests.support.smtp import Sink, free_port

REDIS_ENV = "HONNIN_TEST_REDIS_URL"
# read at import: the autouse fixture of tests/conftest.py clears every HONNIN_* variable
REDIS_URL = os.environ.get(REDIS_ENV)


@pytest.fixture
def markers() -> list[str]:
    """Strings found in the Redis keys of one test: the keys holding one are deleted after it."""
    return []


@pytest.fixture
def marker(markers: list[str]) -> uuid.UUID:
    value = uuid.uuid4()
    markers.extend([str(value), ip_of(value)])
    return value


@pytest.fixture
async def redis_url(markers: list[str]) -> AsyncIterator[str]:
    if not REDIS_URL:
        unavailable(f"Redis run: set {REDIS_ENV} (e.g. redis://127.0.0.1:6379/15)")
    client: coredis.Redis[str] = coredis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await client.ping()
    except Exception as error:  # any failure to reach it is a reason to skip, said plainly
        unavailable(f"Redis run: {REDIS_ENV} does not answer ({type(error).__name__}: {error})")
    yield REDIS_URL
    keys = {key for m in markers async for key in client.scan_iter(match=f"*{m}*")}
    if keys:
        await client.delete(keys)


def ip_of(marker: uuid.UUID) -> str:
    """A documentation-range IPv6 address that carries the test's marker."""
    m = marker.hex
    return f"2001:db8:{m[0:4]}:{m[4:8]}:{m[8:12]}::1"


def throttle_settings(redis_url: str | None, tmp_path: Path, **limits: Any) -> Settings:
    values: dict[str, Any] = {"secret_key": SECRET, "redis_url": redis_url, "data_dir": tmp_path}
    return Settings(**values, **limits)


async def test_two_processes_share_the_counts(
    redis_url: str, marker: uuid.UUID, markers: list[str], tmp_path: Path
) -> None:
    settings = throttle_settings(
        redis_url, tmp_path, limit_client_sends="3/hour", limit_ip_sends="100/hour"
    )
    first, second = Throttle(settings), Throttle(settings)  # two storages, two connection pools
    me = Requester(client_id=marker)

    await first.send(me)
    await second.send(me)
    await first.send(me)
    with pytest.raises(RateLimited) as refused:
        await second.send(me)

    assert refused.value.scope == "client"
    assert 3598 <= refused.value.retry_after <= 3600  # Redis keeps real time
    with pytest.raises(RateLimited):
        await first.send(me)
    # another client, and checks as opposed to sends, have counts of their own
    other = uuid.uuid4()
    markers.append(str(other))
    await second.send(Requester(client_id=other))
    await second.attempt(me)


async def test_an_ip_limit_is_shared_too(redis_url: str, marker: uuid.UUID, tmp_path: Path) -> None:
    settings = throttle_settings(redis_url, tmp_path, limit_ip_checks="2/minute")
    first, second = Throttle(settings), Throttle(settings)
    person = Requester(ip=ip_of(marker))

    await first.attempt(person)
    await second.attempt(person)
    with pytest.raises(RateLimited) as refused:
        await first.attempt(person)

    assert refused.value.scope == "ip"
    assert 58 <= refused.value.retry_after <= 60  # Redis keeps real time: a second may pass


async def test_in_memory_each_process_counts_alone(tmp_path: Path) -> None:
    """What Redis is for: without it, two processes let through twice the limit."""
    settings = throttle_settings(None, tmp_path, limit_client_sends="3/hour")
    first = Throttle(settings, windows=LocalWindows())
    second = Throttle(settings, windows=LocalWindows())
    me = Requester(client_id=uuid.uuid4())
    for _ in range(3):
        await first.send(me)
        await second.send(me)
    with pytest.raises(RateLimited):
        await first.send(me)


async def test_a_redis_that_does_not_answer_lets_requests_through_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """These throttles are coarse; the limits that guard codes and accounts are counted in the
    database and still hold. Refusing everyone while Redis is down would be an outage."""
    url = f"redis://127.0.0.1:{free_port()}/0"  # a port nothing listens on
    throttle = Throttle(throttle_settings(url, tmp_path, limit_client_sends="1/hour"))
    me = Requester(client_id=uuid.uuid4())
    with caplog.at_level("ERROR", logger="honnin.limits"):
        await throttle.send(me)
        await throttle.send(me)
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "the rate-limit store did not answer"
    ] * 2


@pytest.mark.parametrize(
    ("url", "uri"),
    [
        ("redis://127.0.0.1:6379/15", "async+redis://127.0.0.1:6379/15"),
        ("rediss://:secret@redis.example:6380/0", "async+rediss://:secret@redis.example:6380/0"),
        ("redis+unix:///run/redis.sock", "async+redis+unix:///run/redis.sock"),
        ("async+redis://127.0.0.1:6379", "async+redis://127.0.0.1:6379"),
    ],
)
def test_redis_urls_become_asyncio_storage_uris(url: str, uri: str) -> None:
    assert redis_storage_uri(url) == uri


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379", "memcached://x:1"])
def test_other_urls_are_refused_without_repeating_them(url: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        redis_storage_uri(url)
    assert str(refused.value) == (
        "HONNIN_REDIS_URL must start with redis://, rediss:// or redis+unix:// "
        "(e.g. redis://127.0.0.1:6379/0)."
    )


@pytest.fixture
def two_nodes_settings(redis_url: str, tmp_path: Path, sink: Sink, database_url: str) -> Settings:
    return Settings(
        secret_key=SECRET,
        database_url=database_url,
        redis_url=redis_url,
        smtp_url=sink.url,
        data_dir=tmp_path / "data",
        mail_from="Example account team <account-security-noreply@accountprotection.example.com>",
        courier_poll_seconds=0.2,
        limit_client_sends="2/hour",
    )


async def test_two_nodes_with_redis_share_a_client_limit(
    two_nodes_settings: Settings, sink: Sink, clock: ShiftableClock, markers: list[str]
) -> None:
    """Two app processes on one database and one Redis: the client's third send is refused,
    whichever node it reaches."""
    node_a = create_app(two_nodes_settings, clock=clock)
    node_b = create_app(two_nodes_settings, clock=clock)
    async with (
        node_a.router.lifespan_context(node_a),
        node_b.router.lifespan_context(node_b),
    ):
        created = await node_a.state.runtime.clients.create("Example shop")
        markers.append(str(created.client.id))
        key = created.api_key
        auth = {"Authorization": f"Bearer {key}"}

        async def send(node: Any, to: str) -> httpx.Response:
            transport = httpx.ASGITransport(app=node)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", headers=auth
            ) as client:
                return await client.post("/api/v1/verifications", json={"to": to})

        assert (await send(node_a, "p1@example.com")).status_code == 201
        assert (await send(node_b, "p2@example.com")).status_code == 201
        refused = await send(node_a, "p3@example.com")
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"] == "rate_limited"
        refused = await send(node_b, "p4@example.com")
        assert refused.status_code == 429, refused.text
        await sink.wait_for("p2@example.com")
        assert [len(sink.to(f"p{n}@example.com")) for n in range(1, 5)] == [1, 1, 0, 0]


async def test_windows_given_are_the_ones_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Even empty (and so of length 0), the windows a caller gives replace the configured store."""
    url = f"redis://127.0.0.1:{free_port()}/0"  # would fail open, and say so, if it were used
    throttle = Throttle(
        throttle_settings(url, tmp_path, limit_client_sends="1/hour"), windows=LocalWindows()
    )
    me = Requester(client_id=uuid.uuid4())
    with caplog.at_level("ERROR", logger="honnin.limits"):
        await throttle.send(me)
        with pytest.raises(RateLimited):
            await throttle.send(me)
    assert caplog.records == []
