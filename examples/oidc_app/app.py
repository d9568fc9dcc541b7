"""An application that signs its users in with honnin (OpenID Connect) through a standard
client library, Authlib's Starlette client: sign in (in two steps if asked), the ID token's
claims, sign out through honnin's end-session endpoint. See README.md."""

from __future__ import annotations

import html
import json
import os
from urllib.parse import urlencode

from authlib.integrations.starlette_client import OAuth
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

TWO_STEPS = "urn:honnin:acr:2fa"  # honnin's acr value for a sign-in in two distinct steps


def create_app(issuer: str, client_id: str, client_secret: str, base_url: str) -> Starlette:
    oauth = OAuth()
    honnin = oauth.register(
        "honnin",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )

    async def home(request: Request) -> Response:
        claims = request.session.get("claims")
        if claims is None:
            body = (
                '<p><a href="/login">Sign in with honnin</a></p>'
                '<p><a href="/login?two_steps=1">Sign in with honnin, in two steps</a></p>'
            )
        else:
            shown = html.escape(json.dumps(claims, indent=2, ensure_ascii=False))
            body = (
                f"<h1>Signed in</h1><p>The ID token's claims:</p><pre>{shown}</pre>"
                '<form method="post" action="/logout"><button>Sign out</button></form>'
            )
        return HTMLResponse(f"<!doctype html><title>Example app</title>{body}")

    async def login(request: Request) -> Response:
        two_steps = bool(request.query_params.get("two_steps"))
        request.session["two_steps"] = two_steps  # checked when the browser comes back
        wishes = {"acr_values": TWO_STEPS} if two_steps else {}
        if request.query_params.get("lang"):  # the language of honnin's pages
            wishes["ui_locales"] = request.query_params["lang"]
        sent: Response = await honnin.authorize_redirect(request, f"{base_url}/callback", **wishes)
        return sent

    async def callback(request: Request) -> Response:
        token = await honnin.authorize_access_token(request)  # the ID token checked
        claims = dict(token["userinfo"])
        # acr_values is only asked through the browser, which could drop it: check the answer
        if request.session.pop("two_steps", False) and claims.get("acr") != TWO_STEPS:
            return HTMLResponse("<!doctype html><p>Not signed in with two steps.</p>", 403)
        request.session.update(claims=claims, id_token=token["id_token"])
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> Response:
        id_token = request.session.get("id_token", "")
        request.session.clear()
        metadata = await honnin.load_server_metadata()
        query = {"id_token_hint": id_token, "post_logout_redirect_uri": f"{base_url}/"}
        return RedirectResponse(f"{metadata['end_session_endpoint']}?{urlencode(query)}", 303)

    routes = [
        Route("/", home),
        Route("/login", login),
        Route("/callback", callback),
        Route("/logout", logout, methods=["POST"]),
    ]
    secret = os.environ.get("EXAMPLE_SESSION_SECRET") or os.urandom(32).hex()
    return Starlette(routes=routes, middleware=[Middleware(SessionMiddleware, secret_key=secret)])


if __name__ == "__main__":
    import uvicorn

    port = int(os.environ.get("EXAMPLE_PORT", "8001"))
    app = create_app(
        issuer=os.environ.get("HONNIN_ISSUER", "http://localhost:8000"),
        client_id=os.environ["EXAMPLE_CLIENT_ID"],
        client_secret=os.environ["EXAMPLE_CLIENT_SECRET"],
        base_url=f"http://localhost:{port}",
    )
    uvicorn.run(app, host="127.0.0.1", port=port)
