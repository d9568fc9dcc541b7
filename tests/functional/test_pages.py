"""Pages: security headers, error pages, and the dev mailbox only in dev mode."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from tests.support.journeys import EMMA, PASSWORD, option_value, to_options, to_password
from tests.support.pages import Page, PageClient
from tests.support.smtp import Sink


async def test_pages_carry_strict_security_headers(http: httpx.AsyncClient) -> None:
    response = await http.get("/")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_an_unknown_page_is_a_friendly_404_in_the_readers_language(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/no/such/page", headers={"Accept-Language": "ja"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "ページが見つかりません このURLのページはありません。" in Page(response).text
    assert '<html lang="ja">' in response.text


async def test_an_unknown_api_path_is_a_json_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_the_dev_mailbox_does_not_exist_outside_dev_mode(http: httpx.AsyncClient) -> None:
    assert (await http.get("/dev/mailbox")).status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"default_locale": "ja"}])
async def test_the_default_language_is_a_setting(http: httpx.AsyncClient) -> None:
    assert '<html lang="ja">' in (await http.get("/")).text
    assert '<html lang="en">' in (await http.get("/", headers={"Accept-Language": "en"})).text
    problem = (await http.get("/api/v1/nothing")).json()
    assert problem["message"] == "このURLには何もありません。"


# --- errors next to their fields -------------------------------------------------------------


def marked(page: Page, field: str, described_by: str) -> None:
    """`field` is marked invalid, described by its message, and has the page's only focus."""
    element = page.element(field)
    assert element["aria-invalid"] == "true"
    assert element["aria-describedby"] == described_by
    assert "autofocus" in element
    assert page.html.count(" autofocus") == 1
    error = page.element(f"{field}-error")
    assert error["class"] == "field-error"
    shown = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page.html)
    assert shown is not None
    assert html.unescape(shown.group(1)) == page.alert  # the message at the top, repeated


async def test_before_any_error_no_field_is_marked(browser: PageClient) -> None:
    page = await browser.get("/signin")
    assert page.element("name") == {
        "tag": "input",
        "id": "name",
        "name": "name",
        "type": "text",  # an email address or a phone number
        "autocomplete": "username webauthn",  # and the passkeys the browser has
        "autocapitalize": "none",
        "spellcheck": "false",
        "required": "",
        "value": "",
        "autofocus": "",
    }
    assert "aria-invalid" not in page.html
    assert "field-error" not in page.html


async def test_a_bad_sign_in_name_is_marked_on_its_field(browser: PageClient) -> None:
    page = await browser.submit(await browser.get("/signin"), "submit_identifier", name="nope")
    assert page.status == 422
    assert page.alert == "“nope” is not a valid email address. Check it and try again."
    marked(page, "name", "name-error")
    assert page.element("name")["value"] == "nope"


async def test_a_weak_password_marks_the_password_not_the_address(browser: PageClient) -> None:
    page = await browser.get("/signup")
    page = await browser.submit(page, "submit_details", email=EMMA, password="short")
    assert page.status == 422
    marked(page, "password", "password-error password-hint")
    email = page.element("email")
    assert email["aria-describedby"] == "email-hint"
    assert "aria-invalid" not in email
    assert "autofocus" not in email


async def test_a_wrong_password_is_marked_on_the_password(browser: PageClient, emma: Any) -> None:
    page = await browser.submit(await to_password(browser), "submit_password", password="nope")
    assert page.status == 400
    marked(page, "password", "password-error")


async def test_a_wrong_code_is_marked_on_the_code_box(
    browser: PageClient, sink: Sink, emma: Any
) -> None:
    page = await browser.submit(await to_password(browser), "send_code")
    for typed in ("12", f"{(int(await sink.wait_for_code(EMMA)) + 1) % 10**6:06d}"):
        refused = await browser.submit(page, "submit_code", code=typed)
        marked(refused, "code", "code-error")
    assert refused.alert == "That code isn't right. Check it and try again (4 tries left)."


async def test_a_wrong_address_is_marked_on_the_address(
    browser: PageClient, sink: Sink, emma_two_step: Any
) -> None:
    page = await to_options(browser)
    page = await browser.submit(
        page, "choose_option", option=option_value(page, "em*****@example.com")
    )
    page = await browser.submit(page, "confirm_address", address="emma@example.net")
    assert page.status == 400
    marked(page, "address", "address-error")


@pytest.mark.parametrize("settings_overrides", [{"limit_ip_checks": "1/hour"}])
async def test_an_error_about_no_field_marks_none(browser: PageClient, emma: Any) -> None:
    page = await to_password(browser)
    await browser.submit(page, "submit_password", password="x")
    page = await browser.submit(page, "submit_password", password=PASSWORD)
    assert page.status == 429
    assert page.alert is not None
    assert "aria-invalid" not in page.html
    assert "field-error" not in page.html
    assert "autofocus" in page.element("password")  # the focus goes where it always does
