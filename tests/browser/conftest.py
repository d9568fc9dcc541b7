"""Real Chromium (Debian's package) driven by Playwright against a real server on loopback.

Skipped, saying why, where Chromium or axe-core is not installed (`scripts/test` installs both
when it can); in CI (`CI=true`) that is a failure instead: CI must run them. Screenshots of
every page at 360 and 1280 px, in English and Japanese, are left in test-artifacts/screenshots
for people to look at.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, async_playwright

from honnin.app import create_app
from honnin.config import Settings
from honnin.runtime import Runtime
from tests.support.ci import IN_CI
from tests.support.ci import unavailable as missing
from tests.support.clock import ShiftableClock
from tests.support.smtp import CODE, Sink, free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("HONNIN_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

NO_BROWSER = (
    f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    if not CHROMIUM.exists()
    else None
)
if NO_BROWSER and not IN_CI:
    pytest.skip(NO_BROWSER, allow_module_level=True)


@pytest.fixture(autouse=True)
def _browser_installed() -> None:
    """In CI each browser test fails on its own (the rest of the suite still runs)."""
    if NO_BROWSER:
        missing(NO_BROWSER)


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture
def live_settings() -> dict[str, Any]:
    """Settings a module adds to the service's (override it: say, its SMS gateway's URL)."""
    return {}


@pytest.fixture
async def live(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sink: Sink,
    sqlite_template: Path,
    clock: ShiftableClock,
    live_settings: dict[str, Any],
) -> AsyncIterator[tuple[str, Runtime]]:
    """The service on a loopback port: its address and its runtime (settings overridden by an
    indirect parameter: `@pytest.mark.parametrize("live", [{"dev": True}], indirect=True)`)."""
    db = tmp_path / "honnin.db"
    db.write_bytes(sqlite_template.read_bytes())
    port = free_port()
    base = f"http://localhost:{port}"
    settings = Settings(
        secret_key="browser-test-secret-" + "x" * 32,
        database_url=f"sqlite+aiosqlite:///{db}",
        smtp_url=sink.url,
        data_dir=tmp_path / "data",
        base_url=base,
        service_name="Example",
        mail_from="Example account team <account-security-noreply@accountprotection.example.com>",
        courier_poll_seconds=0.2,
        resend_cooldown_seconds=2,
        **{**live_settings, **getattr(request, "param", {})},
    )
    app = create_app(settings, clock=clock)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield base, app.state.runtime
    server.should_exit = True
    await task


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def context(chromium: Browser) -> AsyncIterator[BrowserContext]:
    # bypass_csp: the accessibility checker is injected as a script our CSP rightly refuses
    context = await chromium.new_context(
        locale="en-US", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    yield context
    await context.close()


async def screenshot(page: Any, name: str) -> None:
    """Save the page at 360 px and at 1280 px wide."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    lang = await page.evaluate("document.documentElement.lang")
    for width in (360, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        await page.screenshot(path=str(SHOTS / f"{name}-{lang}-{width}.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def axe() -> Path:
    """axe-core, checked for before a journey starts (not half-way through it)."""
    if not AXE.exists():
        missing("the accessibility checks need axe-core: npm ci (in the repository)")
    return AXE


async def accessibility_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.1 A and AA rules)."""
    await page.add_script_tag(path=str(AXE))
    rules = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
    result = await page.evaluate("rules => axe.run(document, {runOnly: rules})", rules)
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]


async def code_to(sink: Sink, address: str, nth: int = 1) -> str:
    """The `nth` code mailed to `address` (notices without codes come in between)."""
    for count in range(1, 20):
        mail = await sink.wait_for(address, count=count)
        if CODE.search(mail.text):
            nth -= 1
            if nth == 0:
                return mail.code
    raise AssertionError(f"no code #{nth} to {address}")


# the sign-in page's words, in each language (the tests find fields and buttons by them)
SIGN_IN_WORDS = {
    "en": {
        "name": "Email address or phone number",
        "next": "Next",
        "password": "Password",
        "sign_in": "Sign in",
    },
    "ja": {
        "name": "メールアドレスまたは電話番号",
        "next": "次へ",
        "password": "パスワード",
        "sign_in": "サインイン",
    },
}


async def sign_in_with_password(page: Any, lang: str, name: str, password: str) -> None:
    """On the sign-in page: the name, then the password."""
    words = SIGN_IN_WORDS[lang]
    await page.get_by_label(words["name"]).fill(name)
    await page.get_by_role("button", name=words["next"]).click()
    await page.get_by_label(words["password"], exact=True).fill(password)
    await page.get_by_role("button", name=words["sign_in"], exact=True).click()
