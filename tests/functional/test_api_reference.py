"""The API reference page (/api/docs) needs nothing but this server."""

from __future__ import annotations

import re

import httpx
import pytest

import honnin.app
from honnin.api.reference import inline_script_hashes
from honnin.app import create_app
from honnin.config import Settings


async def test_the_reference_page_loads_everything_from_this_server(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources == [
        "/api/docs/assets/swagger-ui.css",
        "/api/docs/assets/favicon.png",
        "/api/docs/assets/swagger-ui-bundle.js",
    ]
    assert "url: '/api/openapi.json'" in page.text
    assert '"validatorUrl": null' in page.text  # no badge fetched from a validator service
    [digest] = inline_script_hashes(page.text)
    assert page.headers.get_list("content-security-policy") == [
        f"default-src 'self'; script-src 'self' 'sha256-{digest}'; style-src 'self'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ]
    for source, kind in zip(sources, ("text/css", "image/png", "text/javascript"), strict=True):
        asset = await http.get(source)
        assert (asset.status_code, asset.headers["content-type"].split(";")[0]) == (200, kind)
        assert asset.headers.get_list("content-security-policy") == [
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ]


def test_the_hash_is_of_the_inline_script_only() -> None:
    html = '<script src="/x.js"></script><script>go()</script>'
    # echo -n 'go()' | openssl dgst -sha256 -binary | base64
    assert inline_script_hashes(html) == ["5KYv+PUboo5h+0+YAtGRPbwv5d/QxzHslP4YGnUaxRw="]


def test_routes_added_flat_are_documented_as_included_ones(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app lists every route itself (`honnin.app._include`, for speed): the OpenAPI
    document must be what `include_router` would have made of the same routers."""
    flat = create_app(settings)
    assert not [route for route in flat.router.routes if type(route).__name__ == "_IncludedRouter"]
    monkeypatch.setattr(honnin.app, "_include", lambda app, router: app.include_router(router))
    included = create_app(settings)
    assert [type(route).__name__ for route in included.router.routes].count("_IncludedRouter") > 1
    assert flat.openapi() == included.openapi()
