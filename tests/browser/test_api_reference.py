"""The API reference (/api/docs) in Chromium, with the network beyond this server cut off."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.async_api import Browser, ConsoleMessage, Route

from honnin.runtime import Runtime
from tests.browser.conftest import screenshot


async def test_the_reference_lists_every_operation_offline(
    live: tuple[str, Runtime], chromium: Browser
) -> None:
    base, _runtime = live
    async with httpx.AsyncClient() as client:
        spec = (await client.get(f"{base}/api/openapi.json")).json()
    expected = sorted(
        (method.upper(), path) for path, item in spec["paths"].items() for method in item
    )

    # our CSP enforced (no bypass), and every request that would leave this server refused
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    problems: list[str] = []

    async def only_this_server(route: Route) -> None:
        if urlsplit(route.request.url).netloc == urlsplit(base).netloc:
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    await context.route("**/*", only_this_server)
    page = await context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(f"{base}/api/docs")
    await page.wait_for_selector(".opblock-summary-path")
    listed = await page.eval_on_selector_all(
        ".opblock",
        """blocks => blocks.map(b => [
            b.querySelector('.opblock-summary-method').textContent,
            b.querySelector('.opblock-summary-path').dataset.path])""",
    )
    assert sorted(tuple(op) for op in listed) == expected
    assert ("POST", "/api/v1/verifications") in expected
    assert await page.title() == "honnin API"
    await screenshot(page, "api-docs")
    assert outside == []
    assert problems == []
    await context.close()
