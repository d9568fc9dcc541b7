"""The ceiling of the comparison (DESIGN.md): only the unavoidable work of a verification.

HTTP, a random code and its HMAC, one email over kept-open SMTP connections (8 per worker),
no storage: the verification id carries a nonce and the HMAC, so checking is stateless and
works on any worker. Served by bench/verifications.py with the same workers as honnin.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosmtplib
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

KEY = os.environ.get("BENCH_STANDIN_KEY", "standin-key").encode()
SMTP_PORT = int(os.environ.get("BENCH_SMTP_PORT", "2525"))
SENDER = "account-security-noreply@accountprotection.example.com"
CONNECTIONS = 8
pool: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    for _ in range(CONNECTIONS):
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=SMTP_PORT, start_tls=False)
        await client.connect()
        pool.put_nowait(client)
    yield


app = FastAPI(lifespan=lifespan)


class Create(BaseModel):
    to: str


class Check(BaseModel):
    code: str


def _mac(nonce: bytes, code: str) -> bytes:
    return hmac.new(KEY, nonce + code.encode(), hashlib.sha256).digest()


@app.post("/api/v1/verifications", status_code=201)
async def create(body: Create) -> dict[str, str]:
    code = f"{secrets.randbelow(10**6):06d}"
    nonce = secrets.token_bytes(12)
    message = (
        f"From: Example account team <{SENDER}>\r\nTo: {body.to}\r\n"
        f"Subject: Example security code\r\n\r\nSecurity code: {code}\r\n"
    )
    client = await pool.get()
    try:
        await client.sendmail(SENDER, [body.to], message)
    finally:
        pool.put_nowait(client)
    verification_id = base64.urlsafe_b64encode(nonce + _mac(nonce, code)).decode()
    return {"id": verification_id, "status": "pending"}


@app.post("/api/v1/verifications/{verification_id}/check")
async def check(verification_id: str, body: Check) -> dict[str, str]:
    raw = base64.urlsafe_b64decode(verification_id)
    if not hmac.compare_digest(raw[12:], _mac(raw[:12], body.code)):
        raise HTTPException(400, "invalid_code")
    return {"id": verification_id, "status": "approved"}
