"""Authorization-code exchanges at the OpenID Connect token endpoint: how many a second, and
the CPU each costs.

    .venv/bin/python bench/oidc_exchange.py [--exchanges 400] [--concurrency 8]
        [--alg RS256|ES256] [--offline] [--postgresql]

Everything runs in this one process, with the ASGI app called directly (no sockets, no
uvicorn). The codes are made beforehand, straight in the database as the authorization
endpoint stores them (with a PKCE challenge), so only the exchange is measured: the client's
secret checked, the code spent, the grant made, the ID token and the access token signed,
with `--offline` a refresh token stored, and the transaction committed. CPU is this process's
(`time.process_time`): Authlib's part runs in a worker thread. On PostgreSQL the backends'
CPU is not counted (SQLite's work is in this process).

It prints exchanges a second, one at a time and `--concurrency` at once, the CPU per
exchange, and what signing alone costs (the two JWTs of each exchange, with the same keys),
to show how much of an exchange is cryptography.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import secrets
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvloop

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import create_database, drop_database, honnin_env, pg_url
from bench.http_floor import Asgi, asgi_call

REDIRECT = "https://app.example/callback"


async def post_form(app: Asgi, path: str, form: dict[str, str], auth: str) -> tuple[int, bytes]:
    """One form POST straight into the ASGI app: its status and body."""
    raw = urlencode(form).encode()
    form_type = "application/x-www-form-urlencoded"
    return await asgi_call(app, "POST", path, raw, form_type, {"authorization": auth})


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def prepared(runtime: Any, alg: str, count: int, scope: str) -> tuple[str, list[str]]:
    """A client (its Basic credentials) and `count` codes for it, each with its verifier."""
    from honnin.oidc import store
    from honnin.oidc.clients import Registration

    made = await runtime.oidc_clients.create(
        Registration(name="Bench app", redirect_uris=[REDIRECT], id_token_alg=alg)
    )
    account = await runtime.accounts.create("bench@example.com", secrets.token_urlsafe(16))
    basic = base64.b64encode(f"{made.client.id}:{made.secret}".encode()).decode()
    now, codes = runtime.clock.now(), []
    async with runtime.db.transaction() as tx:
        for _ in range(count):
            code, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
            grant = store.CodeGrant(
                account.id, REDIRECT, scope, secrets.token_urlsafe(16), challenge_of(verifier),
                "S256", now, ("pwd",), "urn:honnin:acr:1fa", uuid.uuid4(),
            )  # fmt: skip
            await store.add_code(tx, code, made.client.id, grant, now, timedelta(hours=1))
            codes.append(f"{code} {verifier}")
    return f"Basic {basic}", codes


async def exchange(app: Asgi, auth: str, code_and_verifier: str) -> None:
    code, verifier = code_and_verifier.split()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    status, body = await post_form(app, "/oauth/token", form, auth)
    assert status == 200, (status, body)


def signing_alone(runtime: Any, alg: str, runs: int) -> float:
    """CPU seconds to sign one exchange's two JWTs (the ID token with `alg`, the access
    token with RS256), with keys like the provider's."""
    from joserfc import jwt
    from joserfc.jwk import ECKey, RSAKey

    rsa = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
    id_key = rsa if alg == "RS256" else ECKey.generate_key("P-256", auto_kid=True)
    claims = {"iss": "http://localhost:8000", "sub": "x" * 32, "aud": ["y" * 36],
              "iat": 1, "exp": 2, "auth_time": 1, "amr": ["pwd"], "acr": "urn:honnin:acr:1fa",
              "nonce": "n" * 22, "sid": "s" * 36}  # fmt: skip
    before = time.process_time()
    for _ in range(runs):
        jwt.encode({"alg": alg, "kid": "k"}, claims, id_key)
        jwt.encode({"alg": "RS256", "kid": "k", "typ": "at+jwt"}, claims, rsa)
    return (time.process_time() - before) / runs


async def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        pg_name = f"bench_oidc_{secrets.token_hex(4)}"
        if args.postgresql:
            await create_database(pg_name)
            url = pg_url(pg_name)
        else:
            url = f"sqlite+aiosqlite:///{folder}/honnin.db"
        try:
            os.environ.update(honnin_env(url, 1, folder, raised=("IP_OIDC_CALLS",)))
            await run(args, url)
        finally:
            if args.postgresql:
                await drop_database(pg_name)


async def run(args: argparse.Namespace, url: str) -> None:
    from honnin.app import create_app  # after the environment is set
    from honnin.migrations import upgrade_async

    await upgrade_async(url)
    app = create_app()
    scope = "openid email offline_access" if args.offline else "openid email"
    warmup = 20
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        total = warmup + 2 * args.exchanges
        auth, codes = await prepared(runtime, args.alg, total, scope)
        for code in codes[:warmup]:
            await exchange(app, auth, code)
        sequential = codes[warmup : warmup + args.exchanges]
        wall, cpu = time.perf_counter(), time.process_time()
        for code in sequential:
            await exchange(app, auth, code)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        concurrent = codes[warmup + args.exchanges :]
        gate = asyncio.Semaphore(args.concurrency)

        async def one(code: str) -> None:
            async with gate:
                await exchange(app, auth, code)

        wall_c, cpu_c = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(code) for code in concurrent))
        wall_c, cpu_c = time.perf_counter() - wall_c, time.process_time() - cpu_c
        signing = signing_alone(runtime, args.alg, 200)
    n = args.exchanges
    database = "PostgreSQL" if args.postgresql else "SQLite"
    print(f"token endpoint, authorization_code + PKCE, client_secret_basic, ID token {args.alg}, "
          f"{'with' if args.offline else 'no'} refresh token, {database}")  # fmt: skip
    print(f"  one at a time : {n / wall:7.1f} exchanges/s, CPU {cpu / n * 1000:6.2f} ms each")
    print(
        f"  {args.concurrency} at once     : {n / wall_c:7.1f} exchanges/s, "
        f"CPU {cpu_c / n * 1000:6.2f} ms each"
    )
    print(f"  signing alone : {signing * 1000:6.2f} ms CPU per exchange (ID + access token)")
    if args.postgresql:
        print("  (PostgreSQL's backends' CPU is not in these figures)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchanges", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--alg", choices=["RS256", "ES256"], default="RS256")
    parser.add_argument("--offline", action="store_true", help="with offline_access")
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    uvloop.run(measure(args))


if __name__ == "__main__":
    main()
