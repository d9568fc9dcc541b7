"""The account holder's journeys through the pages, with codes read from real email."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from honnin.codes.models import Challenge
from honnin.flows.models import Flow
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock, StoppedClock
from tests.support.journeys import (
    BACKUP,
    EMMA,
    PASSWORD,
    option_value,
    to_options,
    to_password,
)
from tests.support.pages import Page, PageClient
from tests.support.smtp import Sink

# --- sign-up ------------------------------------------------------------------------------


async def test_sign_up_verifies_the_address_and_signs_in(
    browser: PageClient, sink: Sink, runtime: Runtime
) -> None:
    page = await browser.get("/signup")
    page = await browser.submit(page, "submit_details", email="Emma@Example.com", password=PASSWORD)
    assert "We emailed a code to em*****@example.com" in page.text
    mail = await sink.wait_for(EMMA)
    assert "creating your account" in mail.text

    page = await browser.submit(page, "submit_code", code=mail.code)

    assert page.path == "/account"
    assert f"Signed in as {EMMA}" in page.text
    account = await runtime.accounts.show(EMMA)
    assert [p.verified for p in account.proofs] == [True]


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-address", PASSWORD, "is not a valid email address"),
        (EMMA, "monkeymonkey9999", "too easy to guess"),  # zxcvbn: a word, repeated
        (EMMA, "qwertyuiop123456", "most common"),  # on the bundled list
        (EMMA, "short", "at least 15 characters"),  # the password alone will sign in
    ],
)
async def test_sign_up_refuses_bad_details_with_the_reason(
    browser: PageClient, sink: Sink, email: str, password: str, message: str
) -> None:
    page = await browser.get("/signup")
    page = await browser.submit(page, "submit_details", email=email, password=password)
    assert page.status == 422
    assert page.alert is not None
    assert message in page.alert
    assert f'value="{email}"' in page.html  # what was typed is kept
    assert sink.received == []


async def test_signing_up_with_a_taken_address_looks_the_same_but_says_so_by_email(
    browser: PageClient, sink: Sink, emma: Any
) -> None:
    page = await browser.get("/signup")
    page = await browser.submit(page, "submit_details", email=EMMA, password=PASSWORD)
    assert "We emailed a code to em*****@example.com" in page.text
    mail = await sink.wait_for(EMMA)
    assert "You already have an account" in mail.text
    assert not re.search(r"\d{6}", mail.text)
    page = await browser.submit(page, "submit_code", code="123456")
    assert page.status == 400
    assert page.alert is not None
    assert "isn't right" in page.alert


# --- sign-in ------------------------------------------------------------------------------


async def test_sign_in_with_password(browser: PageClient, emma: Any) -> None:
    page = await to_password(browser)
    assert EMMA in page.text
    assert 'autocomplete="current-password"' in page.html
    page = await browser.submit(page, "submit_password", password=PASSWORD)
    assert page.path == "/account"


async def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(
    browser: PageClient, emma: Any
) -> None:
    wrong = await browser.submit(await to_password(browser), "submit_password", password="nope")
    unknown = await browser.submit(
        await to_password(browser, "nobody@example.com"), "submit_password", password=PASSWORD
    )
    assert wrong.status == unknown.status == 400
    assert (
        wrong.alert
        == unknown.alert
        == ("That email address or password isn't right. Check both and try again.")
    )


async def test_sign_in_with_an_emailed_code(browser: PageClient, sink: Sink, emma: Any) -> None:
    page = await to_password(browser)
    page = await browser.submit(page, "send_code")
    assert "We emailed a code to em*****@example.com" in page.text
    code = await sink.wait_for_code(EMMA)
    page = await browser.submit(page, "submit_code", code=code)
    assert page.path == "/account"


async def test_two_step_verification_with_a_confirmed_address(
    browser: PageClient, sink: Sink, emma_two_step: Any
) -> None:
    page = await to_options(browser)
    assert "Email em*****@example.com" in page.text
    assert "Email em*****@example.org" in page.text
    assert "I don't have any of these" in page.text

    page = await browser.submit(
        page, "choose_option", option=option_value(page, "em*****@example.org")
    )
    assert "type the full address shown as em*****@example.org" in page.text
    page = await browser.submit(page, "confirm_address", address="Emma.Backup@Example.org")
    code = await sink.wait_for_code(BACKUP, count=2)
    assert 'autocomplete="one-time-code"' in page.html
    assert 'inputmode="numeric"' in page.html
    page = await browser.submit(page, "submit_code", code=f"{code[:3]}-{code[3:]}")
    assert page.path == "/account"


async def test_a_wrong_address_is_refused_without_sending(
    browser: PageClient, sink: Sink, emma_two_step: Any
) -> None:
    page = await to_options(browser)
    page = await browser.submit(
        page, "choose_option", option=option_value(page, "em*****@example.com")
    )
    before = len(sink.received)
    page = await browser.submit(page, "confirm_address", address="emma@example.net")
    assert page.status == 400
    assert page.alert is not None
    assert "isn't the address you chose" in page.alert
    assert len(sink.received) == before


async def test_use_a_different_option_and_i_have_a_code(
    browser: PageClient, sink: Sink, emma_two_step: Any
) -> None:
    page = await to_options(browser)
    first = option_value(page, "em*****@example.com")
    none_yet = await browser.submit(page, "have_code", option=first)
    assert none_yet.status == 409
    assert none_yet.alert is not None
    assert "Send a new code" in none_yet.alert

    page = await browser.submit(page, "choose_option", option=first)
    page = await browser.submit(page, "confirm_address", address=EMMA)
    code = await sink.wait_for_code(EMMA)
    page = await browser.submit(page, "other_options")
    assert "Verify your identity" in page.text
    # the code that arrived earlier, entered without sending a new one
    page = await browser.submit(page, "have_code", option=first)
    assert len(sink.to(EMMA)) == 1
    page = await browser.submit(page, "submit_code", code=code)
    assert page.path == "/account"


async def test_code_errors_each_say_what_to_do(
    browser: PageClient, sink: Sink, emma: Any, clock: ShiftableClock
) -> None:
    page = await browser.submit(await to_password(browser), "send_code")
    first = await sink.wait_for_code(EMMA)

    too_soon = await browser.submit(page, "resend")
    assert too_soon.status == 429
    assert too_soon.alert is not None
    assert "seconds before asking for another code" in too_soon.alert

    clock.advance(seconds=31)
    page = await browser.submit(page, "resend")
    assert "We sent a new code. Earlier codes no longer work." in page.text
    second = await sink.wait_for_code(EMMA, count=2)

    superseded = await browser.submit(page, "submit_code", code=first)
    assert superseded.alert is not None
    assert "We sent you a newer code" in superseded.alert
    wrong = await browser.submit(page, "submit_code", code=f"{(int(second) + 1) % 10**6:06d}")
    assert wrong.alert is not None
    assert "tries left" in wrong.alert
    clock.advance(minutes=11)
    expired = await browser.submit(page, "submit_code", code=second)
    assert expired.alert is not None
    assert "This code has expired" in expired.alert


async def test_didnt_get_the_code_help_says_where_from_and_what_went_wrong(
    browser: PageClient, sink: Sink, emma_two_step: Any
) -> None:
    page = await to_options(browser)
    page = await browser.submit(
        page, "choose_option", option=option_value(page, "em*****@example.com")
    )
    sink.refuse_next("550 5.1.1 Mailbox unavailable", at="RCPT")
    page = await browser.submit(page, "confirm_address", address=EMMA)
    assert "account-security-noreply@accountprotection.example.com" in page.text
    assert "spam or junk" in page.text
    for _ in range(100):
        page = await browser.get(page.path)
        if "couldn't deliver" in page.text:
            break
        await asyncio.sleep(0.02)
    assert "We couldn't deliver the email to em*****@example.com" in page.text


# --- flows are server-side ----------------------------------------------------------------


async def test_reloading_and_a_second_tab_do_not_break_a_flow(
    browser: PageClient, emma: Any
) -> None:
    page = await to_password(browser)
    again = await browser.get(page.path)  # reload, or the same page in another tab
    assert again.status == 200
    assert EMMA in again.text
    page = await browser.submit(again, "submit_password", password=PASSWORD)
    assert page.path == "/account"
    stale = await browser.submit(again, "submit_password", password=PASSWORD)  # old tab
    assert stale.path == "/account"  # the flow is done: it goes where it led


async def test_a_flow_cannot_be_continued_from_another_browser(
    browser: PageClient, another_browser: PageClient, emma: Any
) -> None:
    page = await to_password(browser)
    elsewhere = await another_browser.get(page.path)
    assert elsewhere.status == 404
    assert "Start again" in elsewhere.text


async def test_an_expired_flow_says_so_and_offers_to_start_again(
    browser: PageClient, emma: Any, clock: ShiftableClock
) -> None:
    page = await to_password(browser)
    clock.advance(minutes=31)
    late = await browser.submit(page, "submit_password", password=PASSWORD)
    assert late.status == 410
    assert "This page has expired" in late.text
    assert 'href="/signin"' in late.html


async def test_every_form_needs_its_csrf_token(browser: PageClient, emma: Any) -> None:
    page = await to_password(browser)
    form = page.form("submit_password")
    data = {**form.fields, "password": PASSWORD, "csrf": "forged"}
    response = await browser.client.post(form.action, data=data)
    assert response.status_code == 403
    assert "Reload the page" in response.text
    signout = await browser.client.post("/signout", data={"scope": "all"})
    assert signout.status_code == 403


# --- sessions -----------------------------------------------------------------------------


async def test_two_accounts_at_once_and_switching(
    browser: PageClient, sink: Sink, runtime: Runtime, emma: Any
) -> None:
    await runtime.accounts.create("taro@example.jp", PASSWORD, email_verified=True)
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    page = await browser.submit(
        await to_password(browser, "taro@example.jp"), "submit_password", password=PASSWORD
    )
    assert "Signed in as taro@example.jp" in page.text
    assert EMMA in page.text  # still signed in: in the picker

    page = await browser.post("/account/switch", page)
    assert f"Signed in as {EMMA}" in page.text
    page = await browser.post("/signout", await browser.get("/signout"))  # after confirming
    assert "Signed in as taro@example.jp" in page.text  # signing out one keeps the other
    page = await browser.post("/signout", await browser.get("/signout"))
    assert page.path.startswith("/signin")


async def test_sign_out_of_all_accounts(browser: PageClient, runtime: Runtime, emma: Any) -> None:
    await runtime.accounts.create("taro@example.jp", PASSWORD, email_verified=True)
    await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    page = await browser.submit(
        await to_password(browser, "taro@example.jp"), "submit_password", password=PASSWORD
    )
    page = await browser.post("/signout", await browser.get("/signout?scope=all"), scope="all")
    assert page.path.startswith("/signin")
    assert (await browser.get("/account")).path.startswith("/signin")


async def test_cookies_are_host_only_secure_httponly_lax(browser: PageClient, emma: Any) -> None:
    response = await browser.client.get("/signin", follow_redirects=True)
    device = response.history[0].headers["set-cookie"]
    assert device.startswith("__Host-hn_device=")
    for attribute in ("Path=/", "HttpOnly", "SameSite=Lax", "Secure"):
        assert attribute in device
    assert "Domain" not in device
    page = await browser.submit(Page(response), "submit_identifier", name=EMMA)
    form = page.form("submit_password")
    done = await browser.client.post(form.action, data={**form.fields, "password": PASSWORD})
    current = next(c for c in done.headers.get_list("set-cookie") if "hn_current" in c)
    assert current.startswith("__Host-hn_current=")
    for attribute in ("Path=/", "HttpOnly", "SameSite=Lax", "Secure"):
        assert attribute in current


# --- throttling ---------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"limit_name_failures": "3/15minutes"}])
async def test_wrong_passwords_are_throttled_per_name_known_or_not(
    browser: PageClient, emma: Any
) -> None:
    for name in (EMMA, "nobody@example.com"):
        page = await to_password(browser, name)
        statuses = []
        for _ in range(4):
            statuses.append((await browser.submit(page, "submit_password", password="x")).status)
        assert statuses == [400, 400, 400, 429]
        last = await browser.submit(page, "submit_password", password=PASSWORD)
        assert last.status == 429
        assert last.alert is not None
        assert "Try again in" in last.alert


@pytest.mark.parametrize("settings_overrides", [{"limit_ip_checks": "4/hour"}])
async def test_attempts_are_throttled_per_ip(browser: PageClient, emma: Any) -> None:
    page = await to_password(browser)
    statuses = [
        (await browser.submit(page, "submit_password", password="x")).status for _ in range(5)
    ]
    assert statuses == [400, 400, 400, 400, 429]


# --- language -----------------------------------------------------------------------------


async def test_the_language_follows_the_switcher_then_accept_language(
    browser: PageClient,
) -> None:
    page = await browser.get("/signin")
    assert '<html lang="en">' in page.html
    browser.client.headers["Accept-Language"] = "ja"
    page = await browser.get(page.path)
    assert '<html lang="ja">' in page.html
    assert "サインイン" in page.text
    page = await browser.post("/lang", page, locale="en")
    assert '<html lang="en">' in page.html
    assert page.path.startswith("/signin/")  # back where the person was


async def test_the_language_switch_never_redirects_elsewhere(browser: PageClient) -> None:
    page = await browser.get("/signin")
    form = next(f for f in page.forms() if f.action == "/lang")
    response = await browser.client.post(
        "/lang", data={**form.fields, "locale": "ja", "next": "//evil.example/"}
    )
    assert response.headers["location"] == "/"


# --- code pages: times, resend, burned codes, whose sign-in, the way back -----------------


def identity(page: Page) -> str:
    """The name the page says it is for (at its top)."""
    found = re.findall(r'<p class="identity address[^"]*">(.*?)</p>', page.html, re.S)
    assert len(found) == 1, page.html
    return html.unescape(re.sub(r"<[^>]+>", "", found[0]))


async def code_expiry(runtime: Runtime) -> datetime:
    """When the only code sent so far expires (read from the database)."""
    async with runtime.db.transaction(write=False) as tx:
        return (await tx.session.scalars(select(Challenge.expires_at))).one()


@pytest.mark.parametrize(
    ("zone", "language", "clock_format", "label"),
    [
        ("America/New_York", "en", "%-I:%M %p", "(Eastern Time)"),
        ("Asia/Tokyo", "en", "%-I:%M %p", "(Japan Time)"),
        ("Europe/Berlin", "ja", "%-H:%M", "（中央ヨーロッパ時間）"),
    ],
)
async def test_the_code_expiry_is_shown_in_the_browsers_time_zone(
    browser: PageClient,
    sink: Sink,
    emma: Any,
    runtime: Runtime,
    zone: str,
    language: str,
    clock_format: str,
    label: str,
) -> None:
    browser.client.cookies.set("tz", zone)  # what honnin.js stores
    browser.client.headers["Accept-Language"] = language
    page = await browser.submit(await to_password(browser), "send_code")
    local = (await code_expiry(runtime)).astimezone(ZoneInfo(zone)).strftime(clock_format)
    if language == "en":
        assert f"We emailed a code to em*****@example.com. It works until {local} {label}." in (
            page.text
        )
    else:
        assert (
            f"em*****@example.com にコードをメールで送信しました。{local}{label}まで有効です。"
            in (page.text)
        )
    assert "UTC" not in page.text


@pytest.mark.parametrize(
    ("cookie", "language", "expected"),
    [
        (None, "ja", "{local:%-H:%M}（日本時間）まで有効です。"),
        (None, "en", "It works until {utc:%-I:%M %p} (UTC)."),
        ("Mars/Olympus_Mons", "ja", "{local:%-H:%M}（日本時間）まで有効です。"),
        ("../../etc/passwd", "en", "It works until {utc:%-I:%M %p} (UTC)."),
    ],
)
async def test_without_a_known_time_zone_the_language_decides(
    browser: PageClient,
    sink: Sink,
    emma: Any,
    runtime: Runtime,
    cookie: str | None,
    language: str,
    expected: str,
) -> None:
    if cookie is not None:
        browser.client.cookies.set("tz", cookie)
    browser.client.headers["Accept-Language"] = language
    page = await browser.submit(await to_password(browser), "send_code")
    expires = await code_expiry(runtime)
    assert page.status == 200
    assert expected.format(local=expires.astimezone(ZoneInfo("Asia/Tokyo")), utc=expires) in (
        page.text
    )


@pytest.mark.parametrize("clock", [StoppedClock()], ids=["stopped_clock"])  # "30" exactly
async def test_the_resend_sentence_counts_down_then_becomes_the_button(
    browser: PageClient, sink: Sink, emma: Any, clock: ShiftableClock
) -> None:
    page = await browser.submit(await to_password(browser), "send_code")
    wait = re.search(r'<p class="hint resend-wait"[^>]*>([^<]*)</p>', page.html, re.S)
    assert wait is not None
    assert wait.group(1) == "You can ask for a new code in 30 seconds."
    assert 'data-seconds="30"' in wait.group(0)
    assert 'data-one="You can ask for a new code in {seconds} second."' in wait.group(0)
    assert 'data-other="You can ask for a new code in {seconds} seconds."' in wait.group(0)
    assert f'<form method="post" action="{page.path}" class="resend-form" hidden>' in (
        page.html
    )  # without JavaScript: the button comes with a reload, once it works
    assert "Resend code in" not in page.text  # one sentence, one number

    clock.advance(seconds=29)
    page = await browser.get(page.path)
    assert "You can ask for a new code in 1 second." in page.text

    clock.advance(seconds=1)
    page = await browser.get(page.path)
    assert "resend-wait" not in page.html
    assert f'<form method="post" action="{page.path}" class="resend-form">' in page.html
    assert page.has("resend")
    assert "Resend code" in page.text


@pytest.mark.parametrize("clock", [StoppedClock()], ids=["stopped_clock"])  # "30" exactly
async def test_in_japanese_the_resend_sentence_has_one_number(
    browser: PageClient, sink: Sink, emma: Any
) -> None:
    browser.client.headers["Accept-Language"] = "ja"
    page = await browser.submit(await to_password(browser), "send_code")
    assert "あと30秒で、新しいコードを送信できます。" in page.text
    assert re.findall(r"\d+\s*秒", page.text) == ["30秒"]


async def test_tries_left_are_counted_in_each_language(
    browser: PageClient, sink: Sink, emma: Any
) -> None:
    page = await browser.submit(await to_password(browser), "send_code")
    wrong = f"{(int(await sink.wait_for_code(EMMA)) + 1) % 10**6:06d}"
    alerts = [(await browser.submit(page, "submit_code", code=wrong)).alert for _ in range(3)]
    browser.client.headers["Accept-Language"] = "ja"
    alerts.append((await browser.submit(page, "submit_code", code=wrong)).alert)
    assert alerts == [
        "That code isn't right. Check it and try again (4 tries left).",
        "That code isn't right. Check it and try again (3 tries left).",
        "That code isn't right. Check it and try again (2 tries left).",
        "コードが正しくありません。確認して、もう一度入力してください（あと1回）。",
    ]
    browser.client.headers["Accept-Language"] = "en"
    page = await browser.get(page.path)
    assert "Check it and try again" not in page.text  # an error is shown once, where it came


BURNED = "Too many wrong codes were entered, so this code can no longer be used. Send a new code."


async def test_a_burned_code_says_so_and_a_new_one_can_be_sent_at_once(
    browser: PageClient, sink: Sink, emma: Any
) -> None:
    page = await browser.submit(await to_password(browser), "send_code")
    code = await sink.wait_for_code(EMMA)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        burned = await browser.submit(page, "submit_code", code=wrong)

    assert burned.status == 400
    assert burned.alert == BURNED
    assert burned.element("code") == {}  # no code box
    assert not burned.has("submit_code")
    assert "It works until" not in burned.text  # no expiry for a dead code
    assert "resend-wait" not in burned.html  # no cooldown
    assert burned.text.count(BURNED) == 1
    button = re.search(
        r'<button class="primary" type="submit" autofocus>([^<]*)</button>', burned.html
    )
    assert button is not None
    assert button.group(1) == "Send a new code"
    reloaded = await browser.get(page.path)
    assert '<div class="alert" id="code-state">' + BURNED + "</div>" in reloaded.html

    page = await browser.submit(burned, "resend")  # the clock has not moved: no cooldown

    assert page.status == 200
    assert "We sent a new code. Earlier codes no longer work." in page.text
    assert page.element("code")["autocomplete"] == "one-time-code"
    new = await sink.wait_for_code(EMMA, count=2)
    assert (await browser.submit(page, "submit_code", code=new)).path == "/account"


async def test_a_burned_code_in_japanese(browser: PageClient, sink: Sink, emma: Any) -> None:
    browser.client.headers["Accept-Language"] = "ja"
    page = await browser.submit(await to_password(browser), "send_code")
    wrong = f"{(int(await sink.wait_for_code(EMMA)) + 1) % 10**6:06d}"
    for _ in range(5):
        burned = await browser.submit(page, "submit_code", code=wrong)
    assert burned.alert == (
        "コードの入力に何度も失敗したため、このコードは無効になりました。"
        "新しいコードを送信してください。"
    )
    assert "まで有効です" not in burned.text
    assert burned.has("resend")
    assert "新しいコードを送信" in burned.text


async def test_the_verify_pages_name_the_account_and_say_what_to_type(
    browser: PageClient, sink: Sink, emma_two_step: Any
) -> None:
    page = await browser.submit(
        await to_password(browser, "Emma@Example.com"), "submit_password", password=PASSWORD
    )
    assert identity(page) == EMMA  # the name as typed (and proven by the password)
    assert (
        "Two-step verification is on for this account, so we also check it's you with a code. "
        "Choose where we should send it."
    ) in page.text

    page = await browser.submit(
        page, "choose_option", option=option_value(page, "em*****@example.org")
    )
    assert identity(page) == EMMA  # the name as typed (and proven by the password)
    assert (
        "To make sure it's you, type the full address shown as em*****@example.org. "
        "We'll send a code there."
    ) in page.text
    assert BACKUP not in page.html  # never shown before the person types it

    page = await browser.submit(page, "confirm_address", address=BACKUP)
    assert identity(page) == EMMA  # the name as typed (and proven by the password)
    assert "We emailed a code to em*****@example.org." in page.text
    assert page.has("restart")
    assert BACKUP not in page.html.replace(f'value="{BACKUP}"', "")


async def test_the_way_back_is_said_once_and_plainly(browser: PageClient, emma: Any) -> None:
    page = await to_password(browser)
    assert (
        '<button class="link" type="submit"><span aria-hidden="true">←&nbsp;</span>'
        "Use a different account</button>"
    ) in page.html
    assert page.text.count("Use a different account") == 1
    page = await browser.submit(page, "restart")
    assert page.element("name")["value"] == ""
    assert "Sign in" in page.text


async def test_the_sign_up_code_page_leads_back_to_correct_the_address(
    browser: PageClient, sink: Sink, runtime: Runtime
) -> None:
    typo = "emma@exmaple.com"
    page = await browser.get("/signup")
    page = await browser.submit(page, "submit_details", email=typo, password=PASSWORD)
    assert identity(page) == typo  # typed by the person: shown in full
    assert "Change the address" in page.text
    assert "Start again" not in page.text
    first = await sink.wait_for_code(typo)

    page = await browser.submit(page, "change_address")

    assert page.element("email")["value"] == typo
    assert "value" not in page.element("password")
    async with runtime.db.transaction(write=False) as tx:
        assert (await tx.session.scalars(select(Flow.data))).all() == [{"name": typo}]

    page = await browser.submit(page, "submit_details", email=EMMA, password=PASSWORD)
    assert "We emailed a code to em*****@example.com." in page.text
    refused = await browser.submit(page, "submit_code", code=first)  # the typo's code
    assert refused.status == 400
    page = await browser.submit(page, "submit_code", code=await sink.wait_for_code(EMMA))
    assert page.path == "/account"
    async with runtime.db.transaction(write=False) as tx:
        assert await runtime.accounts.record_named(tx, typo) is None
        assert await runtime.accounts.record_named(tx, EMMA) is not None


@pytest.mark.parametrize("ending", ["expired", "elsewhere"])
async def test_a_flow_that_cannot_go_on_says_start_again_once(
    browser: PageClient,
    another_browser: PageClient,
    emma: Any,
    clock: ShiftableClock,
    ending: str,
) -> None:
    page = await to_password(browser)
    if ending == "expired":
        clock.advance(minutes=31)
        gone = await browser.get(page.path)
        heading = "This page has expired"
    else:
        gone = await another_browser.get(page.path)
        heading = "This page isn't available"
    title = re.search(r"<h1>([^<]*)</h1>", gone.html)
    assert title is not None
    assert html.unescape(title.group(1)) == heading
    assert gone.text.count("Start again") == 1


async def test_an_expired_code_says_so_and_offers_a_new_one(
    browser: PageClient, sink: Sink, emma: Any, clock: ShiftableClock
) -> None:
    page = await browser.submit(await to_password(browser), "send_code")
    await sink.wait_for_code(EMMA)  # sent, then left unused until it expired
    clock.advance(minutes=11)
    page = await browser.get(page.path)
    assert '<div class="alert" id="code-state">This code has expired. Send a new code.</div>' in (
        page.html
    )
    assert page.element("code") == {}
    assert "It works until" not in page.text
    page = await browser.submit(page, "resend")
    assert "We sent a new code. Earlier codes no longer work." in page.text
    new = await sink.wait_for_code(EMMA, count=2)
    assert (await browser.submit(page, "submit_code", code=new)).path == "/account"
