"""Nobody can lock a person out with wrong guesses: the per-name limit still holds against
spread-out guessing, but not against a browser that signed in to the account before, nor
against a code emailed to the account's own address; a stranger's wrong codes spend only the
stranger's own flow, and a stranger who spends the address's send quota cannot stop a known
browser's code (`honnin.flows.guesses`)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, update

from honnin.runtime import Runtime
from honnin.sessions.models import Session
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
        page = await fresh.submit(await to_password(fresh), "send_code")
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
        page = await browser.submit(await to_password(browser), "send_code")
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


# --- codes: a stranger who asks for codes to the person's address ------------------------

DEFAULT_LIMIT = "10/15minutes,100/day"  # HONNIN_LIMIT_NAME_FAILURES as shipped


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def ask_for_a_code(browser: PageClient, name: str = EMMA) -> Page:
    return await browser.submit(await to_password(browser, name), "send_code")


def assert_too_many_codes(page: Page) -> None:
    assert page.status == 429
    assert page.alert == "Too many codes were requested. Try again in 3600 seconds."


@pytest.mark.parametrize("settings_overrides", [{"limit_name_failures": DEFAULT_LIMIT}])
async def test_a_stranger_s_burned_codes_do_not_lock_a_new_browser_out_of_signing_in_by_code(
    app: FastAPI, emma: Any, sink: Sink
) -> None:
    """The stranger asks for a code to the person's address, burns it, has it replaced at once,
    burns that one too: ten wrong codes. They spend the stranger's own flow, not the name."""
    async with browser_at(app, ATTACKER) as attacker:
        page = await ask_for_a_code(attacker)
        judged = []
        for n in (1, 2):
            code = await sink.wait_for_code(EMMA, count=n)
            for _ in range(5):
                judged.append((await attacker.submit(page, "submit_code", code=wrong(code))).status)
            page = await attacker.submit(page, "resend")  # a burned code is replaced at once
            assert page.status == 200
        assert judged == [400] * 10
        # the stranger's flow has had its ten: the eleventh is refused unjudged
        third = await sink.wait_for_code(EMMA, count=3)
        assert_too_many_attempts(await attacker.submit(page, "submit_code", code=third))

    async with browser_at(app, FRESH) as fresh:  # before: 429 here, for 15 minutes
        page = await ask_for_a_code(fresh)
        page = await fresh.submit(page, "submit_code", code=await sink.wait_for_code(EMMA, 4))
        assert page.path == "/account"


async def test_a_stranger_who_spends_the_send_quota_does_not_stop_a_known_browser_s_code(
    app: FastAPI, emma: Any, sink: Sink
) -> None:
    """HONNIN_LIMIT_DESTINATION_SENDS is 5/hour: the stranger's five codes spend it for every
    new browser, but a browser that signed in before has a quota of its own."""
    async with browser_at(app, ATTACKER) as attacker:
        for _ in range(5):
            assert (await ask_for_a_code(attacker)).status == 200
        assert_too_many_codes(await ask_for_a_code(attacker))
    async with browser_at(app, FRESH) as fresh:  # new browsers share the destination's quota
        assert_too_many_codes(await ask_for_a_code(fresh))

    await sink.wait_for(EMMA, 5)  # all delivered: the next email to arrive is the person's
    async with browser_at(app, PERSON) as person:
        await signed_in_before(person)  # with the password: no code sent
        page = await ask_for_a_code(person)  # before: refused, like the new browser
        page = await person.submit(page, "submit_code", code=await sink.wait_for_code(EMMA, 6))
        assert page.path == "/account"


async def test_a_known_browser_s_own_send_quota_is_not_an_unlimited_one(
    app: FastAPI, emma: Any, sink: Sink
) -> None:
    """The same amounts as the destination's (5/hour): a stolen device cookie cannot flood the
    person's mailbox; and what it sends is not taken from anyone else's quota."""
    async with browser_at(app, PERSON) as person:
        await signed_in_before(person)
        for _ in range(5):
            assert (await ask_for_a_code(person)).status == 200
        assert_too_many_codes(await ask_for_a_code(person))
    await sink.wait_for(EMMA, 5)  # all delivered: the next email to arrive is the fresh one's
    async with browser_at(app, FRESH) as fresh:
        page = await ask_for_a_code(fresh)
        page = await fresh.submit(page, "submit_code", code=await sink.wait_for_code(EMMA, 6))
        assert page.path == "/account"


async def test_wrong_sign_up_codes_for_a_person_s_address_do_not_lock_out_their_password(
    app: FastAPI, emma: Any, sink: Sink
) -> None:
    """A stranger who signs up with the person's address gets an "you already have an account"
    email and can only guess: those guesses are code guesses of that sign-up's own flow, not
    the name's password guesses (before, they were counted under the password's key)."""
    async with browser_at(app, ATTACKER) as attacker:
        page = await attacker.get("/signup")
        page = await attacker.submit(page, "submit_details", email=EMMA, password=PASSWORD)
        assert "We emailed a code to em*****@example.com" in page.text
        await sink.wait_for(EMMA)
        statuses = [
            (await attacker.submit(page, "submit_code", code=f"{n:06d}")).status
            for n in range(LIMIT + 1)
        ]
        assert statuses == [400] * LIMIT + [429]  # the sign-up's own flow is spent

    async with browser_at(app, FRESH) as fresh:
        assert (await sign_in(fresh)).path == "/account"


async def test_a_browser_whose_session_was_revoked_is_any_browser_again(
    app: FastAPI, runtime: Runtime, emma: Any
) -> None:
    """Signed out there, a browser is still the person's (the first test); a session revoked
    from elsewhere (the person's other device, support) leaves it no allowance of its own."""
    async with browser_at(app, PERSON) as person:
        assert (await sign_in(person)).path == "/account"
        async with runtime.db.transaction() as tx:
            await tx.conn.execute(update(Session).values(revoked_at=runtime.clock.now()))
        assert (await person.get("/account")).path.startswith("/signin")

        assert await wrong_passwords(app, EMMA, LIMIT) == [400] * LIMIT
        assert_too_many_attempts(await sign_in(person))  # before: signed in


@pytest.mark.parametrize(
    "settings_overrides",
    [{"limit_name_failures": "1/15minutes", "limit_destination_sends": "10/hour"}],
)
async def test_a_name_s_wrong_codes_are_still_capped_across_flows(
    app: FastAPI, emma: Any, sink: Sink
) -> None:
    """Where an operator raised the send quotas, the name's code key is the backstop: the
    per-flow limit (1) times HONNIN_CODE_MAX_ATTEMPTS (5) wrong codes in all flows together;
    then a code is refused unjudged, the right one too — but not in a known browser."""
    statuses = []
    async with browser_at(app, ATTACKER) as attacker:
        for n in range(1, 6):  # a new sign-in each time: each flow's own limit is one guess
            page = await ask_for_a_code(attacker)
            code = await sink.wait_for_code(EMMA, count=n)
            statuses.append((await attacker.submit(page, "submit_code", code=wrong(code))).status)
        assert statuses == [400] * 5
        page = await ask_for_a_code(attacker)
        page = await attacker.submit(page, "submit_code", code=await sink.wait_for_code(EMMA, 6))
        assert_too_many_attempts(page)

    async with browser_at(app, PERSON) as person:
        await signed_in_before(person)
        page = await ask_for_a_code(person)
        page = await person.submit(page, "submit_code", code=await sink.wait_for_code(EMMA, 7))
        assert page.path == "/account"
