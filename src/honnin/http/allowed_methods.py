"""The `Allow` header of a 405: every method the path answers to.

FastAPI gives each method of a path its own route, and the 405 it answers names the methods of
only one of them (or none: routes of included routers are not searched), so a client would be
told that a method it may use is not allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from starlette.requests import Request
from starlette.routing import BaseRoute, Route


def _routes(routes: Iterable[BaseRoute]) -> Iterator[Route]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        if included is not None:
            yield from _routes(included.routes)
        elif isinstance(route, Route):
            yield route


def allowed_methods(request: Request) -> str:
    path = request.url.path
    methods: set[str] = set()
    for route in _routes(request.app.router.routes):
        if route.methods and route.path_regex.match(path):
            methods |= route.methods
    return ", ".join(sorted(methods))
