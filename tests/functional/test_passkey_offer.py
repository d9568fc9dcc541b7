"""After a sign-in by a code we sent, the account page offers a passkey once ("next time, no
code to wait for"): "Add a passkey" goes straight to its creation, "Not now" is remembered. A
sign-in by password is not offered one, nor an account that has one."""

from __future__ import annotations

from typing import Any

from tests.support.journeys import PASSWORD, by_code, to_password
from tests.support.pages import PageClient
from tests.support.smtp import Sink

OFFER = "data-passkey-offer"


async def test_offered_after_a_code_and_not_again_once_declined(
    browser: PageClient, emma: Any, sink: Sink
) -> None:
    page = await by_code(browser, sink)
    assert OFFER in page.html
    assert "Next time, sign in with your fingerprint, face or screen lock" in page.text
    page = await browser.post("/account/passkey-offer", page)
    assert page.path == "/account"
    assert OFFER not in page.html
    page = await by_code(browser, sink)
    assert OFFER not in page.html  # remembered


async def test_add_goes_to_the_passkeys_creation(
    browser: PageClient, emma: Any, sink: Sink
) -> None:
    page = await by_code(browser, sink)
    page = await browser.post("/account/security/passkey", page)
    assert page.path.startswith("/account/security/")
    assert "Create a passkey" in page.text
    assert 'data-passkey="create"' in page.html


async def test_not_offered_after_a_password(browser: PageClient, emma: Any) -> None:
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert page.path == "/account"
    assert OFFER not in page.html
