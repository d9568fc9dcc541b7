"""The ceiling of the comparison (DESIGN.md): only the unavoidable work of a verification.

HTTP, a random code and its HMAC, one email over kept-open SMTP connections (8 per worker),
no storage: the verification id carries a nonce and the HMAC, so checking is stateless and
works on any worker. Served by bench/verifications.py with the same workers as honnin.

With BENCH_SMS_SENDSMS (Kannel's sendsms URL with its username, password, smsc and from) it
sends a text instead, as honnin does: a GET to smsbox (kept-open connections) asking for
delivery reports (dlr-mask 31) at BENCH_BASE_URL/api/hooks/sms/0/<nonce>?token=<HMAC>&…, which
it answers 204 once the token is checked, storing nothing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import aiosmtplib
from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel

KEY = os.environ.get("BENCH_STANDIN_KEY", "standin-key").encode()
SMTP_PORT = int(os.environ.get("BENCH_SMTP_PORT", "2525"))
SENDER = "account-security-noreply@accountprotection.example.com"
CONNECTIONS = 8
SENDSMS = os.environ.get("BENCH_SMS_SENDSMS", "")
BASE_URL = os.environ.get("BENCH_BASE_URL", "http://127.0.0.1")
pool: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
texts: list[aiohttp.ClientSession] = []


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if SENDSMS:
        connector = aiohttp.TCPConnector(limit=32)
        async with aiohttp.ClientSession(connector=connector) as session:
            texts.append(session)
            yield
        return
    for _ in range(CONNECTIONS):
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=SMTP_PORT, start_tls=False)
        await client.connect()
        pool.put_nowait(client)
    yield


app = FastAPI(lifespan=lifespan)


class Create(BaseModel):
    to: str
    channel: str = "email"


class Check(BaseModel):
    code: str


def _mac(nonce: bytes, code: str) -> bytes:
    return hmac.new(KEY, nonce + code.encode(), hashlib.sha256).digest()


@app.post("/api/v1/verifications", status_code=201)
async def create(body: Create) -> dict[str, str]:
    code = f"{secrets.randbelow(10**6):06d}"
    nonce = secrets.token_bytes(12)
    if SENDSMS:
        await _text(body.to, code, nonce)
        return {"id": _id(nonce, code), "status": "pending"}
    message = (
        f"From: Example account team <{SENDER}>\r\nTo: {body.to}\r\n"
        f"Subject: Example security code\r\n\r\nSecurity code: {code}\r\n"
    )
    client = await pool.get()
    try:
        await client.sendmail(SENDER, [body.to], message)
    finally:
        pool.put_nowait(client)
    return {"id": _id(nonce, code), "status": "pending"}


def _id(nonce: bytes, code: str) -> str:
    return base64.urlsafe_b64encode(nonce + _mac(nonce, code)).decode()


async def _text(to: str, code: str, nonce: bytes) -> None:
    words = f"Example: {code} is your security code. Don't share it with anyone."
    text = f"{words}\n@127.0.0.1 #{code}"
    token = _mac(nonce, "dlr").hex()
    dlr_url = f"{BASE_URL}/api/hooks/sms/0/{nonce.hex()}?token={token}&status=%d&reply=%A"
    query = {"to": to, "text": text, "charset": "UTF-8", "coding": "0", "dlr-mask": "31",
             "dlr-url": dlr_url}  # fmt: skip
    url = f"{SENDSMS}&{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}"
    async with texts[0].get(url) as response:
        await response.read()
        if response.status not in (200, 202):
            raise HTTPException(502, f"Kannel answered {response.status}")


@app.get("/api/hooks/sms/0/{nonce}")
async def delivery_report(nonce: str, token: str, status: int) -> Response:
    if not hmac.compare_digest(bytes.fromhex(token), _mac(bytes.fromhex(nonce), "dlr")):
        raise HTTPException(403, "forbidden")
    return Response(status_code=204)


@app.post("/api/v1/verifications/{verification_id}/check")
async def check(verification_id: str, body: Check) -> dict[str, str]:
    raw = base64.urlsafe_b64decode(verification_id)
    if not hmac.compare_digest(raw[12:], _mac(raw[:12], body.code)):
        raise HTTPException(400, "invalid_code")
    return {"id": verification_id, "status": "approved"}
