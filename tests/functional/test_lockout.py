"""Nobody can lock a person out with wrong guesses: the per-name limit still holds against
spread-out guessing, but not against a browser that signed in to the account before, nor
against a code emailed to the account's own address (`honnin.flows.guesses`)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event

from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock, StoppedClock
from tests.support.journeys import EMMA, PASSWORD, client_for, to_password
from tests.support.pages import Page, PageClient
from tests.support.smtp import Sink

ATTACKER = "203.0.113.66"  # the stranger's address
PERSON = "198.51.100.7"  # the person, in the browser they signed in with before
FRESH = "198.51.100.8"  # the person (or anyone) in a browser that never signed in
OTHER = "emmc@example.com"  # an account that never signed in in the person's browser
NOBODY = "emmb@example.com"  # no account; the same length and hint as OTHER
LIMIT = 3  # HONNIN_LIMIT_NAME_FAILURES, lowered: fewer password hashes, the same rule


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"limit_name_failures": f"{LIMIT}/15minutes"}


@pytest.fixture
def clock() -> ShiftableClock:
    """Stopped: a refusal's "try again in" is exact."""
    return StoppedClock()


@asynccontextmanager
async def browser_at(app: FastAPI, ip: str) -> AsyncIterator[PageClient]:
    async with client_for(app, ip=ip) as client:
        yield PageClient(client)


async def sign_in(browser: PageClient, name: str = EMMA, password: str = PASSWORD) -> Page:
    return await browser.submit(
        await to_password(browser, name), "submit_password", password=password
    )


async def signed_in_before(browser: PageClient) -> None:
    """Sign in, then sign out of every account: the browser gets a new device token twice."""
    assert (await sign_in(browser)).path == "/account"
    confirm = await browser.get("/signout?scope=all")
    assert (await browser.post("/signout", confirm, scope="all")).path.startswith("/signin")
    assert (await browser.get("/account")).path.startswith("/signin")


async def wrong_passwords(app: FastAPI, name: str, count: int) -> list[int]:
    """The stranger's guesses at `name`'s password, from one browser: the status of each."""
    async with browser_at(app, ATTACKER) as attacker:
        page = await to_password(attacker, name)
        return [
            (await attacker.submit(page, "submit_password", password=f"guess {n}")).status
            for n in range(count)
        ]


def assert_too_many_attempts(page: Page) -> None:
    assert page.status == 429
    assert page.alert == "Too many attempts. Try again in 900 seconds."


async def test_a_stranger_s_wrong_passwords_lock_out_neither_a_known_browser_nor_a_code(
    app: FastAPI, emma: Any, sink: Sink
) -> None:
    async with browser_at(app, PERSON) as person:
        await signed_in_before(person)

        assert await wrong_passwords(app, EMMA, LIMIT + 1) == [400] * LIMIT + [429]

        # the person, in the browser that signed in before (its device token rotated since)
        assert (await sign_in(person)).path == "/account"

    async with browser_at(app, FRESH) as fresh:
        # a browser that never signed in meets the per-name limit, even with the password
        assert_too_many_attempts(await sign_in(fresh))
        # but a code sent to the account's own address proves itself
        page = await fresh.submit(await to_password(fresh), "email_code")
        page = await fresh.submit(page, "submit_code", code=await sink.wait_for_code(EMMA))
        assert page.path == "/account"


