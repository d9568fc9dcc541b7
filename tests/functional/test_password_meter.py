"""The password meter's answers (`POST /password/strength`): the rules of the flow's account
(or of the address typed at sign-up), in the page's language, behind CSRF and a rate limit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.journeys import to_password
from tests.support.pages import Page, PageClient
from tests.support.settings import EMMA, PASSWORD


async def ask(browser: PageClient, page: Page, password: str, **extra: str) -> Any:
    form = page.forms()[0]
    response = await browser.client.post(
        "/password/strength",
        data={
            "csrf": form.fields["csrf"],
            "flow": page.path.rsplit("/", 1)[1],
            "password": password,
            **extra,
        },
    )
    return response


async def test_at_sign_up_the_typed_address_and_fifteen_characters(browser: PageClient) -> None:
    page = await browser.get("/signup")
    short = (await ask(browser, page, "tangerine-dusk", email=EMMA)).json()
    assert short == {
        "score": 1,
        "acceptable": False,
        "reason": "Use at least 15 characters for your password.",
    }
    named = (await ask(browser, page, "emma-likes-long-walks", email=EMMA)).json()
    assert named["reason"] == "Don't use your email address or name in your password."
    strong = (await ask(browser, page, "correct horse battery staple lagoon", email=EMMA)).json()
    assert strong == {
        "score": 4,
        "acceptable": True,
        "reason": "Strong. It's very hard to guess.",
    }


async def test_on_the_security_page_the_accounts_own_rules_in_its_language(
    browser: PageClient, emma: Any
) -> None:
    await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    await browser.post("/lang", await browser.get("/account"), locale="ja")
    page = await browser.get("/account/security")
    assert (await ask(browser, page, "emma-likes-long-walks")).status_code == 409  # not here
    page = await browser.submit(page, "change_password")  # fresh: the new password's page
    answer = (await ask(browser, page, "emma-likes-long-walks")).json()  # the account's name
    assert answer["reason"] == "パスワードにメールアドレスや名前を使わないでください。"
    assert response_ok(await ask(browser, page, "a perfectly fine passphrase"))


def response_ok(response: Any) -> bool:
    return bool(response.status_code == 200 and response.json()["acceptable"])


async def test_without_its_csrf_token_or_for_anothers_flow_it_says_nothing(
    browser: PageClient, another_browser: PageClient
) -> None:
    page = await browser.get("/signup")
    forged = await browser.client.post(
        "/password/strength", data={"flow": page.path.rsplit("/", 1)[1], "password": "x"}
    )
    assert forged.status_code == 403
    theirs = await another_browser.get("/signup")
    mine = await browser.get("/signup")
    response = await browser.client.post(
        "/password/strength",
        data={
            "csrf": mine.forms()[0].fields["csrf"],
            "flow": theirs.path.rsplit("/", 1)[1],
            "password": "correct horse battery staple lagoon",
        },
    )
    assert response.status_code == 404


async def test_only_a_page_that_chooses_a_password_gets_answers(
    browser: PageClient, emma: Any
) -> None:
    """A sign-in whose password is being typed: the meter would tell which names the account
    has."""
    page = await to_password(browser)
    response = await ask(browser, page, "emma-likes-long-walks")
    assert response.status_code == 409


@pytest.mark.parametrize("settings_overrides", [{"limit_ip_meters": "3/minute"}])
async def test_it_is_rate_limited_per_address(browser: PageClient) -> None:
    page = await browser.get("/signup")
    for _ in range(3):
        assert (await ask(browser, page, "whatever it is")).status_code == 200
    refused = await ask(browser, page, "whatever it is")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
