"""Security headers on every response (OWASP ASVS V14.4)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

R = TypeVar("R", bound=Response)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def allowing_form_target(response: R, target: str | None) -> R:
    """The page's policy, letting its forms lead to `target` too (an application's redirect
    URI, where the POST's redirects end: Chromium applies `form-action` to them)."""
    if target:
        # a source has no query (CSP matches paths): an application's `?state=…` goes
        path = target.split("?", 1)[0]
        allowed = path.replace(";", "%3B").replace(",", "%2C").replace(" ", "%20")
        policy = CSP.replace("form-action 'self'", f"form-action 'self' {allowed}")
        response.headers["content-security-policy"] = policy
    return response


def docs_csp(script_hashes: Iterable[str] = ()) -> str:
    """The API reference page (Swagger UI, api/reference.py): everything from our own origin,
    and inline only the scripts whose hashes are given (the one that starts Swagger UI)."""
    hashes = "".join(f" 'sha256-{value}'" for value in script_hashes)
    return (
        f"default-src 'self'; script-src 'self'{hashes}; style-src 'self'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


# under /api/docs without a policy of the response's own (the assets, errors): nothing inline
DOCS_CSP = docs_csp()
# Mail previews in the dev mailbox: shown in a sandboxed frame of our own pages only.
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = CSP
        if path.startswith("/api/docs"):
            csp = DOCS_CSP
        elif path.startswith("/dev/mailbox/") and path.endswith("/html"):
            csp = PREVIEW_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                # a response may set its own: the reference page (DOCS_CSP plus its script's
                # hash), an application's sign-in (`allowing_form_target`)
                if not any(name == b"content-security-policy" for name, _value in headers):
                    headers.append((b"content-security-policy", csp.encode()))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"SAMEORIGIN" if csp is PREVIEW_CSP else b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if not any(name == b"cache-control" for name, _value in headers):
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts:
                    headers.append(
                        (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)