async def test_a_known_browser_has_an_allowance_of_its_own_not_an_unlimited_one(
    app: FastAPI, emma: Any
) -> None:
    """A stolen device cookie: its own allowance of guesses, then it is any browser (and the name is
    spent): the eleventh is refused before the password is judged, even the right one."""
    async with browser_at(app, PERSON) as person:
        await signed_in_before(person)
        cookies = list(person.client.cookies.jar)
    assert await wrong_passwords(app, EMMA, LIMIT) == [400] * LIMIT

    async with browser_at(app, ATTACKER) as thief:
        for cookie in cookies:
            thief.client.cookies.jar.set_cookie(cookie)
        page = await to_password(thief)
        statuses = [
            (await thief.submit(page, "submit_password", password=f"guess {n}")).status
            for n in range(LIMIT)
        ]
        assert statuses == [400] * LIMIT
        assert_too_many_attempts(await thief.submit(page, "submit_password", password=PASSWORD))


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """Every SQL statement run meanwhile, as text (the work done, not the time it took)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    engines = {runtime.db.write_engine.sync_engine, runtime.db.read_engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def normalised(page: Page, name: str) -> str:
    """The page with what must differ taken out: the name typed (whole, or its local part
    where the address is split for line breaking) and the flow id."""
    html = page.html.replace(name, "NAME").replace(name.partition("@")[0], "LOCAL")
    return re.sub(r"/signin/[0-9a-f-]{36}", "/signin/FLOW", html)


async def answers(
    browser: PageClient, runtime: Runtime, name: str, password: str
) -> tuple[int, str, list[str]]:
    page = await to_password(browser, name)
    with statements(runtime) as work:
        answer = await browser.submit(page, "submit_password", password=password)
    return answer.status, normalised(answer, name), work


@pytest.mark.parametrize(
    "settings_overrides",
    [{"limit_name_failures": f"{LIMIT}/15minutes", "courier_enabled": False}],  # no other SQL
)
async def test_the_exemption_tells_nothing_about_which_names_have_accounts(
    app: FastAPI, runtime: Runtime, emma: Any
) -> None:
    """From a browser known to one account, another account's name and a name without an
    account get the same status, the same page and the same statements, limited or not."""
    await runtime.accounts.create(OTHER, PASSWORD, email_verified=True)
    async with browser_at(app, PERSON) as person:
        await signed_in_before(person)

        judged = [await answers(person, runtime, name, "not it") for name in (OTHER, NOBODY)]
        assert judged[0][0] == 400
        assert judged[0] == judged[1]

        for name in (OTHER, NOBODY):  # with the person's own wrong try above: the limit
            assert await wrong_passwords(app, name, LIMIT - 1) == [400] * (LIMIT - 1)
        refused = [await answers(person, runtime, name, PASSWORD) for name in (OTHER, NOBODY)]
        assert refused[0][0] == 429
        assert "Too many attempts. Try again in 900 seconds." in refused[0][1]
        assert refused[0] == refused[1]

        # while the name it is known to is judged, however many wrong tries strangers made
        assert await wrong_passwords(app, EMMA, LIMIT + 1) == [400] * LIMIT + [429]
        status, _page, _work = await answers(person, runtime, EMMA, "not it")
        assert status == 400


async def test_with_two_step_the_password_after_a_right_code_is_not_locked_out_either(
    app: FastAPI, emma_two_step: Any, sink: Sink
) -> None:
    """The code proved the mailbox; the password that follows counts under the name's
    after-code key, which only someone holding such a code can spend."""
    assert await wrong_passwords(app, EMMA, LIMIT + 1) == [400] * LIMIT + [429]

    async def after_a_code(browser: PageClient, count: int) -> Page:
        page = await browser.submit(await to_password(browser), "email_code")
        page = await browser.submit(page, "submit_code", code=await sink.wait_for_code(EMMA, count))
        assert "One more step: your password" in page.text
        return page

    async with browser_at(app, FRESH) as fresh:
        page = await fresh.submit(
            await after_a_code(fresh, 1), "submit_password", password=PASSWORD
        )
        assert page.path == "/account"

    async with browser_at(app, ATTACKER) as mailbox_thief:  # has a code, not the password
        page = await after_a_code(mailbox_thief, 2)
        statuses = [
            (await mailbox_thief.submit(page, "submit_password", password=f"guess {n}")).status
            for n in range(LIMIT)
        ]
        assert statuses == [400] * LIMIT
        page = await mailbox_thief.submit(page, "submit_password", password=PASSWORD)
        assert_too_many_attempts(page)
