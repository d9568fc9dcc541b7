"""What the HTTP framework alone costs honnin, per request and per sign-in: the floor below
which no work inside honnin can bring a flow while it is served by FastAPI.

    .venv/bin/python bench/http_floor.py [--flows 300] [--calls 4000]

Everything runs in this one process, on one thread, with the ASGI app called directly (no
sockets, no uvicorn: those cost the same whatever the app), and the CPU time of this thread
is what is counted (`time.thread_time`), so other load on the machine moves the figures
less than wall time would. It prints:

- honnin's own app on SQLite: the CPU of each request of a sign-in by emailed code through
  the JSON flows API (create flow, give the name, ask for the code, submit it, read the
  session) and of the whole flow, the courier's sending included (the SMTP sink runs in a
  thread of its own and is not counted);
- the same shape of request (a bearer-key dependency, a path parameter, a JSON body model, a
  response model) in a bare FastAPI app whose endpoint does nothing, and in a bare ASGI
  callable doing the same parsing, validation and serialisation with the same pydantic
  models: FastAPI's own cost per request, and a framework's least; and this script's own
  part of every figure (building each request and reading its answer), with no app at all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import uvloop
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, TypeAdapter

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.smtp import Sink

from bench.flows import DOMAIN, honnin_accounts, honnin_database
from bench.harness import honnin_env

Asgi = Callable[[dict[str, Any], Any, Any], Coroutine[Any, Any, None]]


async def call(
    app: Asgi,
    method: str,
    path: str,
    body: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One request straight into the ASGI app: its status and JSON body. Not httpx's
    `ASGITransport`, as the tests use: its own work would be in every figure."""
    raw = json.dumps(body).encode() if body is not None else b""
    status, content = await asgi_call(app, method, path, raw, "application/json", headers)
    return status, json.loads(content) if content else None


