"""Signing in with a phone number in Chromium: the number as the name, a code by text through
the real Kannel gateway (read from what its test SMSC received), "call me instead" once the
text had its time, and a phone as an option of "verify your identity", in English and
Japanese, with screenshots and accessibility checks."""

from __future__ import annotations

import asyncio
import itertools
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from honnin.i18n import gettext
from honnin.limits.service import Requester
from honnin.runtime import Runtime
from tests.browser.conftest import accessibility_violations, screenshot
from tests.support.clock import ShiftableClock
from tests.support.kannel import KannelGateway, reports_in, require_kannel
from tests.support.smtp import CODE
from tests.support.twilio import FakeTwilio

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KannelGateway]:
    require_kannel()
    with KannelGateway(tmp_path_factory.mktemp("kannel"), max_messages=3) as gateway:
        yield gateway


@pytest.fixture(autouse=True)
async def reports_settle(gateway: KannelGateway, live: tuple[str, Runtime]) -> AsyncIterator[None]:
    """The gateway up for each test, and its reports in before the service stops."""
    gateway.ensure_running()
    yield
    await reports_in(live[1])


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:  # the calls
        yield fake


@pytest.fixture
def live_settings(gateway: KannelGateway, twilio: FakeTwilio) -> dict[str, Any]:
    sender = urllib.parse.quote("+815012340000", safe="")
    address = gateway.sendsms_base.removeprefix("http://")
    return {
        "sms_providers": f"kannel+http://{gateway.username}:{gateway.password}@{address}"
        f"?smsc=fake&from={sender}",
        "voice_providers": twilio.provider_url("+81312340000"),
    }


@pytest.fixture
def phone() -> str:
    """A number of its own for each test: the gateway lasts for the module."""
    return f"+81901235{next(_numbers):04d}"


def national(number: str) -> str:
    return f"0{number[3:5]}-{number[5:9]}-{number[9:]}"


async def texted_code(gateway: KannelGateway, number: str, count: int = 1) -> str:
    sms = await asyncio.to_thread(gateway.wait_for_message, number, 10.0, count=count)
    found = CODE.search(sms.text)
    assert found is not None
    return found.group(1)


async def emma_with(runtime: Runtime, gateway: KannelGateway, phone: str) -> None:
    """Emma, whose phone is verified security info and a sign-in name."""
    account = await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    proof = await runtime.proofs.add(account.id, "phone", phone)
    me = Requester(ip="127.0.0.1")
    sent = await runtime.proofs.send_code(account.id, proof.id, requester=me, locale="en")
    code = await texted_code(gateway, phone)
    await runtime.proofs.confirm(account.id, sent.challenge_id, code, requester=me)
    await runtime.accounts.add_sign_in_name(account.id, phone)


async def new_page(chromium: Browser, locale: str) -> Page:
    context = await chromium.new_context(
        locale="ja-JP" if locale == "ja" else "en-US",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,  # the accessibility checker is injected as a script
    )
    return await context.new_page()


@pytest.mark.parametrize("locale", ["en", "ja"])
async def test_sign_in_with_a_phone_number_and_a_texted_code(
    live: tuple[str, Runtime],
    chromium: Browser,
    gateway: KannelGateway,
    clock: ShiftableClock,
    phone: str,
    locale: str,
    axe: Path,
) -> None:
    base, runtime = live
    await emma_with(runtime, gateway, phone)

    def t(text: str, **params: Any) -> str:
        return gettext(locale, text, **params)

    page = await new_page(chromium, locale)
    await page.goto(f"{base}/signin")
    await page.get_by_label(t("Email address or phone number")).fill(national(phone))
    await page.get_by_role("button", name=t("Next")).click()
    text_me = page.get_by_role(
        "button", name=t("Text a code to the number ending in {digits}", digits=phone[-2:])
    )
    await text_me.wait_for()
    await screenshot(page, "password-phone")
    assert await accessibility_violations(page) == []
    await text_me.click()
    await page.wait_for_selector("input[autocomplete=one-time-code]")
    sent = t(
        "We texted a code to the number ending in {digits}. It works until {time}.",
        digits=phone[-2:], time="",
    ).split("{")[0][:12]  # fmt: skip
    assert sent in (await page.inner_text("main")).replace("\u200b", "")
    await screenshot(page, "code-sms")
    assert await accessibility_violations(page) == []

    # the text had its time: a call is offered instead
    clock.advance(seconds=61)
    await page.reload()
    call_me = page.get_by_role("button", name=t("Call me instead"))
    await call_me.wait_for()
    await screenshot(page, "code-call-offer")
    assert await accessibility_violations(page) == []

    code = await texted_code(gateway, phone, count=2)
    await page.get_by_label(t("Security code")).fill(code)
    await page.get_by_role("button", name=t("Verify"), exact=True).click()
    await page.wait_for_url(f"{base}/account")
    await page.context.close()


@pytest.mark.parametrize("locale", ["en", "ja"])
async def test_a_phone_as_the_second_step_confirmed_by_its_last_four_digits(
    live: tuple[str, Runtime],
    chromium: Browser,
    gateway: KannelGateway,
    phone: str,
    locale: str,
    axe: Path,
) -> None:
    base, runtime = live
    await emma_with(runtime, gateway, phone)
    await runtime.accounts.set_two_step(EMMA, True)

    def t(text: str, **params: Any) -> str:
        return gettext(locale, text, **params)

    page = await new_page(chromium, locale)
    await page.goto(f"{base}/signin")
    await page.get_by_label(t("Email address or phone number")).fill(EMMA)
    await page.get_by_role("button", name=t("Next")).click()
    await page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
    await page.get_by_role("button", name=t("Sign in")).click()
    text_option = page.get_by_label(t("Text the number ending in {digits}", digits=phone[-2:]))
    await text_option.wait_for()
    await screenshot(page, "verify-options-phone")
    assert await accessibility_violations(page) == []
    await text_option.check()
    await page.get_by_role("button", name=t("Send a code")).click()
    digits = page.get_by_label(t("Last 4 digits"))
    await digits.wait_for()
    await screenshot(page, "verify-confirm-phone")
    assert await accessibility_violations(page) == []
    await digits.fill(phone[-4:])
    await page.get_by_role("button", name=t("Send code")).click()
    await page.wait_for_selector("input[autocomplete=one-time-code]")
    code = await texted_code(gateway, phone, count=2)
    await page.get_by_label(t("Security code")).fill(code)
    await page.get_by_role("button", name=t("Verify"), exact=True).click()
    await page.wait_for_url(f"{base}/account")
    await page.context.close()
