"""No account enumeration by timing: for a sign-in name with an account and one without, the
server does the same work before it answers — the same SQL statements in the same order, the
same password hashes, the same templates — and hands the message (a real one, or a decoy for
the void channel) to the courier only after the response has been sent, the same way.

Work is counted, not timed: a timed comparison fails on a busy machine. The wall-clock
comparison is a benchmark: bench/enumeration_timing.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import jinja2
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from starlette.types import Message, Receive, Scope, Send

from honnin.accounts.passwords import Argon2id
from honnin.courier.outbox import Claimed
from honnin.courier.render import render_shape
from honnin.runtime import Runtime
from tests.support.journeys import PASSWORD
from tests.support.pages import PageClient

Event = tuple[str, ...]
RESPONSE: Event = ("response sent",)
COURIER_KINDS = {"hand-off", "deliver", "compose", "send"}


class Work:
    """Everything the server does that could take time, in order, while `on`."""

    def __init__(self) -> None:
        self.log: list[Event] = []
        self.on = False
        self.delivered = asyncio.Event()

    def add(self, *item: str) -> None:
        if self.on:
            self.log.append(item)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # no poller, heartbeat or housekeeping statements in the middle of a measurement
    return {
        "courier_poll_seconds": 600,
        "courier_claim_seconds": 600,
        "limit_ip_checks": "1000/hour",
    }


@pytest.fixture
def work(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Work:
    """Counters on the real parts: the database engines, the password hasher, Jinja2, the
    courier, its composer and channels (each still does its work)."""
    work = Work()

    def on_sql(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        work.add("sql", " ".join(statement.split()))

    for engine in {runtime.db.write_engine, runtime.db.read_engine}:
        event.listen(engine.sync_engine, "before_cursor_execute", on_sql)

    for method in ("hash", "verify"):  # Argon2id, in the hashing pool
        original = getattr(Argon2id, method)

        def counted(self: Argon2id, *args: Any, _run: Any = original, _name: str = method) -> Any:
            work.add("password", _name)
            return _run(self, *args)

        monkeypatch.setattr(Argon2id, method, counted)

    render = jinja2.Template.render

    def counted_render(template: jinja2.Template, *args: Any, **kwargs: Any) -> str:
        work.add("render", "email" if "/email." in (template.name or "") else str(template.name))
        return render(template, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", counted_render)

    courier = runtime.courier
    assert courier is not None
    deliver = courier.deliver

    async def counted_deliver(claimed: Claimed) -> None:
        work.add("deliver")
        try:
            await deliver(claimed)
        finally:
            work.delivered.set()

    monkeypatch.setattr(courier, "deliver", counted_deliver)
    local = runtime.outbox.courier
    assert local is not None

    def counted_notify(claimed: Claimed) -> None:
        work.add("hand-off")
        local.notify(claimed)

    monkeypatch.setattr(runtime.outbox, "courier", replace(local, notify=counted_notify))
    composer = courier.composers["email"]
    compose = composer.compose

    def counted_compose(**kwargs: Any) -> Any:
        work.add("compose")
        return compose(**kwargs)

    monkeypatch.setattr(composer, "compose", counted_compose)
    for channel in (channel for providers in courier.channels.values() for channel in providers):
        send = channel.send

        async def counted_send(outgoing: Any, *args: Any, _send: Any = send) -> Any:
            work.add("send")
            return await _send(outgoing, *args)

        monkeypatch.setattr(channel, "send", counted_send)
    return work


def marking(app: FastAPI, work: Work) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The app, with the moment each response has been sent written into the log."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def marked(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                work.add(*RESPONSE)

        await app(scope, receive, marked)

    return wrapped


@pytest.fixture
async def api_client(app: FastAPI, work: Work, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=marking(app, work))
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as client:
        yield client


@pytest.fixture
async def page_client(app: FastAPI, work: Work) -> AsyncIterator[PageClient]:
    transport = httpx.ASGITransport(app=marking(app, work), client=("192.0.2.30", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        yield PageClient(client)


# --- the steps, each up to the request that is measured -------------------------------------

Step = Callable[[str], Awaitable[Callable[[], Awaitable[Any]]]]


def api_steps(api: httpx.AsyncClient) -> dict[str, Step]:
    async def flow(kind: str) -> str:
        created = await api.post("/api/v1/flows", json={"kind": kind})
        assert created.status_code == 201, created.text
        return f"/api/v1/flows/{created.json()['id']}"

    async def sign_in(name: str, action: dict[str, str]) -> Callable[[], Awaitable[Any]]:
        url = await flow("sign_in")
        named = await api.post(url, json={"action": "submit_identifier", "name": name})
        assert named.json()["state"] == "password"
        return lambda: api.post(url, json=action)

    async def password(name: str) -> Callable[[], Awaitable[Any]]:
        return await sign_in(name, {"action": "submit_password", "password": "wrong password"})

    async def email_code(name: str) -> Callable[[], Awaitable[Any]]:
        return await sign_in(name, {"action": "email_code"})

    async def sign_up(name: str) -> Callable[[], Awaitable[Any]]:
        url = await flow("sign_up")
        details = {"action": "submit_details", "email": name, "password": PASSWORD}
        return lambda: api.post(url, json=details)

    return {"password": password, "email_code": email_code, "sign_up": sign_up}


def page_steps(browser: PageClient) -> dict[str, Step]:
    async def sign_in(name: str, action: str, **fields: str) -> Callable[[], Awaitable[Any]]:
        page = await browser.submit(await browser.get("/signin"), "submit_identifier", name=name)
        return lambda: browser.submit(page, action, **fields)

    async def password(name: str) -> Callable[[], Awaitable[Any]]:
        return await sign_in(name, "submit_password", password="wrong password")

    async def email_code(name: str) -> Callable[[], Awaitable[Any]]:
        return await sign_in(name, "send_code")

    async def sign_up(name: str) -> Callable[[], Awaitable[Any]]:
        page = await browser.get("/signup")
        return lambda: browser.submit(page, "submit_details", email=name, password=PASSWORD)

    return {"password": password, "email_code": email_code, "sign_up": sign_up}


SENDS_A_MESSAGE = {"password": False, "email_code": True, "sign_up": True}
EXPECTED = {  # password hashes computed, and the courier's work, for either name
    "password": {"compose": 0, "deliver": 0, "hand-off": 0, "password": 1, "send": 0},
    "email_code": {"compose": 1, "deliver": 1, "hand-off": 1, "password": 0, "send": 1},
    "sign_up": {"compose": 1, "deliver": 1, "hand-off": 1, "password": 1, "send": 1},
}


async def measure(
    work: Work, step: Step, name: str, sends: bool
) -> tuple[list[Event], Counter[Event]]:
    """What the server did before the (first) response was sent, in order; and what it did
    from then on — the courier's work, the page a browser is sent to next — as counts."""
    request = await step(name)
    render_shape.cache_clear()  # each message rendered in full, not found in the cache
    work.log.clear()
    work.delivered.clear()
    work.on = True
    await request()
    if sends:
        await asyncio.wait_for(work.delivered.wait(), 10)
    work.on = False
    assert RESPONSE in work.log, work.log
    sent = work.log.index(RESPONSE)
    return work.log[:sent], Counter(work.log[sent + 1 :])


