"""Pages: security headers, error pages, and the dev mailbox only in dev mode."""

from __future__ import annotations

import httpx
import pytest


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
    assert "このアドレスにはページがありません" in response.text
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
    assert problem["message"] == "このアドレスには何もありません。"