async def asgi_call(
    app: Asgi,
    method: str,
    path: str,
    raw: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """One request of `raw` straight into the ASGI app: its status and body."""
    sent: list[tuple[bytes, bytes]] = [
        (b"host", b"localhost"),
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(raw)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": sent, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "root_path": "", "state": {},
    }  # fmt: skip
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.Event().wait()  # the client never goes away
        raise AssertionError

    status, chunks = 0, []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


# --- honnin ------------------------------------------------------------------------------------


async def honnin_flows(flows: int) -> tuple[dict[str, float], float]:
    """CPU per request of each step, and per flow in all, of honnin's sign-in by code."""
    sink = Sink().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/honnin.db"
            os.environ.update(honnin_env(url, int(sink.url.rsplit(":", 1)[1]), folder))
            key = await honnin_database(url)
            warmup = max(20, flows // 10)
            await honnin_accounts(url)("f", 0, warmup + flows)
            from honnin.app import create_app  # after the environment is set

            app = create_app()
            async with app.router.lifespan_context(app):  # as the tests' `app` fixture
                await _flows(app, sink, key, range(warmup), defaultdict(list))
                steps: dict[str, list[float]] = defaultdict(list)
                before = time.thread_time()
                await _flows(app, sink, key, range(warmup, warmup + flows), steps)
                total = (time.thread_time() - before) / flows
    finally:
        sink.stop()
    return {step: statistics.fmean(values) for step, values in steps.items()}, total


async def _flows(
    app: Asgi, sink: Sink, key: str, numbers: range, steps: dict[str, list[float]]
) -> None:
    auth = {"Authorization": f"Bearer {key}"}

    async def step(name: str, expect: int, method: str, path: str, **kw: Any) -> Any:
        before = time.thread_time()
        status, body = await call(app, method, path, **kw)
        steps[name].append(time.thread_time() - before)
        assert status == expect, (name, status, body)
        return body

    for i in numbers:
        address = f"f{i}@{DOMAIN}"
        flow = await step("create flow", 201, "POST", "/api/v1/flows", body={"kind": "sign_in"},
                          headers=auth)  # fmt: skip
        url = f"/api/v1/flows/{flow['id']}"
        name = {"action": "submit_identifier", "name": address}
        await step("give name", 200, "POST", url, body=name, headers=auth)
        await step("ask for code", 200, "POST", url, body={"action": "email_code"}, headers=auth)
        while not sink.received:  # noqa: ASYNC110 - the sink is a thread; the courier sends on this loop
            await asyncio.sleep(0.001)
        with sink.lock:
            code = sink.received.pop().code  # one at a time: nothing piles up in the sink
        submit = {"action": "submit_code", "code": code}
        done = await step("submit code", 200, "POST", url, body=submit, headers=auth)
        session = {**auth, "X-Session-Token": done["session_token"]}
        await step("read session", 200, "GET", "/api/v1/sessions/current", headers=session)


# --- the same shape of request without honnin ---------------------------------------------------


class Action(BaseModel):
    action: str
    code: str | None = None


class State(BaseModel):
    id: str
    state: str
    actions: list[str]
    name: str | None = None


_bearer = HTTPBearer(auto_error=False)


async def _client(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    return credentials.credentials if credentials else ""


def bare_fastapi() -> Asgi:
    router = APIRouter(prefix="/api/v1/flows")

    @router.post("/{flow_id}", response_model=State)
    async def act(
        flow_id: str, body: Action, client: Annotated[str, Depends(_client)], request: Request
    ) -> State:
        return State(id=flow_id, state="code", actions=["submit_code", "resend"], name=client)

    app = FastAPI()
    app.include_router(router)
    return app


_STATE = TypeAdapter(State)


async def bare_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The least any framework does: route, authenticate, validate, serialise, answer."""
    message = await receive()
    headers = dict(scope["headers"])
    _scheme, _, client = headers.get(b"authorization", b"").decode().partition(" ")
    flow_id = scope["path"].rsplit("/", 1)[1]
    Action.model_validate_json(message["body"])
    state = State(id=flow_id, state="code", actions=["submit_code", "resend"], name=client)
    out = _STATE.dump_json(state)
    start = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(out))]
    await send({"type": "http.response.start", "status": 200, "headers": start})
    await send({"type": "http.response.body", "body": out})


async def answer_at_once(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """No app at all: what `call` itself costs (building the request, reading the answer)."""
    await receive()
    start = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": start})
    await send({"type": "http.response.body", "body": b"{}"})


async def per_call(app: Asgi, calls: int) -> float:
    body, auth = {"action": "submit_code", "code": "123456"}, {"Authorization": "Bearer k"}
    for _ in range(calls // 10):
        await call(app, "POST", "/api/v1/flows/f", body=body, headers=auth)
    before = time.thread_time()
    for _ in range(calls):
        status, _answer = await call(app, "POST", "/api/v1/flows/f", body=body, headers=auth)
        assert status == 200
    return (time.thread_time() - before) / calls


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--calls", type=int, default=4000)
    args = parser.parse_args()
    fastapi_call = await per_call(bare_fastapi(), args.calls)
    asgi_call = await per_call(bare_asgi, args.calls)
    harness = await per_call(answer_at_once, args.calls)
    steps, flow = await honnin_flows(args.flows)
    fastapi_again = await per_call(bare_fastapi(), args.calls)  # the machine drifts: bracket
    fastapi_call = (fastapi_call + fastapi_again) / 2
    requests = len(steps)
    print(f"CPU of this thread, in-process ASGI calls ({args.flows} flows, {args.calls} calls)")
    print("honnin, SQLite, sign-in by emailed code through the JSON flows API:")
    for name, seconds in steps.items():
        print(f"  {name:16} {seconds * 1e3:7.3f} ms")
    print(f"  {'whole flow':16} {flow * 1e3:7.3f} ms (the courier's sending included)")
    print("the same shape of request, the endpoint doing nothing:")
    print(f"  bare FastAPI     {fastapi_call * 1e3:7.3f} ms per request")
    print(f"  bare ASGI        {asgi_call * 1e3:7.3f} ms per request")
    print(f"  (no app at all   {harness * 1e3:7.3f} ms: this script's own part of each figure)")
    floor = requests * fastapi_call
    print(
        f"FastAPI's floor for the flow's {requests} requests: {floor * 1e3:.2f} ms "
        f"({floor / flow:.0%} of honnin's flow); a bare ASGI layer's: "
        f"{requests * asgi_call * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    uvloop.run(main())