@pytest.mark.parametrize("path", ["password", "email_code", "sign_up"])
@pytest.mark.parametrize("interface", ["api", "pages"])
async def test_a_known_and_an_unknown_name_cost_the_same_work(
    interface: str,
    path: str,
    runtime: Runtime,
    work: Work,
    api_client: httpx.AsyncClient,
    page_client: PageClient,
) -> None:
    steps = api_steps(api_client) if interface == "api" else page_steps(page_client)
    step, sends = steps[path], SENDS_A_MESSAGE[path]
    for n in range(3):  # the same length, the same hint: kn…@ / un…@
        await runtime.accounts.create(f"kn{n:03d}@example.com", PASSWORD, email_verified=True)
    # once each first: caches (templates, statements, the dummy hash) are warm for both
    await measure(work, step, "kn000@example.com", sends)
    await measure(work, step, "un000@example.com", sends)

    known_before, known_after = await measure(work, step, "kn001@example.com", sends)
    unknown_before, unknown_after = await measure(work, step, "un001@example.com", sends)

    assert known_before == unknown_before  # the same statements, hashes, pages, in order
    assert known_after == unknown_after  # the same courier work, once the response was sent
    assert not COURIER_KINDS & {item[0] for item in known_before}
    kinds = [item[0] for item in known_before] + [
        item[0] for item, count in known_after.items() for _ in range(count)
    ]
    emails = sum(count for item, count in known_after.items() if item == ("render", "email"))
    assert {kind: kinds.count(kind) for kind in sorted(EXPECTED[path])} == EXPECTED[path]
    assert emails == (3 if sends else 0)  # subject, text and HTML of the message
    assert kinds.count("sql") > 0
