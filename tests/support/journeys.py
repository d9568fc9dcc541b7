"""Helpers for journeys through the pages: a browser-like client and the steps to a state."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests.support.pages import Page, PageClient
from tests.support.smtp import Sink

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"
BACKUP = "emma.backup@example.org"


def client_for(app: FastAPI, ip: str = "192.0.2.10") -> httpx.AsyncClient:
    """A browser at `ip`: cookies kept, HTTPS (so that Secure cookies are sent back)."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


async def to_password(browser: PageClient, name: str = EMMA) -> Page:
    page = await browser.get("/signin")
    return await browser.submit(page, "submit_identifier", name=name)


async def by_code(browser: PageClient, sink: Sink, name: str = EMMA) -> Page:
    """Sign in with a code emailed to the name (instead of the password): the account page."""
    page = await to_password(browser, name)
    before = len(sink.with_codes(name))
    page = await browser.submit(page, "send_code")
    code = await sink.wait_for_code(name, before + 1)
    page = await browser.submit(page, "submit_code", code=code)
    assert page.path == "/account", page.text
    return page


async def to_options(browser: PageClient) -> Page:
    page = await browser.submit(await to_password(browser), "submit_password", password=PASSWORD)
    assert "Verify your identity" in page.text, page.text
    return page


def option_value(page: Page, hint: str) -> str:
    for label in re.findall(r'<label class="option">(.*?)</label>', page.html, re.S):
        if re.sub(r"<[^>]+>", "", label).split() == ["Email", hint]:
            value = re.search(r'value="([^"]+)"', label)
            assert value is not None
            return value.group(1)
    raise AssertionError(f"no option Email {hint}: {page.text}")
