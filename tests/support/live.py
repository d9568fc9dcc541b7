"""The whole service under uvicorn in a thread, on a real loopback port, for clients that block
(schemathesis speaks HTTP with `requests`): the app keeps its own event loop, as in production."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import uvicorn

from honnin.app import create_app
from honnin.config import Settings
from honnin.runtime import Runtime
from tests.support.smtp import free_port

T = TypeVar("T")


@dataclass
class Live:
    base_url: str
    runtime: Runtime
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the server's loop (where its database connections live)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)


@contextmanager
def live_server(settings: Settings) -> Iterator[Live]:
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    loops: list[asyncio.AbstractEventLoop] = []

    async def serve() -> None:
        loops.append(asyncio.get_running_loop())
        await server.serve()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    assert httpx.get(f"{base_url}/healthz").status_code == 200
    try:
        yield Live(base_url, app.state.runtime, loops[0])
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@asynccontextmanager
async def listening(app: Any, port: int) -> AsyncIterator[str]:
    """An app whose lifespan already runs (the functional tests' `app`) also served on a real
    loopback port, on this event loop: for what must call it back (an SMS or voice provider's
    delivery reports). Its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError(f"could not listen on 127.0.0.1:{port}")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
