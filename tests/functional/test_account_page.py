"""The account page and the account picker, as a browser without JavaScript sees them."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.journeys import EMMA, PASSWORD, to_password
from tests.support.pages import Page, PageClient

TARO = "taro@example.jp"


def main_text(page: Page) -> str:
    """The visible text of the page's main element, whitespace squeezed."""
    match = re.search(r"<main[^>]*>(.*)</main>", page.html, re.S)
    assert match, page.html
    body = re.sub(r"</?(span|wbr|strong)\b[^>]*>", "", match.group(1))  # inline: no space
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def sign_out_link(page: Page, name: str) -> str:
    match = re.search(
        rf'href="(/signout\?session=[^"]+)" aria-label="Sign out of {name}"', page.html
    )
    assert match, page.html
    return html.unescape(match.group(1))


async def sign_in(browser: PageClient, name: str = EMMA) -> Page:
    return await browser.submit(
        await to_password(browser, name), "submit_password", password=PASSWORD
    )


async def test_own_addresses_in_full_while_the_sign_in_is_fresh(
    browser: PageClient, runtime: Runtime, clock: ShiftableClock, emma_two_step: Any
) -> None:
    await runtime.accounts.set_two_step(EMMA, False)
    page = await sign_in(browser)
    assert page.path == "/account"
    assert main_text(page) == (
        "Your account Signed in as emma@example.com "
        "Email addresses you sign in with emma@example.com "
        "Security info emma@example.com Email address Verified "
        "emma.backup@example.org Email address Verified "
        "Two-step verification: Off Manage your security info "
        "Accounts in this browser emma@example.com Current Sign out "
        "Sign in to another account"
    )

    clock.advance(seconds=590)  # HONNIN_REAUTH_MAX_AGE_SECONDS is 600 by default
    assert "emma.backup@example.org" in main_text(await browser.get("/account"))

    clock.advance(seconds=11)
    assert main_text(await browser.get("/account")) == (
        "Your account Signed in as em*****@example.com "
        "Your addresses are partly hidden because you signed in a while ago. "
        "Sign in again to see them in full "
        "Email addresses you sign in with em*****@example.com "
        "Security info em*****@example.com Email address Verified "
        "em*****@example.org Email address Verified "
        "Two-step verification: Off Manage your security info "
        "Accounts in this browser em*****@example.com Current Sign out "
        "Sign in to another account"
    )

    page = await sign_in(browser)  # signing in again makes it fresh again
    assert "Security info emma@example.com Email address Verified" in main_text(page)


@pytest.mark.parametrize("settings_overrides", [{"reauth_max_age_seconds": 60}])
async def test_the_fresh_age_is_a_setting(
    browser: PageClient, clock: ShiftableClock, emma: Any
) -> None:
    await sign_in(browser)
    clock.advance(seconds=50)
    assert "Signed in as emma@example.com" in main_text(await browser.get("/account"))
    clock.advance(seconds=11)
    assert "Signed in as em*****@example.com" in main_text(await browser.get("/account"))


async def test_sign_out_asks_first_naming_the_account(
    browser: PageClient, runtime: Runtime, emma: Any
) -> None:
    await runtime.accounts.create(TARO, PASSWORD, email_verified=True)
    await sign_in(browser)
    page = await sign_in(browser, TARO)
    assert main_text(page).endswith(
        "Accounts in this browser emma@example.com Switch Sign out "
        "taro@example.jp Current Sign out "
        "Sign in to another account Sign out of all accounts"
    )

    confirm = await browser.get(sign_out_link(page, EMMA))  # not the current account
    assert main_text(confirm) == (
        "Sign out of emma@example.com? "
        "You'll need your password or a code to use this account again in this browser. "
        "Sign out Cancel"
    )
    # switching language stays on this confirmation, for this account
    switcher = next(f for f in confirm.forms() if f.action == "/lang")
    assert switcher.fields["next"] == sign_out_link(page, EMMA)
    # asking signs nobody out
    assert "emma@example.com" in main_text(await browser.get("/account"))

    page = await browser.post("/signout", confirm)
    assert page.path == "/account"
    assert main_text(page).endswith(
        "Accounts in this browser taro@example.jp Current Sign out Sign in to another account"
    )
    assert "Signed in as taro@example.jp" in main_text(page)  # the current one stays current


async def test_sign_out_of_all_lists_every_account(
    browser: PageClient, runtime: Runtime, emma: Any
) -> None:
    await runtime.accounts.create(TARO, PASSWORD, email_verified=True)
    await sign_in(browser)
    page = await sign_in(browser, TARO)
    assert 'href="/signout?scope=all"' in page.html
    confirm = await browser.get("/signout?scope=all")
    assert main_text(confirm) == (
        "Sign out of all accounts? These accounts will be signed out in this browser: "
        "emma@example.com taro@example.jp Sign out of all accounts Cancel"
    )
    page = await browser.post("/signout", confirm, scope="all")
    assert page.path.startswith("/signin/")
    assert (await browser.get("/account")).path.startswith("/signin/")


async def test_sign_out_confirmation_in_japanese(browser: PageClient, emma: Any) -> None:
    browser.client.headers["Accept-Language"] = "ja"
    page = await sign_in(browser)
    confirm = await browser.get("/signout")
    assert main_text(confirm) == (
        "emma@example.com からサインアウトしますか？ "
        "このブラウザーでこのアカウントをもう一度使うには、パスワードかコードが必要です。 "
        "サインアウト キャンセル"
    )
    page = await browser.post("/signout", confirm)
    assert page.path.startswith("/signin/")


async def test_signing_out_an_account_signed_out_meanwhile_changes_nothing(
    browser: PageClient, runtime: Runtime, emma: Any
) -> None:
    await runtime.accounts.create(TARO, PASSWORD, email_verified=True)
    await sign_in(browser)
    page = await sign_in(browser, TARO)
    confirm = await browser.get(sign_out_link(page, EMMA))
    await browser.post("/signout", confirm)  # the first tab
    page = await browser.post("/signout", confirm)  # a second tab, same confirmation
    assert page.path == "/account"
    assert "Signed in as taro@example.jp" in main_text(page)


async def test_the_sender_address_breaks_before_its_at_not_at_a_hyphen(
    browser: PageClient, emma: Any
) -> None:
    page = await browser.submit(await to_password(browser), "send_code")
    assert (
        'It comes from <span class="address"><span class="nobr">account-security-noreply</span>'
        '<wbr>@<span class="nobr">accountprotection.example.com</span></span>. Search'
    ) in page.html


async def test_the_sign_out_page_needs_someone_signed_in(browser: PageClient) -> None:
    page = await browser.get("/signout")
    assert page.path.startswith("/signin/")
    assert (await browser.get("/account")).path.startswith("/signin/")
