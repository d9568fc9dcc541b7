"""The ASGI application: the JSON API and the pages over one runtime.

`uvicorn --factory honnin.app:create_app` builds it from the environment; tests pass their
own settings and clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from honnin import __version__
from honnin.api import errors as api_errors
from honnin.api.contract import install as install_contract
from honnin.api.flows import router as flows_router
from honnin.api.hooks import router as hooks_router
from honnin.api.oidc import router as oidc_router
from honnin.api.reference import install as install_reference
from honnin.api.sessions import router as sessions_router
from honnin.api.verifications import router as verifications_router
from honnin.clock import Clock
from honnin.config import Settings
from honnin.errors import HonninError
from honnin.http.after_response import CourierAfterResponse
from honnin.http.allowed_methods import allowed_methods
from honnin.http.body_limit import BodyLimit
from honnin.http.status import headers_of, status_of
from honnin.i18n import _
from honnin.runtime import Runtime
from honnin.web import account, changes, devmailbox, flows, home, oidc, strength
from honnin.web.browser import DeviceCookie
from honnin.web.errors import error_page
from honnin.web.security import SecurityHeaders
from honnin.web.templating import page_locale

STATIC_DIR = Path(__file__).parent / "web" / "static"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_error_handlers(app: FastAPI) -> None:
    """JSON problems under /api/, pages elsewhere; never a bare 500."""

    async def on_error(request: Request, error: Exception) -> Response:
        if isinstance(error, StarletteHTTPException) and error.status_code == 405:
            error.headers = {"Allow": allowed_methods(request)}
        if _is_api(request):
            if isinstance(error, HonninError):
                return await api_errors.honnin_error(request, error)
            if isinstance(error, RequestValidationError):
                return await api_errors.validation_error(request, error)
            if isinstance(error, StarletteHTTPException):
                return await api_errors.http_error(request, error)
            return await api_errors.unexpected(request, error)
        locale = page_locale(request)
        if isinstance(error, HonninError):
            response = error_page(request, status_of(error), error.message.render(locale))
            response.headers.update(headers_of(error) or {})
            return response
        if isinstance(error, StarletteHTTPException) and error.status_code == 404:
            return error_page(request, 404, _("There is no page at this address.").render(locale))
        if isinstance(error, StarletteHTTPException | RequestValidationError):
            status = getattr(error, "status_code", 400)
            page = error_page(
                request, status, _("The request could not be handled.").render(locale)
            )
            page.headers.update(getattr(error, "headers", None) or {})
            return page
        api_errors.log.exception("unexpected error on %s %s", request.method, request.url.path)
        message = _("Something went wrong on our side. Try again in a moment.")
        return error_page(request, 500, message.render(locale))

    for kind in (HonninError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, on_error)


def _include(app: FastAPI, router: APIRouter) -> None:
    """The router's routes in the app's own list, as they are. `include_router` keeps each
    router as a branch that FastAPI (0.165) walks on every request, matching every route of
    each branch before it again: a tenth of a small API request's CPU. Ours are complete
    already (each carries its prefix, tags and `include_in_schema`), and the OpenAPI document
    is the same (tests/functional/test_api_reference.py). What FastAPI would add at inclusion
    time is not added: app-wide `dependencies`, `dependency_overrides` (none is used)."""
    app.router.routes.extend(router.routes)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, clock)  # fails here, at start-up, without a secret

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="honnin",
        version=__version__,
        summary="Account security: one-time codes that arrive, and say why when they don't.",
        lifespan=lifespan,
        docs_url=None,  # api/reference.py: Swagger UI served from here, not a CDN
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime
    _install_error_handlers(app)
    install_reference(app)
    install_contract(app, code_length=settings.code_length)
    routers = [verifications_router, flows_router, sessions_router, hooks_router, oidc_router,
               home.router, flows.router, account.router, changes.router, oidc.router,
               strength.router]  # fmt: skip
    if settings.dev:
        routers.append(devmailbox.router)
    for router in routers:
        _include(app, router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(DeviceCookie, settings=settings)
    app.add_middleware(SecurityHeaders, hsts=not settings.dev)
    app.add_middleware(CourierAfterResponse)  # outermost: after the response has gone out
    return app
