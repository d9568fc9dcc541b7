"""The browser's side of things: its device cookie, the current account, CSRF tokens.

Every browser gets a device token (a random value in an HttpOnly cookie; the server keeps only
a keyed digest). Flows and sessions are bound to it, so a flow can be continued in any tab of
the browser that started it and in no other. Several accounts can be signed in at once; a
second cookie says which one is current.

CSRF: every form carries a token derived from the device token with the server secret, checked
in constant time on every POST (OWASP's synchronizer pattern, without server-side state).
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from honnin.config import Settings
from honnin.crypto import Keyring, same_any
from honnin.errors import HonninError
from honnin.flows.service import Binding
from honnin.i18n import _
from honnin.runtime import runtime_of

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
DEVICE_MAX_AGE = 400 * 86_400  # the longest browsers keep a cookie


class CsrfRejected(HonninError):
    code = "csrf_rejected"


def cookie_names(settings: Settings) -> tuple[str, str]:
    """`__Host-` names (Secure, path /, no domain) except in dev mode on plain HTTP."""
    prefix = "__Host-" if settings.cookie_secure else ""
    return f"{prefix}hn_device", f"{prefix}hn_current"


def set_cookie_header(settings: Settings, name: str, value: str, max_age: int) -> str:
    secure = "; Secure" if settings.cookie_secure else ""
    return f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"


# what applications' servers call (no browser, so no device token for it)
NO_BROWSER = frozenset(
    ("/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/userinfo", "/oauth/jwks",
     "/.well-known/openid-configuration")
)  # fmt: skip
# form POSTs an application's page sends the browser with (OpenID Connect allows them): the
# browser sends no SameSite=Lax cookie with a cross-site POST, so a device token given here
# would replace its own and lose its sessions. They answer a redirect to their GET (a
# top-level GET carries the cookies: `web.oidc`).
CROSS_SITE_POSTS = frozenset(("/oauth/authorize", "/oauth/logout"))


class DeviceCookie:
    """Give every browser that reaches a page a device token, before the page runs."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.device_name = cookie_names(settings)[0]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path.startswith(("/api/", "/static/"))
            or path in NO_BROWSER
            or (scope.get("method") == "POST" and path in CROSS_SITE_POSTS)
        ):
            await self.app(scope, receive, send)
            return
        token = _read_cookie(scope, self.device_name)
        fresh = token is None
        if token is None:
            token = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["device_token"] = token

        async def send_with_cookie(message: Message) -> None:
            if fresh and message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append(
                    "set-cookie",
                    set_cookie_header(self.settings, self.device_name, token, DEVICE_MAX_AGE),
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _read_cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            cookie_name, _sep, cookie_value = part.strip().partition("=")
            if cookie_name == name and _TOKEN.match(cookie_value):
                return str(cookie_value)
    return None


@dataclass(frozen=True)
class Browser:
    """One request's browser: its device, its current account's session id, its address."""

    device_token: str
    current: uuid.UUID | None
    ip: str | None
    keyring: Keyring

    @property
    def binding(self) -> Binding:
        return Binding(device_token=self.device_token, ip=self.ip)

    @property
    def csrf(self) -> str:
        return _token_text(self.keyring.digest("csrf", self.device_token))

    def check_csrf(self, token: str | None) -> None:
        """A form rendered before a rotation of the secret key is still accepted."""
        accepted = [
            _token_text(digest).encode()
            for digest in self.keyring.digests("csrf", self.device_token)
        ]
        if not token or not same_any(token.encode(), accepted):
            raise CsrfRejected(
                _(
                    "This form has expired or cookies are blocked in this browser. Reload the "
                    "page, and allow cookies for this site."
                )
            )


def _token_text(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def browser(request: Request) -> Browser:
    runtime = runtime_of(request)
    current = None
    raw = request.cookies.get(cookie_names(runtime.settings)[1])
    if raw:
        try:
            current = uuid.UUID(raw)
        except ValueError:
            current = None
    return Browser(
        device_token=request.state.device_token,
        current=current,
        ip=request.client.host if request.client else None,
        keyring=runtime.keyring,
    )
