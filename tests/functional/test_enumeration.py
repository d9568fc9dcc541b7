"""No account enumeration: a name without an account gets the same pages, words and timing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.pages import Page, PageClient
from tests.support.smtp import Sink

PASSWORD = "correct horse battery staple"
KNOWN = "emma@example.com"
UNKNOWN = "emmb@example.com"  # same length and same hint: em*****@example.com


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[PageClient]:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.20", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        yield PageClient(client)


@pytest.fixture
async def known(runtime: Runtime) -> Any:
    return await runtime.accounts.create(KNOWN, PASSWORD, email_verified=True)


def normalised(page: Page, name: str) -> str:
    """The page with what must differ taken out: the flow id, the name typed, clock times, a
    passkey's challenge (each flow's own, made before any name is typed)."""
    html = page.html.replace(name, "NAME")
    html = re.sub(r"(challenge&#34;: &#34;)[\w-]+", r"\1CHALLENGE", html)
    html = re.sub(r"/signin/[0-9a-f-]{36}", "/signin/FLOW", html)
    html = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", "TIME", html)
    return re.sub(r"\d{1,2}:\d\d(\u202f[AP]M)? \(", "HH:MM (", html)  # "until 4:13 AM (UTC)"


async def walk(browser: PageClient, name: str, clock: ShiftableClock) -> list[tuple[int, str]]:
    """Every step of sign-in, as a person might go: the status and page of each."""
    steps = []
    page = await browser.get("/signin")
    steps.append(page)
    page = await browser.submit(page, "submit_identifier", name=name)
    steps.append(page)
    steps.append(await browser.submit(page, "submit_password", password="wrong password"))
    page = await browser.submit(page, "send_code")
    steps.append(page)
    steps.append(await browser.submit(page, "submit_code", code="000000"))
    steps.append(await browser.submit(page, "resend"))  # inside the cooldown
    clock.advance(seconds=31)
    steps.append(await browser.submit(page, "resend"))
    return [(step.status, normalised(step, name)) for step in steps]


async def test_every_step_is_the_same_for_a_known_and_an_unknown_name(
    browser: PageClient, known: Any, sink: Sink, clock: ShiftableClock
) -> None:
    with_account = await walk(browser, KNOWN, clock)
    without = await walk(browser, UNKNOWN, clock)

    assert [status for status, _ in with_account] == [200, 200, 400, 200, 400, 429, 200]
    for (status_a, page_a), (status_b, page_b) in zip(with_account, without, strict=True):
        assert status_a == status_b
        assert page_a == page_b
    await sink.wait_for(KNOWN, count=2)
    assert sink.to(UNKNOWN) == []  # no code went anywhere for the unknown name


async def test_the_api_flow_is_the_same_for_a_known_and_an_unknown_name(
    api: httpx.AsyncClient, known: Any, sink: Sink
) -> None:
    async def states(name: str) -> list[Any]:
        created = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
        url = f"/api/v1/flows/{created['id']}"
        replies = [
            await api.post(url, json={"action": "submit_identifier", "name": name}),
            await api.post(url, json={"action": "submit_password", "password": "wrong one"}),
            await api.post(url, json={"action": "email_code"}),
            await api.post(url, json={"action": "submit_code", "code": "000000"}),
        ]
        out = []
        for reply in replies:
            body = reply.json()
            flow = body.get("flow", body)
            for key in ("id", "expires_at", "name"):
                flow.pop(key, None)
            if flow.get("code"):
                flow["code"] = {k: v for k, v in flow["code"].items() if "_at" not in k}
            out.append((reply.status_code, body.get("error"), body.get("message"), flow))
        return out

    assert await states(KNOWN) == await states(UNKNOWN)


async def test_sign_up_with_a_taken_address_is_the_same_as_with_a_new_one(
    browser: PageClient, known: Any, sink: Sink, clock: ShiftableClock
) -> None:
    async def walk_sign_up(address: str) -> list[tuple[int, str]]:
        page = await browser.get("/signup")
        steps = [page]
        page = await browser.submit(page, "submit_details", email=address, password=PASSWORD)
        steps.append(page)
        steps.append(await browser.submit(page, "submit_code", code="000000"))
        clock.advance(seconds=31)
        steps.append(await browser.submit(page, "resend"))
        pages = [(step.status, normalised(step, address)) for step in steps]
        flow_id = steps[0].path.rsplit("/", 1)[1]  # in its path, and the password meter's
        return [(status, html.replace(flow_id, "FLOW")) for status, html in pages]

    assert await walk_sign_up(KNOWN) == await walk_sign_up(UNKNOWN)
    assert "You already have an account" in (await sink.wait_for(KNOWN)).text
    assert (await sink.wait_for(UNKNOWN)).code.isdigit()
